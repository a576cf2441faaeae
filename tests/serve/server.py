"""A real `tactful serve` in a subprocess, on a free loopback port, for real clients."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field

STARTED = re.compile(r" on (http://127\.0\.0\.1:\d+); Ctrl-C to stop")


@dataclass
class Server:
    proc: subprocess.Popen[str]
    url: str = ""
    lines: list[str] = field(default_factory=list)  # stderr so far

    @property
    def stderr(self) -> str:
        return "".join(self.lines)

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 30) -> int:
        """Send ``sig`` and wait for the exit code."""
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        return self.proc.wait(timeout)


def start(*args: str, timeout: float = 120, env: dict[str, str] | None = None) -> Server:
    """Start `tactful serve --port 0 ARGS` and wait until it says where it listens."""
    command = [sys.executable, "-m", "tactful", "serve", "--port", "0", *args]
    proc = subprocess.Popen(command, stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True,
                            env={**os.environ, **(env or {})})
    server = Server(proc)
    ready = threading.Event()

    def read() -> None:  # stderr keeps being read, so the server never blocks on a full pipe
        assert proc.stderr is not None
        for line in proc.stderr:
            server.lines.append(line)
            found = STARTED.search(line)
            if found:
                server.url = found.group(1)
                ready.set()
        ready.set()

    threading.Thread(target=read, daemon=True).start()
    deadline = time.monotonic() + timeout
    while not ready.wait(0.1):
        if time.monotonic() > deadline:
            proc.kill()
            raise AssertionError(f"tactful serve did not start in {timeout} s: {server.stderr}")
    if not server.url:
        raise AssertionError(f"tactful serve exited {proc.wait()}: {server.stderr}")
    return server

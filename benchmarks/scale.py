"""Scale-out: records/s on one and two real OpenAI-compatible servers, and the tool's overhead.

Starts llama-cpp-python's server (``python -m llama_cpp.server``, one thread each, the
small pinned SmolLM2 unless --model names another fetched GGUF) and judges the same
texts, side by side in one run:

- one server with --jobs 1, 2 and 4; two servers with --jobs 1, 2 and 4 per host
  (through ``tactful.Moderator``, what classify runs on; no results cache);
- a direct HTTP loop that posts the very same requests to one server, one at a time;
- the tool's overhead per record: the wall time of a one-server --jobs 1 run outside the
  backend's HTTP exchanges.

Usage (from the repository root, with tactful[embedded,server] installed)::

    python benchmarks/scale.py                       # 48 SMS texts from ../shared/bench
    python benchmarks/scale.py --limit 96 --model qwen2.5-coder-1.5b

On a 2-core machine two servers share the same two cores, so the second host adds no
compute here: the numbers show the tool's spreading and overhead, not a cluster's speed.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import sys
import time
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tactful import Moderator  # noqa: E402
from tactful.backends import Backend, open_backend  # noqa: E402
from tactful.backends.model_store import PINNED, pinned_path  # noqa: E402
from tactful.records import InputRecord  # noqa: E402
from tactful.settings import Overrides, Settings, resolve  # noqa: E402

from tests.llama_server import llama_server  # noqa: E402  (the launcher the tests use)

DEFAULT_DATA = ROOT.parent / "shared" / "bench" / "sms-spam" / "dev.jsonl"


def texts_from(path: Path, limit: int) -> list[str]:
    if not path.is_file():
        return [line for line in (ROOT / "samples" / "comments.txt").read_text().splitlines() if line.strip()][:limit]
    rows = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    return [row["text"] for row in rows][:limit]


def profile_file(folder: Path) -> Path:
    path = folder / "scale.toml"
    path.write_text("version = 1\n[categories.spam]\nblocked = true\n")
    return path


def timed_run(profile: Path, hosts: list[str], jobs: int, texts: list[str]) -> tuple[float, int, list[int]]:
    """Seconds per record (first record excluded: connection set-up), errors, records per host."""
    with Moderator.from_profile(profile, backend="openai", hosts=hosts) as moderator:
        moderator.classify(texts[:1])  # warm: the server's prompt cache, the connection
        started = time.perf_counter()
        records = moderator.classify(texts[1:], jobs=jobs)
        elapsed = time.perf_counter() - started
        served = list(moderator.served().values())
    errors = sum(1 for r in records if r["moderation"]["error"])
    return elapsed / len(records), errors, served


def request_bodies(profile: Path, host: str, texts: list[str]) -> list[dict[str, Any]]:
    """The exact bodies the openai backend posts for these texts (the form this server takes)."""
    settings = _one_server(profile, host)
    with _opened(settings) as backend, Moderator(settings, backend=backend) as moderator:
        return [backend.request_body(moderator.first_request(InputRecord("", text, {}, "bench")), "json_object")  # type: ignore[attr-defined]
                for text in texts]


def direct_loop(host: str, bodies: list[dict[str, Any]]) -> float:
    """Seconds per record for the same requests posted by a bare loop, nothing else done."""
    with httpx.Client(timeout=120) as client:
        client.post(f"{host}/chat/completions", json=bodies[0]).raise_for_status()
        started = time.perf_counter()
        for body in bodies[1:]:
            client.post(f"{host}/chat/completions", json=body).raise_for_status()
        return (time.perf_counter() - started) / (len(bodies) - 1)


def tool_overhead(profile: Path, host: str, texts: list[str]) -> tuple[float, float]:
    """Seconds per record spent outside the HTTP exchange, and inside it (one server, --jobs 1).

    The backend's own HTTP client is timed, so what is left of the wall time is the tool:
    prompt building, parsing, scores, ordering, record output. (A difference against the
    bare loop would be drowned by the server's own drift, a third of its speed here.)
    """
    settings = _one_server(profile, host)
    with _opened(settings) as backend, Moderator(settings, backend=backend) as moderator:
        client = backend.client  # type: ignore[attr-defined]
        inner = client.post
        spent = [0.0]

        def timed_post(*args: Any, **kwargs: Any) -> Any:
            started = time.perf_counter()
            try:
                return inner(*args, **kwargs)
            finally:
                spent[0] += time.perf_counter() - started

        moderator.classify(texts[:1])
        client.post = timed_post
        started = time.perf_counter()
        records = moderator.classify(texts[1:])
        elapsed = time.perf_counter() - started
    return (elapsed - spent[0]) / len(records), spent[0] / len(records)


def _one_server(profile: Path, host: str) -> Settings:
    return resolve(Overrides(profile=profile, backend="openai", hosts=[host]))


def _opened(settings: Settings) -> contextlib.closing[Backend]:
    """The openai backend the moderator runs on, opened here so that its HTTP client can be timed."""
    return contextlib.closing(open_backend(settings.profile.model, settings.retry))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--limit", type=int, default=48)
    parser.add_argument("--model", default="smollm2-135m", choices=sorted(PINNED))
    parser.add_argument("--jobs", type=int, nargs="+", default=[1, 2, 4])
    args = parser.parse_args()
    texts = texts_from(args.data, args.limit)
    model = pinned_path(PINNED[args.model])
    import tempfile

    with tempfile.TemporaryDirectory() as tmp, contextlib.ExitStack() as stack:
        profile = profile_file(Path(tmp))
        first, _ = stack.enter_context(llama_server(model=model))
        second, _ = stack.enter_context(llama_server(model=model))
        print(f"{len(texts)} texts from {args.data.name if args.data.is_file() else 'samples'}, model {args.model}, "
              "llama_cpp.server x2 (1 thread each)\n")
        bodies = request_bodies(profile, first, texts)
        direct = direct_loop(first, bodies)
        print("| setup | --jobs per host | s/record | records/s | records per host | errors |")
        print("|---|---|---|---|---|---|")
        print(f"| direct HTTP loop, 1 server | 1 | {direct:.3f} | {1 / direct:.2f} | {len(texts) - 1} | 0 |")
        for hosts, label in (([first], "tactful, 1 server"), ([first, second], "tactful, 2 servers")):
            for jobs in args.jobs:
                per, errors, served = timed_run(profile, hosts, jobs, texts)
                shares = " / ".join(map(str, served)) or str(len(texts) - 1)
                print(f"| {label} | {jobs} | {per:.3f} | {1 / per:.2f} | {shares} | {errors} |")
        outside, inside = tool_overhead(profile, first, texts)
        print(f"\ntool overhead per record (1 server, --jobs 1): {outside * 1000:.1f} ms outside the HTTP exchange "
              f"against {inside * 1000:.0f} ms inside it ({outside / (outside + inside) * 100:.2f}% of the wall time)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""Throughput benchmark for batch labelling: prints numbers, asserts nothing.

Three runs over the same records, one request at a time unless --jobs says otherwise:
  (a) naive:   the paper's way: one message that starts with the text, so no two prompts
               share a prefix, and a rationale for every item (--explain);
  (b) tactful: the defaults: fixed prefix first and byte-identical, the text last, no
               rationale;
  (c) cached:  (b) again with the results cache warm.
Per item: backend time, prompt tokens evaluated and output tokens (as the backend reports
them), and tool overhead: wall time outside backend calls.

Then, always against a fake Ollama served from this process, the whole CLI in a
subprocess: peak memory (max RSS) for inputs of growing size, and the wall time of a
cached re-run.

    python benchmarks/throughput.py                                  # fake server only
    python benchmarks/throughput.py --backend embedded --model ~/models/qwen2.5-3b.gguf --records 200
    python benchmarks/throughput.py --backend ollama --model qwen2.5:3b --records 200
    python benchmarks/throughput.py --backend embedded --model qwen2.5-coder-1.5b --limit --records 60 \\
        --data ../shared/bench/sms-spam/dev.jsonl   # the distance to the hardware's limit

Numbers from the fake server measure tactful, not a model: its token counts are constants.
Ollama's prompt_eval_count includes prefix tokens it reused from cache, so with Ollama the
saving of (b) over (a) shows in backend time, not in prompt tokens.
"""

from __future__ import annotations

import argparse
import itertools
import json
import logging
import os
import subprocess
import sys
import tempfile
import threading
import time
from collections import deque
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # for tests.fake_ollama

from tactful.backends import open_backend  # noqa: E402
from tactful.backends.base import Backend, BackendInfo, ChatRequest, Completion, Probe, ProbeRequest  # noqa: E402
from tactful.engine.cache import ResultCache  # noqa: E402
from tactful.engine.prompt import NO_PARTS, ItemParts, Prompt, PromptBuilder, user_turn  # noqa: E402
from tactful.io.writers import JsonlWriter  # noqa: E402
from tactful.moderator import Moderator  # noqa: E402
from tactful.paths import ENV_MODELS_DIR, models_dir  # noqa: E402
from tactful.profile.load import Profile  # noqa: E402
from tactful.records import InputRecord  # noqa: E402
from tactful.settings import Overrides, Settings, resolve  # noqa: E402

BENCH_DATA = ROOT.parent / "shared" / "bench"


# ---------------------------------------------------------------- the backend, timed


class TimedBackend:
    """Wraps a backend and adds up the time spent inside ``complete``."""

    def __init__(self, inner: Backend) -> None:
        self.inner = inner
        self.name = inner.name
        self.model = inner.model
        self.seconds = 0.0
        self._lock = threading.Lock()

    def complete(self, request: ChatRequest) -> Completion:
        return self._timed(lambda: self.inner.complete(request))

    def _timed(self, call):  # type: ignore[no-untyped-def]
        start = time.perf_counter()
        try:
            return call()
        finally:
            with self._lock:
                self.seconds += time.perf_counter() - start

    def model_id(self) -> str:
        return self.inner.model_id()

    def info(self) -> BackendInfo:
        return self.inner.info()

    def close(self) -> None:
        self.inner.close()


class TimedProber(TimedBackend):
    """The same for a backend that reads probabilities in one pass (the embedded one)."""

    def probe(self, request: ProbeRequest) -> Probe:
        return self._timed(lambda: self.inner.probe(request))  # type: ignore[attr-defined]


def timed_backend(inner: Backend) -> TimedBackend:
    return TimedProber(inner) if hasattr(inner, "probe") else TimedBackend(inner)


class TextFirstBuilder(PromptBuilder):
    """The naive layout: the text opens the only message, the instructions follow it."""

    def build(self, text: str, item_examples: Sequence[object] = (), parts: ItemParts = NO_PARTS) -> Prompt:
        instructions = "\n\n".join(m["content"] for m in self.fixed_messages)
        content = user_turn(text)["content"] + "\n\n" + instructions
        return Prompt([{"role": "user", "content": content}], self.schema, self.fingerprint)


# ---------------------------------------------------------------- one measured run


@dataclass
class Row:
    name: str
    items: int
    wall: float
    backend: float
    prompt_tokens: int
    output_tokens: int
    cached: int

    def line(self) -> str:
        n = max(self.items, 1)
        overhead = max(self.wall - self.backend, 0.0)
        return (
            f"{self.name:<10} {self.items:>6} {self.items / self.wall:>9.1f} {1000 * self.backend / n:>11.2f} "
            f"{self.prompt_tokens / n:>9.1f} {self.output_tokens / n:>8.1f} {1000 * overhead / n:>11.3f} "
            f"{100 * overhead / self.wall:>9.1f}% {self.cached:>6}"
        )


HEADER = (
    f"{'run':<10} {'items':>6} {'items/s':>9} {'backend ms':>11} {'prompt tk':>9} {'out tk':>8} "
    f"{'overhead ms':>11} {'overhead':>10} {'cached':>6}"
)


def measure(name: str, moderator: Moderator, timed: TimedBackend, records: list[InputRecord], jobs: int) -> Row:
    timed.seconds = 0.0
    prompt = output = cached = 0
    start = time.perf_counter()
    with open(os.devnull, "w", encoding="utf-8") as sink:
        writer = JsonlWriter(sink)
        for result in moderator.results(iter(records), jobs):
            writer.write(result)
            prompt += result.prompt_tokens or 0
            output += result.output_tokens or 0
            cached += result.cached
    wall = time.perf_counter() - start
    return Row(name, len(records), wall, timed.seconds, prompt, output, cached)


def compare_layouts(profile: Profile, records: list[InputRecord], jobs: int, cache_dir: Path) -> None:
    timed = timed_backend(open_backend(profile.model))
    naive_profile = profile.with_overrides(explain=True)
    naive = Moderator(_settings(naive_profile), backend=timed)  # type: ignore[arg-type]
    with_layout(naive, TextFirstBuilder(naive_profile, []))
    tactful = Moderator(_settings(profile), backend=timed)  # type: ignore[arg-type]
    tactful._classifier.cache = ResultCache(cache_dir / "results.sqlite")  # the bench's own cache file
    print(HEADER)
    try:
        for name, moderator in (("naive", naive), ("tactful", tactful), ("cached", tactful)):
            print(measure(name, moderator, timed, records, jobs).line(), flush=True)
    finally:
        tactful.close()
        timed.close()


def with_layout(moderator: Moderator, builder: PromptBuilder) -> None:
    """The moderator's classifier made to lay out its prompt another way (the engine's
    internals: a benchmark compares what no command offers)."""
    moderator._classifier.builder = builder


# ---------------------------------------------------------------- the distance to the limit (embedded)


def per_text(name: str, seconds: list[float], tokens: list[int]) -> tuple[str, float]:
    """One row: steady-state seconds per text (the first text excluded) and tokens evaluated."""
    steady = seconds[1:] or seconds
    mean = sum(steady) / len(steady)
    line = (f"{name:<34} {len(seconds):>6} {seconds[0]:>9.2f} {mean:>10.3f} "
            f"{sum(tokens[1:] or tokens) / len(tokens[1:] or tokens):>10.1f}")
    return line, mean


def limit_comparison(profile: Profile, records: list[InputRecord]) -> None:
    """(a) a bare llama.cpp probe of each text's own tokens, (b) tactful's classify, (c) text-first."""
    backend = open_backend(profile.model)
    llm = backend.llm  # type: ignore[attr-defined]
    texts = [r.text or "" for r in records]
    print(f"\n{'embedded, one process, same texts':<34} {'texts':>6} {'first s':>9} {'s/text':>10} {'tokens':>10}")
    bare_s, bare_t = [], []
    for text in texts:
        start = time.perf_counter()
        tokens = llm.tokenize(text.encode("utf-8"), add_bos=False) or [llm.token_bos()]
        llm.n_tokens = 0
        llm.eval(tokens)
        llm._ctx.get_logits_ith(-1)  # the one label position the limit reads
        bare_s.append(time.perf_counter() - start)
        bare_t.append(len(tokens))
    line, limit = per_text("(a) bare probe: the text's tokens", bare_s, bare_t)
    print(line, flush=True)
    settings = _settings(profile)
    tactful = Moderator(settings, backend=backend, check_calibration=False)
    naive = Moderator(settings, backend=backend, check_calibration=False)
    with_layout(naive, TextFirstBuilder(profile, []))
    means = {}
    # The text-first layout evaluates its whole prompt for every text (~10 s each here): a
    # dozen texts show its steady state.
    for name, moderator, subset in (("(b) tactful classify", tactful, records),
                                     ("(c) text-first prompt, one pass", naive, records[:12])):
        llm.reset()
        seconds, tokens = [], []
        for record in subset:
            start = time.perf_counter()
            result = moderator.judge(record)
            seconds.append(time.perf_counter() - start)
            tokens.append(result.prompt_tokens or 0)
        line, means[name] = per_text(name, seconds, tokens)
        print(line, flush=True)
    print(f"ratio (b)/(a), steady state: {means['(b) tactful classify'] / limit:.2f}")
    backend.close()


def first_verdict(profile: Profile, work: Path) -> None:
    """Process start to first verdict for one short text: cold, then with the saved prompt state."""
    home = work / "first-verdict-cache"
    args = ["classify", "--backend", "embedded", "--model", profile.model.name, "--no-cache", "-q"]
    rows = []
    for name in ("cold (nothing saved)", "warm (saved prompt state)"):
        start = time.perf_counter()
        env = {**os.environ, "XDG_CACHE_HOME": str(home)}
        subprocess.run([sys.executable, "-m", "tactful", *args], input="thanks, that fixed it\n", text=True,
                       env=env, stdout=subprocess.DEVNULL, check=True)
        rows.append(f"  {name:<28} {time.perf_counter() - start:>6.2f} s")
    print("\nnew process judging one short text, wall time from start to exit:", *rows, sep="\n")


# ---------------------------------------------------------------- records


def load_texts(data: Path | None) -> list[str]:
    paths = [data] if data else sorted(BENCH_DATA.glob("*/dev.jsonl")) or [ROOT / "samples" / "comments.txt"]
    texts: list[str] = []
    for path in paths:
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                texts.append(json.loads(line).get("text", "") if path.suffix == ".jsonl" else line)
    return [t for t in texts if t]


def make_records(texts: list[str], count: int) -> list[InputRecord]:
    """``count`` records cycling through the texts; repeats get a suffix so each is new."""
    records = []
    for i, text in zip(range(count), itertools.cycle(texts)):
        round_ = i // len(texts)
        body = text if round_ == 0 else f"{text} ({round_})"
        records.append(InputRecord(str(i), body, {"id": i, "text": body}, f"bench:{i}"))
    return records


# ---------------------------------------------------------------- the CLI in a subprocess


@contextmanager
def fake_server() -> Iterator[str]:
    """A fake Ollama in its own process, so that it does not compete with tactful for the GIL."""
    proc = subprocess.Popen([sys.executable, __file__, "--serve-fake"], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None and proc.stdin is not None
    try:
        yield proc.stdout.readline().strip()
    finally:
        proc.stdin.close()
        proc.wait(timeout=30)


def serve_fake() -> None:
    """Serve the fake Ollama of the tests; print its URL; stop when stdin closes."""
    from pytest_httpserver import HTTPServer

    from tests.fake_ollama import FakeOllama

    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # no line per request
    server = HTTPServer(threaded=True)
    server.start()
    # Keep only the last few request bodies: 100,000 of them would weigh on this process.
    FakeOllama(server, requests=deque(maxlen=8)).install()  # type: ignore[arg-type]
    print(server.url_for("").rstrip("/"), flush=True)
    sys.stdin.read()
    server.stop()


def write_lines(path: Path, count: int) -> None:
    with open(path, "w", encoding="utf-8") as handle:
        for i in range(count):
            handle.write(json.dumps({"id": i, "text": f"post number {i}: see the docs{' and win a prize' if i % 9 == 0 else ''}"}) + "\n")


# Run the CLI and note its own high-water mark on the way out. (ru_maxrss from wait4 would
# not do: Linux carries the forking parent's peak across exec.)
PEAK_PROBE = """
import atexit, os, runpy, sys
def note():
    with open("/proc/self/status") as status, open(os.environ["BENCH_PEAK_FILE"], "w") as out:
        out.write(next(line for line in status if line.startswith("VmHWM")).split()[1])
atexit.register(note)
sys.argv = ["tactful", *sys.argv[1:]]
runpy.run_module("tactful", run_name="__main__")
"""


def cli_run(args: list[str], cache_home: Path) -> tuple[float, int]:
    """Wall seconds and peak RSS in MiB of one `tactful` process."""
    peak_file = cache_home.with_suffix(".peak")
    env = {**os.environ, "XDG_CACHE_HOME": str(cache_home), "BENCH_PEAK_FILE": str(peak_file)}
    start = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", PEAK_PROBE, *args], env=env, stdout=subprocess.DEVNULL, check=False)
    wall = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"tactful {' '.join(args)} failed with exit code {done.returncode}")
    return wall, int(peak_file.read_text()) // 1024  # VmHWM is in KiB


def memory_and_cache(sizes: list[int], cached_lines: int, jobs: int, work: Path) -> None:
    with fake_server() as url:
        base = ["classify", "--host", url, "--model", "fake-model:1b", "--quiet", "-j", str(jobs)]
        print(f"\n{'input lines':>11} {'wall s':>8} {'items/s':>9} {'peak RSS MiB':>13}   (whole CLI, fake server, cache on)")
        for size in sizes:
            data = work / f"in{size}.jsonl"
            write_lines(data, size)
            wall, rss = cli_run([*base, "-o", str(work / f"out{size}.jsonl"), str(data)], work / f"cache{size}")
            print(f"{size:>11} {wall:>8.1f} {size / wall:>9.0f} {rss:>13}", flush=True)
        data = work / f"in{cached_lines}.jsonl"
        if not data.exists():
            write_lines(data, cached_lines)
        home = work / "cache-rerun"
        first, _ = cli_run([*base, "-o", str(work / "first.jsonl"), str(data)], home)
        again, rss = cli_run([*base, "-o", str(work / "again.jsonl"), str(data)], home)
        print(f"\ncached re-run of {cached_lines} records: {again:.2f} s ({cached_lines / again:.0f}/s, "
              f"peak RSS {rss} MiB); the first run took {first:.2f} s")


# ---------------------------------------------------------------- entry point


def main() -> None:
    if sys.argv[1:] == ["--serve-fake"]:
        serve_fake()
        return
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--backend", choices=["fake", "ollama", "embedded"], default="fake")
    parser.add_argument("--model", help="Ollama model name, or GGUF path for --backend embedded")
    parser.add_argument("--host", help="Ollama URL (--backend ollama)")
    parser.add_argument("--profile", type=Path, help="profile TOML (default: built-in)")
    parser.add_argument("--data", type=Path, help="JSONL with a text field, or a text file (default: ../shared/bench dev sets)")
    parser.add_argument("--records", type=int, default=300, help="records for runs (a)-(c)")
    parser.add_argument("--jobs", type=int, default=1, help="requests in flight (1 measures overhead exactly)")
    parser.add_argument("--memory-lines", default="10000,100000", help="input sizes for the peak-memory runs")
    parser.add_argument("--cached-lines", type=int, default=10000, help="records in the cached re-run")
    parser.add_argument("--skip-cli", action="store_true", help="skip the memory and cached re-run part")
    parser.add_argument("--limit", action="store_true",
                        help="embedded only: (a) bare probe vs (b) tactful vs (c) text-first, and first-verdict times")
    args = parser.parse_args()
    if args.limit:
        os.environ.setdefault(ENV_MODELS_DIR, str(models_dir()))  # the fresh cache homes still find the models
        profile = _profile(args, None)
        records = make_records(load_texts(args.data), args.records)
        print(f"model {profile.model.name}, {len(records)} texts, default profile (binary)")
        limit_comparison(profile, records)
        with tempfile.TemporaryDirectory(prefix="tactful-bench-") as tmp:
            first_verdict(profile, Path(tmp))
        return

    with tempfile.TemporaryDirectory(prefix="tactful-bench-") as tmp:
        work = Path(tmp)
        records = make_records(load_texts(args.data), args.records)
        with (fake_server() if args.backend == "fake" else _no_server()) as url:
            profile = _profile(args, url)
            print(f"backend {profile.model.backend}, model {profile.model.name}, {len(records)} records, jobs {args.jobs}")
            compare_layouts(profile, records, args.jobs, work)
        if not args.skip_cli:
            sizes = [int(s) for s in args.memory_lines.split(",") if s]
            memory_and_cache(sizes, args.cached_lines, max(args.jobs, 4), work)


def _settings(profile: Profile) -> Settings:
    base = resolve(Overrides())
    return replace(base, profile=profile)


@contextmanager
def _no_server() -> Iterator[None]:
    yield None


def _profile(args: argparse.Namespace, url: str | None) -> Profile:
    os.environ.setdefault("XDG_CONFIG_HOME", tempfile.mkdtemp(prefix="tactful-bench-config-"))
    profile = resolve(Overrides(profile=args.profile)).profile
    backend = "ollama" if args.backend == "fake" else args.backend
    name = "fake-model:1b" if args.backend == "fake" else (args.model or profile.model.name)
    host = url or args.host or profile.model.host
    # hosts as well: resolved settings list the server there, and it is the one used.
    return replace(profile, model=replace(profile.model, backend=backend, name=name, host=host, hosts=(host,) if host else ()))


if __name__ == "__main__":
    main()

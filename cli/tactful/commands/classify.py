"""`tactful classify`: label text from files, JSONL exports or stdin."""

from __future__ import annotations

import json
import shlex
import sys
from collections.abc import Iterable
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path

from rich.console import Console

from tactful.backends.base import BackendInfo, ChatRequest, Completion
from tactful.commands.common import ModelChoice, load_settings, make_backend, make_classifier
from tactful.engine.classifier import Classifier
from tactful.engine.stream import classify_stream
from tactful.errors import EXIT_FLAGGED, EXIT_OK, BackendError, UsageError
from tactful.io.interrupts import Stopped, stop_on_signals
from tactful.io.output_file import OutputFile
from tactful.io.progress import ProgressBar, RunStats, estimate_total
from tactful.io.readers import STDIN, ReadOptions, read_inputs, resolve_paths
from tactful.io.writers import JsonlWriter, ResultWriter, TableWriter
from tactful.profile.load import Profile
from tactful.records import InputRecord


@dataclass(frozen=True)
class ClassifyOptions:
    read: ReadOptions
    output_format: str | None = None  # None: table on a terminal, else JSONL
    output: Path | None = None
    fail_on_flagged: bool = False
    show_prompt: bool = False
    scores: bool = False
    jobs: int = 1
    resume: bool = False
    force: bool = False
    use_cache: bool = True
    quiet: bool = False
    argv: tuple[str, ...] = ()  # the command line, to print how to resume


def classify(paths: list[str], choice: ModelChoice, options: ClassifyOptions) -> int:
    _check(options)
    profile, _ = load_settings(choice)
    files = resolve_paths(paths)
    records = read_inputs(files, options.read)
    if options.show_prompt:
        return _show_prompt(records, profile)
    backend = make_backend(profile, choice, scores=options.scores)
    classifier = make_classifier(profile, backend, scores=options.scores, use_cache=options.use_cache)
    try:
        out = OutputFile.open(options.output, options.resume, options.force, options.read.id_field) if options.output else None
        stats = _run(out.pending(records) if out else records, classifier, out, options, files)
    except Stopped as stop:
        return stop.exit_code
    finally:
        classifier.close()
        backend.close()
    return EXIT_FLAGGED if options.fail_on_flagged and stats.flagged else EXIT_OK


def _check(options: ClassifyOptions) -> None:
    if (options.resume or options.force) and options.output is None:
        raise UsageError("--resume and --force work on an output file: add --output FILE")
    if options.resume and options.force:
        raise UsageError("--resume keeps the output file and --force overwrites it: choose one")
    if options.resume and options.output_format == "table":
        raise UsageError("--resume needs JSONL output: drop --format table")


def _run(records: Iterable[InputRecord], classifier: Classifier, out: OutputFile | None,
         options: ClassifyOptions, files: list[str]) -> RunStats:
    """Classify and write; on a signal or a dead backend, close cleanly and say how to go on."""
    stats = RunStats()
    stream = out.handle if out else sys.stdout
    writer = _writer(options, stream)
    show_bar = not options.quiet and sys.stderr.isatty()
    total = estimate_total(files, options.read) if show_bar else None
    if total is not None and out is not None:
        total = max(total - out.finished.lines, 0)
    reason = None
    try:
        with stop_on_signals(), ProgressBar(show_bar, total) as bar, \
                closing(classify_stream(records, classifier.classify, options.jobs)) as results:
            for result in results:
                writer.write(result)
                stats.add(result)
                bar.update(stats)
    except Stopped as stop:
        reason = stop.reason
        raise
    except BackendError:
        reason = "stopped"
        raise
    finally:
        writer.close()
        if out is not None:
            out.close()
        # A backend that failed before the first record has nothing to summarise or
        # resume: its own one-line error says it all.
        nothing_done = reason == "stopped" and stats.done == 0
        if not options.quiet and not nothing_done:
            print(stats.summary(out.skipped if out else 0), file=sys.stderr, flush=True)
        if reason and not nothing_done:
            _stopped(reason, out, options, files)
    return stats


def _stopped(reason: str, out: OutputFile | None, options: ClassifyOptions, files: list[str]) -> None:
    if out is None:
        print(f"tactful: {reason}; the records above are complete", file=sys.stderr, flush=True)
        return
    again = " (with the same input on stdin)" if STDIN in files else ""
    print(
        f"tactful: {reason}; {out.path} holds complete lines only. To go on: {resume_command(options.argv)}{again}",
        file=sys.stderr, flush=True,
    )


def resume_command(argv: Iterable[str]) -> str:
    args = [a for a in argv if a != "--force"]
    if "--resume" not in args:
        args.append("--resume")
    return shlex.join(["tactful", *args])


def _show_prompt(records: Iterable[InputRecord], profile: Profile) -> int:
    """Print the exact request for the first readable input, without calling a model."""
    classifier = make_classifier(profile, backend=PromptOnly(profile.model.name))
    first = next((r.text for r in records if r.text is not None), "")
    request = classifier.first_request(first)
    shown = {
        "model": profile.model.name,
        "backend": profile.model.backend,
        "prompt": classifier.builder.fingerprint,
        "format": request.schema,
        "messages": request.messages,
    }
    json.dump(shown, sys.stdout, ensure_ascii=False, indent=2)
    sys.stdout.write("\n")
    return EXIT_OK


class PromptOnly:
    """The backend for --show-prompt: prompts are built, nothing is ever sent."""

    name = "none"

    def __init__(self, model: str) -> None:
        self.model = model

    def complete(self, request: ChatRequest) -> Completion:
        raise UsageError("--show-prompt only prints the request; it never sends one")

    def model_id(self) -> str:
        return self.model

    def info(self) -> BackendInfo:
        return BackendInfo("none", "", None, self.model, False, "--show-prompt sends nothing")

    def close(self) -> None:
        """Nothing was opened."""


def _writer(options: ClassifyOptions, stream) -> ResultWriter:  # type: ignore[no-untyped-def]
    fmt = options.output_format
    if fmt is None:
        fmt = "table" if options.output is None and sys.stdout.isatty() else "jsonl"
    if fmt == "table":
        return TableWriter(Console(file=stream), options.scores)
    return JsonlWriter(stream)

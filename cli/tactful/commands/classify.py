"""`tactful classify`: label text from files, JSONL exports or stdin."""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass
from collections.abc import Iterable
from pathlib import Path

from rich.console import Console

from tactful.commands.common import ModelChoice, load_settings, make_backend, make_classifier
from tactful.errors import EXIT_FLAGGED, EXIT_OK, UsageError
from tactful.pipeline import classify_stream
from tactful.records import InputRecord
from tactful.readers import ReadOptions, read_inputs, resolve_paths
from tactful.writers import JsonlWriter, ResultWriter, TableWriter


@dataclass(frozen=True)
class ClassifyOptions:
    read: ReadOptions
    output_format: str | None = None  # None: table on a terminal, else JSONL
    output: Path | None = None
    fail_on_flagged: bool = False
    show_prompt: bool = False
    scores: bool = False
    jobs: int = 1


def classify(paths: list[str], choice: ModelChoice, options: ClassifyOptions) -> int:
    profile, _ = load_settings(choice)
    files = resolve_paths(paths)
    records = read_inputs(files, options.read)
    if options.show_prompt:
        return _show_prompt(records, choice)
    backend = make_backend(profile, choice, scores=options.scores)
    classifier = make_classifier(profile, backend, scores=options.scores)
    flagged = 0
    with _open_output(options.output) as stream:
        writer = _writer(options, stream)
        try:
            for result in classify_stream(records, classifier.classify, options.jobs):
                writer.write(result)
                flagged += bool(result.moderation.flagged)
        finally:
            writer.close()
            backend.close()
    return EXIT_FLAGGED if options.fail_on_flagged and flagged else EXIT_OK


def _show_prompt(records: Iterable[InputRecord], choice: ModelChoice) -> int:
    """Print the exact request for the first readable input, without calling a model."""
    profile, _ = load_settings(choice)
    classifier = make_classifier(profile, backend=PromptOnly(profile.model.name))
    first = next((r for r in records if r.text is not None), None)
    request = classifier.first_request(first.text if first else "")
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
    """Stands in for a backend where a prompt is built but nothing is sent."""

    name = "none"

    def __init__(self, model: str) -> None:
        self.model = model


class _open_output:
    def __init__(self, path: Path | None) -> None:
        self.path = path
        self.handle = None

    def __enter__(self):  # type: ignore[no-untyped-def]
        if self.path is None:
            return sys.stdout
        try:
            self.handle = open(self.path, "w", encoding="utf-8")
        except OSError as exc:
            raise UsageError(f"{self.path}: cannot write output: {exc.strerror}") from None
        return self.handle

    def __exit__(self, *exc: object) -> None:
        if self.handle is not None:
            self.handle.close()


def _writer(options: ClassifyOptions, stream) -> ResultWriter:  # type: ignore[no-untyped-def]
    fmt = options.output_format
    if fmt is None:
        fmt = "table" if options.output is None and sys.stdout.isatty() else "jsonl"
    if fmt == "table":
        return TableWriter(Console(file=stream), options.scores)
    return JsonlWriter(stream)

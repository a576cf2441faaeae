"""`tactful check`: the pre-commit hook and CI gate for community-written files.

Files are split into units (segment.py), units silenced by inline directives or left
out by --diff/--staged are dropped, the rest are classified with the profile through the
same ``Classifier`` as `tactful classify` (so its results cache applies), and findings
are reported per unit. A profile in binary mode is run in multilabel mode here, so that
every finding names its category.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from tactful.check.baseline import Key, read_baseline, write_baseline
from tactful.check.directives import DirectiveError
from tactful.check.findings import Unjudged, findings_for
from tactful.check.gitdiff import Changes, changed_lines
from tactful.check.report import Summary, plural, write_report
from tactful.check.segment import Unit, segment_markdown, segment_text
from tactful.commands.common import ModelChoice, load_settings, make_backend, make_classifier, warn
from tactful.engine.stream import classify_stream
from tactful.errors import EXIT_BACKEND, EXIT_FLAGGED, EXIT_OK, UsageError
from tactful.io.readers import STDIN, resolve_paths
from tactful.profile.load import Profile
from tactful.records import InputRecord

MARKDOWN_SUFFIXES = {".md", ".markdown", ".mdown", ".mkd", ".mdx"}


@dataclass(frozen=True)
class CheckOptions:
    file_type: str | None = None  # markdown | text; None: profile [check] types, then suffix
    output_format: str = "text"
    diff: str | None = None
    staged: bool = False
    baseline: Path | None = None
    write_baseline: Path | None = None
    scores: bool = False
    jobs: int = 1
    use_cache: bool = True


@dataclass(frozen=True)
class Work:
    path: str  # as reported: the path given, in POSIX form
    unit: Unit

    def record(self) -> InputRecord:
        where = f"{self.path}:{self.unit.line}:{self.unit.col}"
        return InputRecord(where, self.unit.text, {"id": where, "text": self.unit.text}, where)


def check(paths: list[str], choice: ModelChoice, options: CheckOptions) -> int:
    _check_usage(paths, options)
    profile, _ = load_settings(choice)
    if profile.task.mode == "binary":  # a finding must name its category
        profile = profile.with_overrides(mode="multilabel")
    baselined: set[Key] = read_baseline(options.baseline) if options.baseline else set()
    files = resolve_paths(paths)
    work = list(_units(files, profile, options))
    summary = Summary(files=len(files), units=len(work), fail_level=profile.fail_level)
    if work:
        _judge(work, profile, choice, options, summary)
    if options.write_baseline is not None:
        count = write_baseline(options.write_baseline, summary.findings)
        print(f"tactful: wrote {plural(count, 'finding')} to {options.write_baseline}", file=sys.stderr)
        if summary.unjudged:
            warn(f"{plural(len(summary.unjudged), 'unit')} could not be judged and are not in the baseline")
        return EXIT_OK
    summary.baselined = sum(f.key in baselined for f in summary.findings)
    summary.findings = [f for f in summary.findings if f.key not in baselined]
    write_report(summary, options.output_format, sys.stdout)
    if summary.failing:
        return EXIT_FLAGGED
    return EXIT_BACKEND if summary.unjudged else EXIT_OK


def _check_usage(paths: list[str], options: CheckOptions) -> None:
    if not paths or STDIN in paths:
        raise UsageError("check needs files to read (for example `tactful check README.md docs/*.md`)")
    if options.diff is not None and options.staged:
        raise UsageError("use --diff REF or --staged, not both")
    if options.baseline is not None and options.write_baseline is not None:
        raise UsageError("use --baseline or --write-baseline, not both")


def _units(files: list[str], profile: Profile, options: CheckOptions) -> Iterator[Work]:
    changes: Changes | None = None
    if options.diff is not None or options.staged:
        changes = changed_lines(files, options.diff, options.staged)
    slugs = set(profile.slugs)
    for name in files:
        units = segment_file(name, file_type(name, options.file_type, profile), slugs)
        if changes is not None:
            lines = changes.get(Path(name).resolve(), set())
            units = [u for u in units if lines is None or lines & set(range(u.line, u.end_line + 1))]
        path = Path(name).as_posix()
        yield from (Work(path, unit) for unit in units)


def file_type(path: str, forced: str | None, profile: Profile) -> str:
    """--type, else the first matching glob of [check] types, else by suffix."""
    if forced is not None:
        return forced
    pure = PurePosixPath(Path(path).as_posix())
    for glob, kind in profile.check_types:
        if pure.match(glob):
            return kind
    return "markdown" if pure.suffix.lower() in MARKDOWN_SUFFIXES else "text"


def segment_file(path: str, kind: str, slugs: set[str]) -> list[Unit]:
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise UsageError(f"{path}: cannot read: {exc.strerror}") from None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise UsageError(f"{path}: not valid UTF-8 (byte {exc.start}); re-encode the file as UTF-8 or leave it out") from None
    try:
        return segment_markdown(text, slugs) if kind == "markdown" else segment_text(text, slugs)
    except DirectiveError as exc:
        raise UsageError(f"{path}:{exc.line}:{exc.col}: {exc.message}") from None


def _judge(work: list[Work], profile: Profile, choice: ModelChoice, options: CheckOptions, summary: Summary) -> None:
    backend = make_backend(profile, choice, scores=options.scores)
    classifier = make_classifier(profile, backend, scores=options.scores, use_cache=options.use_cache)
    try:
        results = classify_stream((w.record() for w in work), classifier.classify, options.jobs)
        for item, result in zip(work, results):
            if result.moderation.error is not None:
                summary.unjudged.append(Unjudged(item.path, item.unit.line, item.unit.col, result.moderation.error))
            else:
                summary.findings.extend(findings_for(item.path, item.unit, result, profile))
    finally:
        classifier.close()
        backend.close()

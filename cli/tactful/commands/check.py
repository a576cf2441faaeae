"""`tactful check`: the pre-commit hook and CI gate for community-written files.

Files are split into units (segment.py), units silenced by inline directives or left
out by --diff/--staged are dropped, the rest are classified with the profile through the
same ``Classifier`` as `tactful classify` (so its results cache applies), and findings
are reported per unit. A profile in binary mode is run in multilabel mode here, so that
every finding names its category.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from enum import Enum
from pathlib import Path
from typing import Annotated

import typer

from tactful.check.baseline import Key, is_baseline, read_baseline, write_baseline
from tactful.check.files import Reader, file_type, known_type, read_disk, segment_file
from tactful.check.findings import Unjudged, findings_for
from tactful.check.gitdiff import Changes, Index, changed_files, changed_lines
from tactful.check.report import Summary, write_report
from tactful.check.segment import Unit
from tactful.commands.options import (
    BackendOpt,
    HostOpt,
    JobsOpt,
    LegacyScoresOpt,
    ModelOpt,
    ProfileOpt,
    RetriesOpt,
)
from tactful.errors import EXIT_FLAGGED, EXIT_OK, EXIT_UNJUDGED, UsageError
from tactful.io.destinations import claim, profile_files
from tactful.io.readers import STDIN, resolve_paths
from tactful.moderator import Moderator
from tactful.profile.load import Profile
from tactful.profile.schema import CheckType
from tactful.records import InputRecord
from tactful.settings import Overrides, Settings, resolve
from tactful.textclip import plural

_log = logging.getLogger(__name__)


class CheckFormat(str, Enum):
    text = "text"
    json = "json"
    github = "github"


def command(
    paths: Annotated[list[str] | None, typer.Argument(metavar="PATH", help="Files or globs to check.", show_default=False)] = None,
    profile: ProfileOpt = None,
    model: ModelOpt = None,
    host: HostOpt = None,
    backend: BackendOpt = None,
    file_type: Annotated[CheckType | None, typer.Option("--type", "-t", help="Read every file as this type. Default: the profile's [check] types globs, then .md/.markdown/.mdx as Markdown and the rest as text.", show_default=False)] = None,
    output_format: Annotated[CheckFormat, typer.Option("--format", "-f", help="text: path:line:col lines; json: one document; github: GitHub Actions annotations.")] = CheckFormat.text,
    diff: Annotated[str | None, typer.Option("--diff", metavar="REF", help="Judge only units touching lines changed since REF (git diff -U0 REF; untracked files count as new).", show_default=False)] = None,
    staged: Annotated[bool, typer.Option("--staged", metavar="", help="Judge only units touching lines staged for commit (git diff --cached), as staged: the index's content, not the working copy's.")] = False,
    baseline: Annotated[Path | None, typer.Option("--baseline", metavar="FILE", help="Report only findings this baseline does not know.", show_default=False)] = None,
    write_baseline: Annotated[Path | None, typer.Option("--write-baseline", metavar="FILE", help="Record the current findings in FILE and exit 0.", show_default=False)] = None,
    explain: Annotated[bool | None, typer.Option("--explain/--no-explain", metavar="", help="Ask the model for a rationale; it becomes the reason shown.", show_default=False)] = None,
    scores: LegacyScoresOpt = False,
    jobs: JobsOpt = 1,
    retries: RetriesOpt = None,
    no_cache: Annotated[bool, typer.Option("--no-cache", metavar="", help="Ask the model again even for units already judged with this profile and model.")] = False,
) -> int:
    """Check Markdown and text files for content the profile blocks (pre-commit, CI).

    Files are split into paragraphs, headings, list items and table cells (code,
    front matter and HTML comments are skipped). Each finding is one line,
    `path:line:col: CATEGORY [score] reason`, then a summary. A binary profile
    runs as multilabel, so each finding names its category.

    \b
    Inline ignores (Markdown; in text files write `# tactful: ...`):
      <!-- tactful: ignore -->       the next block (up to a blank line)
      <!-- tactful: ignore-line -->  this line, or the next one when alone
      <!-- tactful: off --> ... <!-- tactful: on -->  a region
      <!-- tactful: ignore spam -->  any form, for named categories only

    Exit codes: 0 nothing at or above the profile's [check] fail_level; 1 a
    finding at or above it; 2 usage or configuration error; 3 backend
    unreachable; 4 a unit the model could not judge; 5 output could not be
    written.

    \b
    Examples:
      tactful check README.md docs/*.md
      tactful check --staged --format github
    """
    overrides = Overrides(profile=profile, model=model, hosts=host, backend=backend, explain=explain,
                          retries=retries, scores=scores)
    options = CheckOptions(
        file_type=file_type,
        output_format=output_format.value,
        diff=diff,
        staged=staged,
        baseline=baseline,
        write_baseline=write_baseline,
        jobs=jobs,
        use_cache=not no_cache,
    )
    return check(paths or [], overrides, options)


@dataclass(frozen=True)
class CheckOptions:
    file_type: str | None = None  # markdown | text; None: profile [check] types, then suffix
    output_format: str = "text"
    diff: str | None = None
    staged: bool = False
    baseline: Path | None = None
    write_baseline: Path | None = None
    jobs: int = 1
    use_cache: bool = True


@dataclass(frozen=True)
class Work:
    path: str  # as reported: the path given, in POSIX form
    unit: Unit

    def record(self) -> InputRecord:
        where = f"{self.path}:{self.unit.line}:{self.unit.col}"
        return InputRecord(where, self.unit.text, {"id": where, "text": self.unit.text}, where)


def check(paths: list[str], overrides: Overrides, options: CheckOptions) -> int:
    _check_usage(paths, options)
    settings = resolve(overrides)
    if settings.profile.task.mode == "binary":  # a finding must name its category
        settings = settings.with_mode("multilabel")
    profile = settings.profile
    baselined: set[Key] = read_baseline(options.baseline) if options.baseline else set()
    files, read = _files(paths, options, profile)
    if options.write_baseline is not None:
        _claim_baseline(options.write_baseline, [*files, *profile_files(profile)])
    work = list(_units(files, read, profile, options))
    summary = Summary(files=len(files), units=len(work), fail_level=profile.fail_level)
    if work:
        _judge(work, settings, options, summary)
    if options.write_baseline is not None:
        count = write_baseline(options.write_baseline, summary.findings)
        print(f"tactful: wrote {plural(count, 'finding')} to {options.write_baseline}", file=sys.stderr)
        if summary.unjudged:
            _log.warning(f"{plural(len(summary.unjudged), 'unit')} could not be judged and are not in the baseline")
        return EXIT_OK
    summary.baselined = sum(f.key in baselined for f in summary.findings)
    summary.findings = [f for f in summary.findings if f.key not in baselined]
    write_report(summary, options.output_format, sys.stdout)
    if summary.failing:
        return EXIT_FLAGGED
    return EXIT_UNJUDGED if summary.unjudged else EXIT_OK


def _claim_baseline(path: Path, reads: list[str | Path]) -> None:
    """Never a checked file or the profile; an existing file only if it is an earlier baseline."""
    claim(path, "--write-baseline", reads, overwrite=is_baseline(path),
          remedy="only an earlier baseline is replaced: choose another --write-baseline FILE, or delete this one")


def _by_change(options: CheckOptions) -> bool:
    return options.diff is not None or options.staged


def _files(paths: list[str], options: CheckOptions, profile: Profile) -> tuple[list[str], Reader]:
    """The files to judge, and where their bytes are read.

    With --diff/--staged: the files given (or, with none, the changed ones git lists) that
    still exist and are of a kind check reads; deleted and code files are left out. With
    --staged, "exist" and the bytes are the index's: a commit records what is staged,
    whatever the working copy holds.
    """
    if not _by_change(options):
        return resolve_paths(paths), read_disk
    candidates = paths or changed_files(options.diff, options.staged)
    if options.staged:
        index = Index(candidates)
        present, read = index.has, index.read
    else:
        present, read = _on_disk, read_disk
    return [p for p in candidates if present(p) and (options.file_type or known_type(p, profile))], read


def _on_disk(path: str) -> bool:
    return Path(path).is_file()


def _check_usage(paths: list[str], options: CheckOptions) -> None:
    if STDIN in paths or (not paths and not _by_change(options)):
        raise UsageError("check needs files to read (for example `tactful check README.md docs/*.md`, "
                         "or `tactful check --staged` for what is staged)")
    if options.diff is not None and options.staged:
        raise UsageError("use --diff REF or --staged, not both")
    if options.baseline is not None and options.write_baseline is not None:
        raise UsageError("use --baseline or --write-baseline, not both")


def _units(files: list[str], read: Reader, profile: Profile, options: CheckOptions) -> Iterator[Work]:
    changes: Changes | None = None
    if _by_change(options):
        changes = changed_lines(files, options.diff, options.staged)
    slugs = set(profile.slugs)
    for name in files:
        units = segment_file(name, file_type(name, options.file_type, profile), slugs, read)
        if changes is not None:
            lines = changes.get(Path(name).resolve(), set())
            units = [u for u in units if lines is None or lines & set(range(u.line, u.end_line + 1))]
        path = Path(name).as_posix()
        yield from (Work(path, unit) for unit in units)


def _judge(work: list[Work], settings: Settings, options: CheckOptions, summary: Summary) -> None:
    profile = settings.profile
    moderator = Moderator(settings, use_cache=options.use_cache)
    try:
        results = moderator.results((w.record() for w in work), options.jobs)
        for item, result in zip(work, results):
            summary.truncated += result.moderation.truncated
            if result.moderation.error is not None:
                summary.unjudged.append(Unjudged(item.path, item.unit.line, item.unit.col, result.moderation.error))
            else:
                summary.findings.extend(findings_for(item.path, item.unit, result, profile))
    finally:
        moderator.close()

"""`tactful eval`: how well does a profile do on labelled data, and do its policy tests pass?"""

from __future__ import annotations

import itertools
import json
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from tactful.commands.options import (
    BackendOpt,
    ContextFieldOpt,
    ContextSizeOpt,
    HostOpt,
    ImageFieldOpt,
    JobsOpt,
    LabelFieldOpt,
    LegacyScoresOpt,
    MapOpt,
    ModelOpt,
    ModeOpt,
    ProfileOpt,
    ReplyToFieldOpt,
    RestAcceptableOpt,
    TextFieldOpt,
    ThreadFieldOpt,
    parse_mapping,
)
from tactful.errors import EXIT_FLAGGED, EXIT_OK, NothingJudged, UsageError
from tactful.evaluation import scoring
from tactful.evaluation.labels import GoldLabels, gold_value
from tactful.evaluation.metrics import Report
from tactful.io.console import console, styled
from tactful.io.destinations import claim, profile_files
from tactful.io.readers import ReadOptions, read_inputs, resolve_paths
from tactful.io.streams import failing_as
from tactful.io.threads import DEFAULT_LAST, ThreadOptions, with_thread_context
from tactful.moderator import Moderator
from tactful.profile.load import Profile
from tactful.records import InputRecord
from tactful.settings import Overrides, resolve


def command(
    data: Annotated[Path | None, typer.Argument(metavar="DATA", help="Labelled JSONL: a text field and a gold label field (a string or a list).", show_default=False)] = None,
    profile: ProfileOpt = None,
    model: ModelOpt = None,
    host: HostOpt = None,
    backend: BackendOpt = None,
    mode: ModeOpt = None,
    field: TextFieldOpt = "text",
    label_field: LabelFieldOpt = "label",
    mapping: MapOpt = None,
    rest_acceptable: RestAcceptableOpt = False,
    json_output: Annotated[bool, typer.Option("--json", metavar="", help="Print a machine-readable report instead of tables.")] = False,
    scores: LegacyScoresOpt = False,
    errors: Annotated[Path | None, typer.Option("--errors", metavar="FILE", help="Write misclassified items here, in the example-bank format.")] = None,
    force: Annotated[bool, typer.Option("--force", metavar="", help="With --errors: overwrite an existing file.")] = False,
    jobs: JobsOpt = 1,
    limit: Annotated[int | None, typer.Option("--limit", min=1, metavar="N", help="Score only the first N items.")] = None,
    context_field: ContextFieldOpt = None,
    thread_field: ThreadFieldOpt = None,
    reply_to_field: ReplyToFieldOpt = None,
    context_size: ContextSizeOpt = DEFAULT_LAST,
    image_field: ImageFieldOpt = None,
) -> int:
    """Measure the profile on labelled data, and run its policy tests.

    Prints accuracy, per-class precision/recall/F1, macro-F1, a confusion matrix,
    items/s and tokens per item. When the profile names a `tests` file (JSONL of
    texts with the labels they must get), every case runs too and a failing one
    makes the exit code 1: keep a community's policy under test in CI.

    \b
    Examples:
      tactful eval spam.jsonl --map spam=spam --map ham=none
      tactful eval toxic.jsonl --map toxic=toxicity --errors wrong.jsonl
      tactful eval            # policy tests only
    """
    pairs = parse_mapping(mapping)
    overrides = Overrides(profile=profile, model=model, hosts=host, backend=backend, mode=mode, scores=scores)
    read = ReadOptions(input_format="jsonl", field=field, context_field=context_field, image_field=image_field)
    threads = ThreadOptions(thread_field, reply_to_field, context_size)
    options = EvalOptions(data, read, label_field, pairs, json_output, errors, jobs, limit, threads,
                          rest_acceptable, force)
    return evaluate(overrides, options, console())


@dataclass(frozen=True)
class EvalOptions:
    data: Path | None = None
    read: ReadOptions = ReadOptions(input_format="jsonl")  # the text, context and image fields
    label_field: str = "label"
    mapping: dict[str, str] = field(default_factory=dict)
    json_output: bool = False
    errors_file: Path | None = None
    jobs: int = 1
    limit: int | None = None
    threads: ThreadOptions = ThreadOptions()
    rest_acceptable: bool = False  # gold labels no --map covers mean acceptable content
    force: bool = False  # --errors may replace an existing file


def evaluate(overrides: Overrides, options: EvalOptions, console: Console) -> int:
    settings = resolve(overrides)
    profile = settings.profile
    tests_path = profile.tests_path if profile.tests_path and profile.tests_path.is_file() else None
    if options.data is None and tests_path is None:
        raise UsageError("nothing to evaluate: pass DATA.jsonl, or set `tests = \"FILE.jsonl\"` in the profile for policy tests")
    # Every gold label is placed before the model is asked anything.
    data = _labelled_data(profile, options) if options.data is not None else None
    tests = _labelled_tests(profile, tests_path) if tests_path is not None else None
    if options.errors_file is not None:
        _claim_errors_file(options.errors_file, options, profile)
    moderator = Moderator(settings)
    report: dict[str, Any] = {"profile": profile.name, "model": moderator.model, "mode": profile.task.mode}
    code = EXIT_OK
    try:
        if data is not None:
            report["data"] = _evaluate_data(moderator, profile, data, options, console)
        if tests is not None:
            failures = _policy_tests(moderator, profile, tests, options, console)
            report["policy_tests"] = failures
            code = EXIT_FLAGGED if failures["failed"] else EXIT_OK
    finally:
        moderator.close()
    if options.json_output:
        print(json.dumps(report, ensure_ascii=False, indent=2))
    return code


def _claim_errors_file(path: Path, options: EvalOptions, profile: Profile) -> None:
    """Before any model loads: never the labelled data or the profile's files, and an
    existing file only with --force (it would hold last run's misjudged items, or anything)."""
    data = resolve_paths([str(options.data)]) if options.data is not None else []
    claim(path, "--errors", [*data, *profile_files(profile)], overwrite=options.force)


# ---------------------------------------------------------------- labelled data


@dataclass(frozen=True)
class Labelled:
    """The records of a labelled file and each one's gold slugs (None: no usable label)."""

    where: str
    records: list[InputRecord]
    gold: list[list[str] | None]


def _labelled_data(profile: Profile, options: EvalOptions) -> Labelled:
    paths = resolve_paths([str(options.data)])
    records = with_thread_context(read_inputs(paths, options.read), options.threads)
    kept = list(itertools.islice(records, options.limit))
    labels = GoldLabels(profile, options.mapping, options.rest_acceptable)
    return _gold_of(kept, labels, lambda data: gold_value(data, options.label_field), str(options.data))


def _labelled_tests(profile: Profile, path: Path) -> Labelled:
    """Policy tests name the profile's own slugs: any other label is a mistake to stop on."""
    records = list(read_inputs([str(path)], ReadOptions(input_format="jsonl")))
    return _gold_of(records, GoldLabels(profile), lambda data: data.get("labels", []), str(path))


def _gold_of(records: list[InputRecord], labels: GoldLabels, raw_gold: Callable[[Any], Any], where: str) -> Labelled:
    """Each record's gold slugs; stops (exit 2) on labels nothing places, before any is judged."""
    raw = [raw_gold(record.data) for record in records]
    gold = [None if value is None else labels.slugs(value) for value in raw]
    labels.check(where)
    return Labelled(where, records, gold)


def _evaluate_data(moderator: Moderator, profile: Profile, data: Labelled, options: EvalOptions, console: Console) -> dict[str, Any]:
    started = time.perf_counter()
    results = list(moderator.results(data.records, options.jobs))
    elapsed = time.perf_counter() - started
    scored, errors = scoring.score(results, data.gold, profile, options.label_field)
    if not scored:
        first = f"; the first: {errors[0]}" if errors else ""
        raise NothingJudged(
            f"{options.data}: none of {len(results)} item(s) could be scored (check --field "
            f"'{options.read.field}' and --label-field '{options.label_field}'){first}"
        )
    metrics = scoring.report(scored, profile)
    ok = [r for r in results if r.moderation.error is None]
    speed = {
        "items": len(results),
        "errors": len(errors),
        "truncated": sum(r.moderation.truncated for r in results),
        "seconds": round(elapsed, 2),
        "items_per_s": round(len(results) / elapsed, 2) if elapsed else None,
        "prompt_tokens_per_item": _mean_of(r.prompt_tokens for r in ok),
        "output_tokens_per_item": _mean_of(r.output_tokens for r in ok),
    }
    if options.errors_file is not None:
        _write_misclassified(options.errors_file, scored)
    if not options.json_output:
        _print_metrics(console, metrics, speed, errors, options)
    separation = scoring.separation(scored, profile)
    if separation and not options.json_output:
        _print_separation(console, separation)
    return {**metrics.to_json(), "speed": speed, "errors": errors, "separation": separation}


def _print_separation(console: Console, separation: dict[str, Any]) -> None:
    table = Table(title="separation (threshold-free; 0.5 is guessing, 1.0 perfect)", header_style="bold")
    for column in ("score", "items", "ROC-AUC", "PR-AUC", "reliability: predicted / observed per bin"):
        table.add_column(column, justify="left" if column in ("score", "reliability: predicted / observed per bin") else "right")
    for key, row in separation.items():
        bins = ", ".join(f"{b['predicted']:.2f}/{b['observed']:.2f} (n={b['count']})" for b in row["reliability"])
        auc, ap = row["roc_auc"], row["pr_auc"]
        table.add_row(key, str(row["items"]), "-" if auc is None else f"{auc:.3f}", "-" if ap is None else f"{ap:.3f}", bins)
    console.print(table)


def _write_misclassified(path: Path, scored: list[scoring.Scored]) -> None:
    """Misclassified items in the example-bank format, ready for `examples import`."""
    with failing_as(str(path)), open(path, "w", encoding="utf-8") as out:
        for item in scored:
            if item.misjudged:
                out.write(json.dumps({"id": item.id, "text": item.text, "labels": item.gold_slugs}, ensure_ascii=False) + "\n")


def _mean_of(values: Iterable[int | None]) -> float | None:
    present = [v for v in values if v is not None]
    return round(sum(present) / len(present), 1) if present else None


def _print_metrics(console: Console, report: Report, speed: dict[str, Any], errors: list[str], options: EvalOptions) -> None:
    table = Table(title=f"{options.data}: {report.n} items scored", header_style="bold")
    for column in ("class", "precision", "recall", "F1", "support"):
        table.add_column(column, justify="left" if column == "class" else "right")
    for c in report.per_class:
        table.add_row(c.label, f"{c.precision:.3f}", f"{c.recall:.3f}", f"{c.f1:.3f}", str(c.support))
    console.print(table)
    console.print(f"accuracy {report.accuracy:.3f}   macro-F1 {report.macro_f1:.3f}")
    confusion = Table(title="confusion (rows: gold)", header_style="bold")
    columns = list(next(iter(report.confusion.values()), {}).keys())
    confusion.add_column("gold \\ predicted")
    for column in columns:
        confusion.add_column(column, justify="right")
    for gold, row in report.confusion.items():
        confusion.add_row(gold, *(str(row[c]) for c in columns))
    console.print(confusion)
    tokens = f", {speed['prompt_tokens_per_item']} prompt + {speed['output_tokens_per_item']} output tokens per item"
    truncated = f"; {speed['truncated']} truncated to task.max_chars" if speed["truncated"] else ""
    console.print(f"{speed['items']} items in {speed['seconds']} s ({speed['items_per_s']} items/s){tokens}{truncated}")
    if errors:
        console.print(styled((f"{len(errors)} item(s) not scored", "yellow"), f", first: {errors[0]}"))
    if options.errors_file is not None:
        console.print(f"misclassified items written to {options.errors_file} (review, then `tactful examples import`)")


# ---------------------------------------------------------------- policy tests


def _policy_tests(moderator: Moderator, profile: Profile, tests: Labelled, options: EvalOptions,
                  console: Console) -> dict[str, Any]:
    results = list(moderator.results(tests.records, options.jobs))
    failures, lines = [], []
    for result, expected in zip(results, tests.gold):
        verdict = scoring.policy_problem(result.moderation, expected, profile)
        if verdict:
            failures.append({"id": result.record.id, "text": result.record.text, "problem": verdict})
            quoted = f": {result.record.text!r}" if result.record.text is not None else ""  # an unreadable case has none
            lines.append(f"FAIL {result.record.located(verdict, result.record.id)}{quoted}")
    summary = {"file": tests.where, "total": len(results), "failed": len(failures), "failures": failures}
    if not options.json_output:
        _print_policy(console, summary, lines)
    return summary


def _print_policy(console: Console, summary: dict[str, Any], failures: list[str]) -> None:
    passed = summary["total"] - summary["failed"]
    style = "green" if not summary["failed"] else "red"
    console.print(styled((f"policy tests: {passed}/{summary['total']} passed", style), f" ({summary['file']})"))
    for failure in failures:
        console.print(f"  {failure}", highlight=False)

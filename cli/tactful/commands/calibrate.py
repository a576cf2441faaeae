"""`tactful calibrate`: fit each blocked category's threshold to the community's own labels.

The model's probabilities decide (a category is flagged when its probability is at or
above its threshold); this command picks those thresholds from labelled texts the user
already has: the example bank, the profile's policy tests, and any labelled JSONL in
eval's format. Bank examples that are also in the prompt are scored with themselves left
out of it, so the model never sees the answer it is asked for.
"""

from __future__ import annotations

import functools
import itertools
import logging
from collections.abc import Iterator
from contextlib import closing
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from tactful.bank.selection import usable_examples
from tactful.bank.store import load_bank
from tactful.commands.learned import Learned, choice_report, learn, write_head
from tactful.commands.options import (
    BackendOpt,
    ContextFieldOpt,
    HostOpt,
    ImageFieldOpt,
    JobsOpt,
    LabelFieldOpt,
    MapOpt,
    MaxFprOpt,
    ModelOpt,
    ModeOpt,
    ProfileOpt,
    Representation,
    RepresentationOpt,
    RestAcceptableOpt,
    RetriesOpt,
    TextFieldOpt,
    parse_mapping,
)
from tactful.errors import EXIT_OK, UsageError
from tactful.evaluation.calibration import (
    Quality,
    average_precision,
    fit_threshold,
    quality_at,
    roc_auc,
    unsupported,
)
from tactful.evaluation.labels import GoldLabels, gold_value
from tactful.io.console import console
from tactful.io.readers import ReadOptions, read_inputs, resolve_paths
from tactful.learning import choose
from tactful.learning.head import BINARY_KEY
from tactful.moderator import Moderator
from tactful.profile.edit import Edit, edit_profile
from tactful.profile.load import Profile
from tactful.profile.toml_edit import parse_document, remove_table, set_value
from tactful.records import InputRecord
from tactful.settings import Overrides, Settings, resolve

_log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Labelled:
    """One labelled text, and the bank example it is (for leaving it out of the prompt)."""

    record: InputRecord
    gold: list[str]
    example_id: str | None = None


@dataclass(frozen=True)
class Fitted:
    """The outcome for one score key: the fitted rule and the one it replaces."""

    key: str  # a category slug, or "flagged" in binary mode (shared by every blocked category)
    slugs: tuple[str, ...]  # the categories whose threshold it sets
    positives: int
    total: int
    auc: float | None
    ap: float | None
    before: Quality
    after: Quality | None


def command(
    data: Annotated[list[Path] | None, typer.Argument(metavar="DATA", help="Labelled JSONL files in eval's format (a text field and a gold label field). The bank and policy tests are always used.", show_default=False)] = None,
    profile: ProfileOpt = None,
    model: ModelOpt = None,
    host: HostOpt = None,
    backend: BackendOpt = None,
    mode: ModeOpt = None,
    field: TextFieldOpt = "text",
    label_field: LabelFieldOpt = "label",
    mapping: MapOpt = None,
    rest_acceptable: RestAcceptableOpt = False,
    limit: Annotated[int | None, typer.Option("--limit", min=1, metavar="N", help="Use at most N texts from the DATA files.", show_default=False)] = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", metavar="", help="Print the fitted thresholds; leave the profile as it is.")] = False,
    max_fpr: MaxFprOpt = choose.DEFAULT_MAX_FPR,
    head: Annotated[bool, typer.Option("--head/--no-head", help="Binary mode: also fit a head on the model's representation, and let cross-validation choose what decides (needs tactful[learn]).")] = True,
    representation: RepresentationOpt = Representation.text,
    force: Annotated[bool, typer.Option("--force", metavar="", help="Write thresholds the labels cannot support (no better than chance, or flagging most acceptable texts).")] = False,
    jobs: JobsOpt = 1,
    retries: RetriesOpt = None,
    context_field: ContextFieldOpt = None,
    image_field: ImageFieldOpt = None,
) -> int:
    """Fit each blocked category's threshold to texts your community has labelled.

    A category is flagged when its probability reaches its threshold (0.5 until
    calibrated). This scores every labelled text you have (the bank, each example
    left out of the prompt while it is scored; the policy tests; DATA), picks per
    category the threshold with the best F1 under the false-positive cap
    (--max-fpr), and writes it into the profile with the model and prompt it was
    fitted for. Needs log-probabilities and 2 labelled texts on each side; 20 to
    40 give stable numbers. Binary mode also learns (tactful[learn]): a head on
    the model's representation of each text, chosen by cross-validation and
    saved beside the profile. Nothing is written (exit 2) where the labels cannot
    support it; --force writes anyway. `tactful check` runs a binary profile as
    multilabel: calibrate it for check with --mode multilabel.

    \b
    Examples:
      tactful calibrate labelled.jsonl --map toxic=toxicity --map ok=none
      tactful calibrate reviewed.jsonl --max-fpr 0.05   # fewer false positives
      tactful calibrate --mode multilabel      # a binary profile, for check
    """
    pairs = parse_mapping(mapping)
    overrides = Overrides(profile=profile, model=model, hosts=host, backend=backend, mode=mode,
                          retries=retries, scores=True)
    settings = resolve(overrides)
    if settings.profile.path is None and not dry_run:
        raise UsageError("no profile file to write the thresholds into: `tactful profile init` first, or use --dry-run")
    if not settings.profile.blocked:
        raise UsageError("nothing is blocked in this profile, so there is no threshold to fit: `tactful profile block SLUG` first")
    read = ReadOptions(input_format="jsonl", field=field, context_field=context_field, image_field=image_field)
    labels = GoldLabels(settings.profile, pairs, rest_acceptable)
    items = list(_labelled(settings.profile, data or [], read, label_field, labels, limit))
    if not items:
        raise UsageError("nothing labelled to calibrate on: add bank examples (`tactful examples add`), policy tests, or pass DATA.jsonl")
    fits, fingerprint, model_id, learned = _score_and_fit(settings, items, jobs, max_fpr, representation.value if head else None)
    out = console(soft_wrap=False)
    out.print(_table(fits))
    usable = [f for f in fits if f.after is not None]
    if not usable:
        raise UsageError("no category has 2 labelled texts on each side: add labelled texts (flagged and acceptable) and run again")
    if learned is not None:
        table, measured = choice_report(learned.choice)
        out.print(table)
        out.print(measured)
        out.print(f"chosen: {learned.choice.reason}")
    refused = _refusals(usable) if learned is None or learned.head is None else []
    if dry_run:
        for reason in refused:
            _log.warning(f"not written without --force: {reason}")
        out.print("dry run: the profile was not changed")
        return EXIT_OK
    if refused and not force:
        raise UsageError(f"{'; '.join(refused)}: the profile was not changed; add labelled texts on both sides, "
                         "clearer bank examples, or use a larger model, then run again (--force writes it anyway)")
    assert settings.profile.path is not None
    edit_profile(settings.profile.path, _calibration_edit(usable, settings.profile.task.mode, len(items), fingerprint, model_id))
    out.print(f"wrote {len(usable)} threshold(s) and [calibration] to {settings.profile.path}")
    if learned is not None and (said := write_head(settings.profile.path, learned)):
        out.print(said)
    return EXIT_OK


# ---------------------------------------------------------------- labelled texts


def _labelled(profile: Profile, data: list[Path], read: ReadOptions, label_field: str,
              labels: GoldLabels, limit: int | None) -> Iterator[Labelled]:
    """The bank, the policy tests and DATA; stops on gold labels nothing places, file by file."""
    # As classify does: an example labelled with a category the profile lost is left out,
    # not read as acceptable (the moderator, built later, gives the warning once).
    for example in usable_examples(load_bank(profile.examples_path), profile):
        yield Labelled(InputRecord(example.id, example.text, {}, f"bank {example.id}"), list(example.labels), example.id)
    if profile.tests_path is not None and profile.tests_path.is_file():
        # Policy tests name the profile's own slugs: --map is for DATA's vocabulary.
        yield from _from_jsonl([str(profile.tests_path)], ReadOptions(input_format="jsonl"), "labels", GoldLabels(profile), None)
    if data:
        yield from _from_jsonl(resolve_paths(map(str, data)), read, label_field, labels, limit)


def _from_jsonl(paths: list[str], read: ReadOptions, label_field: str, labels: GoldLabels,
                limit: int | None) -> list[Labelled]:
    found = []
    for record in itertools.islice(read_inputs(paths, read), limit):
        raw = gold_value(record.data, label_field)
        gold = None if raw is None else labels.slugs(raw)
        if record.error is not None or record.text is None or gold is None:
            _log.warning(f"{record.located(record.error or f'no text or no usable gold label in {label_field!r}')} (skipped)")
            continue
        found.append(Labelled(record, gold))
    labels.check(", ".join(paths))
    return found


# ---------------------------------------------------------------- scoring and fitting


def _score_and_fit(settings: Settings, items: list[Labelled], jobs: int, max_fpr: float,
                   representation: str | None) -> tuple[list[Fitted], str, str, Learned | None]:
    """The fitted thresholds, what they were fitted for, and (binary mode, a ``representation``
    to learn on) the cross-validated choice."""
    # The thresholds are about to be fitted anew: no warning that they are stale, and the
    # prompt's own probabilities, not an old head's, are what they are fitted to.
    with Moderator(settings, check_calibration=False, use_head=False) as moderator:
        scores = _scores(moderator, items, jobs)
        fits = _fit(settings.profile, items, scores, max_fpr)
        learned = None
        if settings.profile.task.mode == "binary" and representation is not None:
            judged = [(item, s[BINARY_KEY]) for item, s in zip(items, scores) if s is not None and BINARY_KEY in s]
            blocked = {c.slug for c in settings.profile.blocked}
            learned = learn(moderator, [(item.record, item.example_id) for item, _ in judged],
                            [bool(set(item.gold) & blocked) for item, _ in judged], [p for _, p in judged],
                            representation, max_fpr)
        return fits, moderator.fingerprint, moderator.model_id(), learned


def _scores(moderator: Moderator, items: list[Labelled], jobs: int) -> list[dict[str, float] | None]:
    """Each text's scores (None: not judged), bank examples with themselves left out of the prompt."""
    scores = []
    left_out = ((item.record, item.example_id or None) for item in items)
    with closing(moderator.results_left_out(left_out, jobs)) as results:
        for item, result in zip(items, results):
            if result.moderation.error is not None:
                _log.warning(f"{item.record.located(result.moderation.error)} (skipped)")
            elif result.moderation.scores is None:
                raise UsageError(f"the {moderator.backend_name} backend returned no log-probabilities: calibrate needs scores")
            scores.append(result.moderation.scores)
    return scores


def _fit(profile: Profile, items: list[Labelled], scores: list[dict[str, float] | None], max_fpr: float) -> list[Fitted]:
    blocked = tuple(c.slug for c in profile.blocked)
    thresholds = {c.slug: c.threshold for c in profile.categories}
    if profile.task.mode == "binary":
        keys = [(BINARY_KEY, blocked, lambda gold: bool(set(gold) & set(blocked)))]
    else:
        keys = [(slug, (slug,), functools.partial(lambda s, gold: s in gold, slug)) for slug in blocked]
    fits = []
    for key, slugs, is_positive in keys:
        pairs = [(s[key], is_positive(item.gold)) for item, s in zip(items, scores) if s is not None and key in s]
        values, truth = [p for p, _ in pairs], [t for _, t in pairs]
        old = min(thresholds[s] for s in slugs)
        fits.append(Fitted(key, slugs, sum(truth), len(truth), roc_auc(values, truth), average_precision(values, truth),
                           quality_at(values, truth, old), fit_threshold(values, truth, max_fpr)))
    return fits


def _refusals(fits: list[Fitted]) -> list[str]:
    """For each fitted threshold the labels cannot support: which, and why in numbers."""
    refused = []
    for f in fits:
        assert f.after is not None and f.auc is not None  # fitted: both classes are present
        reason = unsupported(f.auc, f.positives, f.total - f.positives, f.after)
        if reason is not None:
            refused.append(f"not writing the threshold for {_name(f)}: {reason}")
    return refused


def _name(fit: Fitted) -> str:
    return fit.key if fit.key != BINARY_KEY else f"any of {', '.join(fit.slugs)}"


# ---------------------------------------------------------------- report and profile


def _table(fits: list[Fitted]) -> Table:
    """Before -> after per score key, narrow enough for 80 columns."""
    table = Table(title="calibration (before -> after)", header_style="bold")
    for column in ("category", "texts", "ROC-AUC", "threshold", "F1", "FPR"):
        table.add_column(column, justify="left" if column == "category" else "right")
    for f in fits:
        after = f.after
        table.add_row(
            _name(f),
            f"{f.total} ({f.positives}+)", _num(f.auc),
            _change(f"{f.before.threshold:.3g}", f"{after.threshold:.3g}" if after else None),
            _change(f"{f.before.f1:.2f}", f"{after.f1:.2f}" if after else None),
            _change(f"{f.before.fpr:.2f}", f"{after.fpr:.2f}" if after else None),
        )
    return table


def _change(before: str, after: str | None) -> str:
    return f"{before} -> {after}" if after is not None else f"{before} (kept)"


def _num(value: float | None) -> str:
    return "-" if value is None else f"{value:.3f}"


def _calibration_edit(fits: list[Fitted], mode: str, items: int, fingerprint: str, model_id: str) -> Edit:
    def change(text: str) -> str:
        if "calibration" in parse_document(text, "profile"):
            text = remove_table(text, ["calibration"])
        for fit in fits:
            assert fit.after is not None
            for slug in fit.slugs:
                text = set_value(text, ["categories", slug, "threshold"], round(fit.after.threshold, 4))
        record = {
            "model": model_id, "prompt": fingerprint, "mode": mode, "items": items,
            "fitted": datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        }
        for key, entry in record.items():
            text = set_value(text, ["calibration", key], entry)
        for fit in fits:
            assert fit.after is not None
            quality = (f"F1 {fit.after.f1:.3f}, FPR {fit.after.fpr:.3f}, ROC-AUC {_num(fit.auc)}, "
                       f"{fit.positives} of {fit.total} positive")
            text = set_value(text, ["calibration", "quality", fit.key], quality)
        return text

    return change

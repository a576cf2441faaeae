"""`tactful review`: label the texts that teach the most, one key each."""

from __future__ import annotations

import json
import logging
import random
import sys
from collections.abc import Iterable, Iterator
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated

import typer

from tactful.backends import Backend
from tactful.commands.options import (
    BackendOpt,
    HostOpt,
    IdFieldOpt,
    InputFormat,
    InputFormatOpt,
    JobsOpt,
    JsonlFieldOpt,
    MaxFprOpt,
    ModelOpt,
    ModeOpt,
    NoCacheOpt,
    ProfileOpt,
    Representation,
    RepresentationOpt,
    RetriesOpt,
    WholeOpt,
    input_format_of,
)
from tactful.engine.answer import Contract
from tactful.errors import EXIT_OK, BackendError, UsageError
from tactful.evaluation.labels import BANK_LABEL_FIELD, GoldLabels
from tactful.io.atomic import atomic_write_text
from tactful.io.console import say
from tactful.io.destinations import claim, profile_files
from tactful.io.progress import ProgressBar, RunStats
from tactful.io.readers import STDIN, ReadOptions, read_inputs, resolve_paths
from tactful.learning import choose
from tactful.learning.head import PROMPT, TEXT
from tactful.moderator import Moderator
from tactful.profile.load import Profile
from tactful.records import InputRecord
from tactful.review import missing_extra
from tactful.review.labels import Labelled, LabelsFile
from tactful.review.queue import Candidate, margin, pick
from tactful.review.refit import CachedVectors, LearnerRefit, RefitReport
from tactful.review.session import Judged, Refit, Session, answered, with_scores
from tactful.settings import Overrides, Settings, resolve
from tactful.textclip import plural

DEFAULT_LABELS = Path("reviewed.jsonl")
DEFAULT_POOL = 300
DEFAULT_REFIT_EVERY = 5
_log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ReviewOptions:
    read: ReadOptions
    labels: Path
    pool: int
    refit_every: int
    batch: int | None
    output: Path | None
    force: bool
    jobs: int
    use_cache: bool
    max_fpr: float = choose.DEFAULT_MAX_FPR
    representation: str = TEXT  # what a head reads (learning.head)


def command(
    ctx: typer.Context,
    paths: Annotated[list[str] | None, typer.Argument(metavar="FILE", help="JSONL exports or text files to review.", show_default=False)] = None,
    labels: Annotated[Path, typer.Option("--labels", "-l", metavar="FILE", help="The labels file: answers are appended here, and texts it holds are not asked again.")] = DEFAULT_LABELS,
    pool: Annotated[int, typer.Option("--pool", min=2, metavar="N", help="Judge at most N texts, a fixed random sample of a larger input.")] = DEFAULT_POOL,
    refit_every: Annotated[int, typer.Option("--refit-every", min=1, metavar="N", help="Refit and show the quality every N answers.")] = DEFAULT_REFIT_EVERY,
    batch: Annotated[int | None, typer.Option("--batch", min=1, metavar="N", help="Write the next N texts to label to --output, as JSONL, instead of asking.", show_default=False)] = None,
    output: Annotated[Path | None, typer.Option("--output", "-o", metavar="FILE", help="With --batch: the file to write.", show_default=False)] = None,
    force: Annotated[bool, typer.Option("--force", metavar="", help="With --batch: overwrite an existing --output.")] = False,
    import_file: Annotated[Path | None, typer.Option("--import", metavar="FILE", help="Append the answers filled in a --batch file to --labels, and exit.", show_default=False)] = None,
    max_fpr: MaxFprOpt = choose.DEFAULT_MAX_FPR,
    representation: RepresentationOpt = Representation.text,
    profile: ProfileOpt = None,
    model: ModelOpt = None,
    host: HostOpt = None,
    backend: BackendOpt = None,
    mode: ModeOpt = None,
    jobs: JobsOpt = 1,
    retries: RetriesOpt = None,
    no_cache: NoCacheOpt = False,
    input_format: InputFormatOpt = InputFormat.auto,
    field: JsonlFieldOpt = "text",
    id_field: IdFieldOpt = "id",
    whole: WholeOpt = False,
) -> int:
    """Label the texts that teach tactful the most, one key per answer.

    \b
    Judges the texts, then shows one at a time: the text, the model's verdict
    and score. Keys: 1-9 a blocked category, a acceptable, s skip, u undo, q
    quit. Near the decision boundary first, unlike each other, both sides.
    Each answer is saved at once to --labels (JSONL: id, text, labels) and
    never asked again; quit or kill any time and run the same command to go
    on. Every few answers it refits with calibrate's learner (threshold,
    head, both) and shows the cross-validated choice and whether more pay.

    \b
    Label elsewhere: --batch N -o FILE writes the next N texts with
    "labels": null; fill in a list of categories ([] for acceptable), then
    --import FILE appends them to --labels.

    \b
    Then: tactful calibrate reviewed.jsonl (or eval, or examples import).

    \b
    Examples:
      tactful review export.jsonl --field content --labels ours.jsonl
      tactful review export.jsonl --batch 40 -o next.jsonl
      tactful review --import next.jsonl
    """
    overrides = Overrides(profile=profile, model=model, hosts=host, backend=backend, mode=mode,
                          retries=retries, scores=True)
    options = ReviewOptions(
        read=ReadOptions(input_format_of(ctx, input_format), field, id_field, whole),
        labels=labels, pool=pool, refit_every=refit_every, batch=batch, output=output, force=force,
        jobs=jobs, use_cache=not no_cache, max_fpr=max_fpr, representation=representation.value,
    )
    if import_file is not None:
        if paths or batch is not None:
            raise UsageError("--import reads answers back and asks nothing: drop the FILE arguments and --batch")
        settings = resolve(overrides)
        import_answers(import_file, options.labels, settings.profile)
        return quality_after_import(settings, options)
    return review(paths or [], overrides, options)


def review(paths: list[str], overrides: Overrides, options: ReviewOptions, refit: Refit | None = None,
           backend: Backend | None = None) -> int:
    """A review of ``paths``: asked in the terminal, or written out with ``--batch``.

    ``refit``: what learns from the labels and reports its cross-validated quality; by
    default calibrate's learner on the model's probabilities and representations
    (``learner_refit``).
    ``backend``: judge on this one instead of the profile's (as ``Moderator`` takes it).
    """
    _check(paths, options)
    settings = resolve(overrides)
    profile = settings.profile
    if not profile.blocked:
        raise UsageError("nothing is blocked in this profile, so there is nothing to label: `tactful profile block SLUG` first")
    files = resolve_paths(paths)
    _claim(files, profile, options)
    contract = Contract.for_profile(profile)
    store = LabelsFile(options.labels)
    earlier = store.read()
    if options.batch is None:
        store.check_writable()  # before the model is loaded, not at the first answer
    records = _pool(read_inputs(files, options.read), {a.id for a in earlier}, options.pool)
    if not records and not earlier:
        raise UsageError(f"no text to review in {', '.join(files)}")
    # The prompt's own probabilities, not a saved head's, are what the refit learns from
    # (as calibrate does); the model stays open for the refit to embed the labelled texts.
    with Moderator(settings, backend=backend, use_cache=options.use_cache, use_head=False) as moderator:
        judged = judge(moderator, [*records, *(_record(a) for a in earlier)], options.jobs)
        earlier = with_scores(earlier, {j.id: j.scores for j in judged})
        fresh = judged[:len(records)]  # the rest are the earlier answers' texts
        refit = refit or learner_refit(moderator, contract, options)
        if options.batch is not None:
            return write_batch(fresh, earlier, contract, refit, options)
        return _ask(Session(fresh, store, contract, earlier), refit, options)


def _check(paths: list[str], options: ReviewOptions) -> None:
    """Refuse what cannot work before any model is loaded."""
    if not paths:
        raise UsageError("no texts to review: pass JSONL exports or text files (tactful review FILE...)")
    if (options.output is not None or options.force) and options.batch is None:
        raise UsageError("--output and --force go with --batch N: add it, or drop them to review here")
    if options.batch is not None and options.output is None:
        raise UsageError("--batch writes the texts to a file: add --output FILE")
    if options.batch is not None:
        return
    if STDIN in paths:
        raise UsageError("the review reads its keys from the terminal, so the texts cannot come on stdin: pass them as files")
    if not (sys.stdin.isatty() and sys.stdout.isatty()):
        raise UsageError("tactful review asks in a terminal, and this is not one: label elsewhere with "
                         "--batch N -o FILE, then bring the answers back with --import FILE")
    missing = missing_extra()
    if missing is not None:
        raise UsageError(missing)


def _claim(files: list[str], profile: Profile, options: ReviewOptions) -> None:
    """Neither the labels file nor a batch file may be a file this run reads."""
    reads: list[str | Path] = [*files, *profile_files(profile)]
    claim(options.labels, "--labels", reads, overwrite=True)  # an existing one is appended to: resumed
    if options.output is not None:
        claim(options.output, "--output", [*reads, options.labels], overwrite=options.force)


def learner_refit(moderator: Moderator, contract: Contract, options: ReviewOptions) -> LearnerRefit:
    """calibrate's learner on the labels so far; the threshold alone, said why, where no
    head can be learned (not binary mode). scikit-learn is there: an interactive review
    refuses to start without it (``missing_extra``), and ``show_quality`` stops first."""
    def embed(texts: list[str]) -> Iterator[list[float]]:
        items = [(InputRecord(f"labelled {i}", text, {}, "the labels"), None) for i, text in enumerate(texts, 1)]
        return moderator.representations(items, prompt_state=options.representation == PROMPT)

    if contract.mode != "binary":
        return LearnerRefit(contract, max_fpr=options.max_fpr,
                            note=("only the threshold is fitted: a head is learned in binary mode only "
                                  f"(this profile is in {contract.mode} mode)"))
    return LearnerRefit(contract, CachedVectors(embed), max_fpr=options.max_fpr)


# ---------------------------------------------------------------- texts and their scores


def _pool(records: Iterable[InputRecord], answered: set[str], size: int) -> list[InputRecord]:
    """The texts to judge: readable, one per id, not labelled yet; a fixed sample of ``size``
    when there are more (the same sample every run, so a resumed review asks the same texts)."""
    seen, kept, unreadable = set(answered), [], 0
    for record in records:
        if record.error is not None or not record.text or record.image is not None:
            unreadable += 1
            continue
        if record.id not in seen:
            seen.add(record.id)
            kept.append(record)
    if unreadable:
        _log.warning(f"{plural(unreadable, 'record')} with no text to show left out (unreadable, empty or an image)")
    if len(kept) <= size:
        return kept
    chosen = sorted(random.Random(0).sample(range(len(kept)), size))
    return [kept[i] for i in chosen]


def _record(answer: Labelled) -> InputRecord:
    return InputRecord(answer.id, answer.text, {"id": answer.id, "text": answer.text}, f"{answer.id} (labelled)")


def judge(moderator: Moderator, records: list[InputRecord], jobs: int = 1) -> list[Judged]:
    """Every text judged by the model, as classify judges it (the results cache included)."""
    judged, stats = [], RunStats()
    with ProgressBar(sys.stderr.isatty(), len(records)) as bar, closing(moderator.results(records, jobs)) as results:
        for result in results:
            stats.add(result)
            bar.update(stats)
            m = result.moderation
            if m.error is not None:
                _log.warning(result.record.located(m.error))
            judged.append(Judged(result.record.id, result.record.text or "", result.record.source, m.scores,
                                 m.flagged, tuple(m.labels), m.to_json()))
    return judged


# ---------------------------------------------------------------- asking


def _ask(session: Session, refit: Refit, options: ReviewOptions) -> int:
    from tactful.review.ui import ReviewApp

    before = len(session.answers)
    app = ReviewApp(session, refit, options.refit_every, str(options.labels))
    app.run()
    if app.failure is not None:
        raise app.failure
    say(f"tactful: {plural(session.answered_now, 'answer')} saved in this review, {len(session.answers)} in "
        f"{options.labels} ({before} before)", sys.stderr)
    say(next_step(app.report, options), sys.stderr)
    return EXIT_OK


def next_step(report: RefitReport | None, options: ReviewOptions) -> str:
    """What to run to use the labels. A review writes nothing but the labels file: where the
    refit chose a head, calibrate fits it on them and saves it beside the profile."""
    command = f"tactful calibrate {options.labels}"
    if options.representation != TEXT:
        command += f" --representation {options.representation}"
    if options.max_fpr != choose.DEFAULT_MAX_FPR:
        command += f" --max-fpr {options.max_fpr:g}"
    if report is None or not report.head_wins:
        return f"tactful: next: {command}"
    return (f"tactful: the last refit chose the {report.winner} (cross-validated F1 {report.f1 or 0.0:.2f}); "
            f"the profile is unchanged until {command} fits it and saves it beside the profile")


def show_quality(refit: Refit, labelled: list[Labelled], options: ReviewOptions) -> None:
    """The refit's report on the labels so far, on stderr (where no review screen shows it),
    and calibrate's command where it chose a head."""
    if not labelled:
        return
    if not choose.available():
        say(f"tactful: the quality of the labels so far needs scikit-learn: `{choose.INSTALL_HINT}`", sys.stderr)
        return
    report = refit(labelled)
    say("tactful: the labels so far, refitted:", sys.stderr)
    for line in report.lines():
        say(f"  {line}", sys.stderr)
    if report.head_wins:
        say(next_step(report, options), sys.stderr)


# ---------------------------------------------------------------- batches


def write_batch(judged: list[Judged], earlier: list[Labelled], contract: Contract, refit: Refit,
                options: ReviewOptions) -> int:
    """The next ``--batch`` texts to label, as JSONL with ``labels`` left null for a person to
    fill in; and the quality of the labels so far."""
    n, output = options.batch, options.output
    assert n is not None and output is not None
    by_id = {j.id: j for j in judged}
    known = [answered(a, contract) for a in earlier]
    picked = pick([Candidate(j.id, j.text, margin(j.scores, contract)) for j in judged], n, known)
    lines = [json.dumps(_batch_line(by_id[c.id]), ensure_ascii=False) + "\n" for c in picked]
    atomic_write_text(output, "".join(lines))
    say(f"tactful: wrote {plural(len(lines), 'text')} to {output}; set each line's \"{BANK_LABEL_FIELD}\" to a list "
        f"of categories ([] for acceptable), then: tactful review --import {output}", sys.stderr)
    show_quality(refit, earlier, options)
    return EXIT_OK


def _batch_line(judged: Judged) -> dict[str, object]:
    return {"id": judged.id, "text": judged.text, BANK_LABEL_FIELD: None, "moderation": judged.moderation}


def import_answers(path: Path, labels_path: Path, profile: Profile) -> None:
    """Append the answers filled in ``path`` to the labels file; all or none."""
    claim(labels_path, "--labels", [path, *profile_files(profile)], overwrite=True)
    store = LabelsFile(labels_path)
    answered = {a.id for a in store.read()}
    gold = GoldLabels(profile)
    answers, blank, again = [], 0, 0
    for record, value in _filled(path):
        if value is None:
            blank += 1
            continue
        slugs = gold.slugs(value)
        if slugs is None:
            raise UsageError(f"{record.source}: \"{BANK_LABEL_FIELD}\" is not a list of categories; "
                             "fix the line ([] for acceptable) and import again")
        if record.id in answered:
            again += 1
            continue
        answered.add(record.id)
        answers.append(Labelled(record.id, record.text or "", tuple(slugs)))
    gold.check(str(path))
    store.append(answers)
    say(f"tactful: {plural(len(answers), 'answer')} added to {labels_path}; {blank} left blank, "
        f"{again} already labelled there (kept as they were)", sys.stderr)


def quality_after_import(settings: Settings, options: ReviewOptions) -> int:
    """Every answer in the labels file judged (the results cache holds those a batch judged)
    and refitted, its quality shown. The answers are imported already: a model that cannot
    be reached costs the report, not the import."""
    answers = LabelsFile(options.labels).read()
    if not answers:
        return EXIT_OK
    try:
        with Moderator(settings, use_cache=options.use_cache, use_head=False) as moderator:
            judged = judge(moderator, [_record(a) for a in answers], options.jobs)
            labelled = with_scores(answers, {j.id: j.scores for j in judged})
            show_quality(learner_refit(moderator, Contract.for_profile(settings.profile), options), labelled, options)
    except BackendError as exc:
        _log.warning(f"the answers are imported; their quality is not shown: {exc.message}")
    return EXIT_OK


def _filled(path: Path) -> Iterator[tuple[InputRecord, object]]:
    if not path.is_file():
        raise UsageError(f"{path}: no such file")
    for record in read_inputs([str(path)], ReadOptions(input_format="jsonl")):
        if record.error is not None:
            raise UsageError(f"{record.error}; nothing was imported")
        yield record, record.data.get(BANK_LABEL_FIELD)

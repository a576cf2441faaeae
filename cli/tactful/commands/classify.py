"""`tactful classify`: label text from files, JSONL exports or stdin."""

from __future__ import annotations

import json
import shlex
import sys
from collections.abc import Iterable, Mapping
from contextlib import closing
from dataclasses import dataclass
from enum import Enum
from pathlib import Path
from typing import IO, Annotated, Any

import typer

from tactful.backends.prompt_only import PromptOnly
from tactful.commands.options import (
    BackendOpt,
    ContextFieldOpt,
    ContextSizeOpt,
    HostOpt,
    IdFieldOpt,
    ImageFieldOpt,
    InputFormat,
    InputFormatOpt,
    JobsOpt,
    JsonlFieldOpt,
    ModelOpt,
    ModeOpt,
    NoCacheOpt,
    ProfileOpt,
    ReplyToFieldOpt,
    RetriesOpt,
    ScoresOpt,
    ThreadFieldOpt,
    WholeOpt,
    input_format_of,
    value,
)
from tactful.errors import EXIT_OK, Stopped, TactfulError, UsageError, run_exit_code
from tactful.io.console import console
from tactful.io.destinations import claim, profile_files, refuse_stdout_onto_input
from tactful.io.interrupts import stop_on_signals
from tactful.io.output_file import Finished, OutputFile, read_finished
from tactful.io.progress import ProgressBar, RunStats, estimate_total
from tactful.io.readers import STDIN, ReadOptions, read_inputs, resolve_paths
from tactful.io.threads import DEFAULT_LAST, ThreadOptions, with_thread_context
from tactful.io.writers import JsonlWriter, ResultWriter, TableWriter
from tactful.moderator import Moderator
from tactful.records import InputRecord
from tactful.settings import Overrides, Settings, resolve


class OutputFormat(str, Enum):
    jsonl = "jsonl"
    table = "table"


def command(
    ctx: typer.Context,
    paths: Annotated[list[str] | None, typer.Argument(metavar="PATH", help="Files or globs; '-' or nothing for stdin.", show_default=False)] = None,
    profile: ProfileOpt = None,
    model: ModelOpt = None,
    host: HostOpt = None,
    backend: BackendOpt = None,
    mode: ModeOpt = None,
    explain: Annotated[bool | None, typer.Option("--explain/--no-explain", metavar="", help="Ask for a one-sentence rationale per item.", show_default=False)] = None,
    scores: ScoresOpt = False,
    input_format: InputFormatOpt = InputFormat.auto,
    field: JsonlFieldOpt = "text",
    id_field: IdFieldOpt = "id",
    whole: WholeOpt = False,
    output_format: Annotated[OutputFormat | None, typer.Option("--format", "-f", help="Default: table on a terminal, JSONL otherwise (also into --output).", show_default=False)] = None,
    output: Annotated[Path | None, typer.Option("--output", "-o", metavar="FILE", help="Write the results to this file instead of stdout (JSONL, or a table with --format table).")] = None,
    fail_on_flagged: Annotated[bool, typer.Option("--fail-on-flagged", metavar="", help="Exit 1 when any item was flagged.")] = False,
    fail_on_error: Annotated[bool, typer.Option("--fail-on-error", metavar="", help="Exit 4 when any record could not be judged (a run that judged none always exits 4).")] = False,
    show_prompt: Annotated[bool, typer.Option("--show-prompt", metavar="", help="Print the exact request for the first input and exit: its messages, the schema of a sampled answer, and the answer openings whose next-token probabilities decide.")] = False,
    jobs: JobsOpt = 1,
    normalize: Annotated[bool | None, typer.Option("--normalize/--no-normalize", metavar="", help="Undo camouflage (invisible characters, look-alikes, leetspeak) before classifying.", show_default=False)] = None,
    retries: RetriesOpt = None,
    resume: Annotated[bool, typer.Option("--resume", metavar="", help="With --output: check the file holds this input's first results, skip those records, append the rest.")] = False,
    force: Annotated[bool, typer.Option("--force", metavar="", help="With --output: overwrite a file that already holds results.")] = False,
    no_cache: NoCacheOpt = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", metavar="", help="No progress bar and no summary on stderr.")] = False,
    context_field: ContextFieldOpt = None,
    thread_field: ThreadFieldOpt = None,
    reply_to_field: ReplyToFieldOpt = None,
    context_size: ContextSizeOpt = DEFAULT_LAST,
    image_field: ImageFieldOpt = None,
    per_thread: Annotated[bool, typer.Option(
        "--per-thread", metavar="", rich_help_panel="Thread context",
        help="Derailment: judge each thread as one conversation (its latest message and up to --context-size "
             "before it) instead of each message; one record per thread, once the input ends. Needs --thread-field.",
    )] = False,
) -> int:
    """Classify text from files, JSONL exports or stdin.

    Each output record is the input plus a `moderation` object (flagged, labels,
    scores, decided_by, rationale with --explain, model, profile, prompt, error),
    one per input, in order: JSONL when piped or with -o, a table on a terminal.
    With -o FILE a stopped run goes on with --resume; --jobs sets the requests in
    flight. Threads and images: see the options --context-field, --thread-field
    and --image-field, and the docs.

    Exit codes: 0 done; 1 something flagged (with --fail-on-flagged); 2 usage or
    profile error; 3 backend unreachable; 4 no record could be judged (or any
    could not, with --fail-on-error); 5 output could not be written; 130/143
    stopped by a signal.

    \b
    Examples:
      tactful classify -p samples/profile.toml samples/comments.txt
      tactful classify posts.jsonl --field content -j 4 -o labelled.jsonl
    """
    overrides = Overrides(profile=profile, model=model, hosts=host, backend=backend, mode=mode,
                          explain=explain, normalize=normalize, retries=retries, scores=scores)
    options = ClassifyOptions(
        read=ReadOptions(input_format_of(ctx, input_format), field, id_field, whole, context_field, image_field),
        threads=ThreadOptions(thread_field, reply_to_field, context_size, per_thread),
        output_format=value(output_format),
        output=output,
        fail_on_flagged=fail_on_flagged,
        fail_on_error=fail_on_error,
        show_prompt=show_prompt,
        jobs=jobs,
        resume=resume,
        force=force,
        use_cache=not no_cache,
        quiet=quiet,
        argv=tuple(ctx.obj or sys.argv[1:]),
    )
    return classify(paths or [], overrides, options)


@dataclass(frozen=True)
class ClassifyOptions:
    read: ReadOptions
    threads: ThreadOptions = ThreadOptions()
    output_format: str | None = None  # None: table on a terminal, else JSONL
    output: Path | None = None
    fail_on_flagged: bool = False
    fail_on_error: bool = False
    show_prompt: bool = False
    jobs: int = 1
    resume: bool = False
    force: bool = False
    use_cache: bool = True
    quiet: bool = False
    argv: tuple[str, ...] = ()  # the command line, to print how to resume


def classify(paths: list[str], overrides: Overrides, options: ClassifyOptions) -> int:
    _check(options)
    settings = resolve(overrides)
    files = resolve_paths(paths)
    if files == [STDIN] and sys.stdin.isatty() and not options.quiet:
        # Otherwise a bare `tactful classify` at a prompt just waits, silently.
        print("tactful: reading stdin, one text a line; Ctrl-D to end (or pass files)", file=sys.stderr, flush=True)
    records: Iterable[InputRecord] = with_thread_context(read_inputs(files, options.read), options.threads)
    if options.show_prompt:
        return _show_prompt(records, settings)
    records, finished = _claim_output(options, [*files, *profile_files(settings.profile)], records)
    moderator = Moderator(settings, use_cache=options.use_cache)
    new_file = options.output is not None and not options.output.exists()
    out = None
    try:
        out = OutputFile.open(options.output, finished) if options.output else None
        stats = _run(records, moderator, out, options, files, settings.scores)
    except Stopped as stop:
        return stop.exit_code
    except TactfulError:  # a dead backend, or one that cannot judge what came (an image)
        if new_file and out is not None and out.path.stat().st_size == 0:
            out.path.unlink()  # a backend that never answered leaves no empty file behind
        raise
    finally:
        moderator.close()
    # Lines a resumed run found finished were judged by the run before.
    earlier = out.done if out else 0
    code, why = run_exit_code(stats.done - stats.errors + earlier, stats.errors, stats.flagged,
                              options.fail_on_flagged, options.fail_on_error)
    if why:
        print(f"tactful: error: {why}", file=sys.stderr, flush=True)
    return code


def _claim_output(options: ClassifyOptions, reads: list[str | Path],
                  records: Iterable[InputRecord]) -> tuple[Iterable[InputRecord], Finished | None]:
    """Check where results go before anything is written; with --resume, skip what is done."""
    if options.output is None:
        refuse_stdout_onto_input(reads)
        return records, None
    claim(options.output, "--output", reads, overwrite=options.force or options.resume,
          remedy="add --resume to go on where it stopped, --force to overwrite it, or choose another --output")
    if not options.resume:
        return records, None
    finished = read_finished(options.output, options.read.id_field)
    return finished.rest(records, options.output, options.read.id_field), finished


def _check(options: ClassifyOptions) -> None:
    if options.threads.per_thread:
        _check_per_thread(options)
    if (options.resume or options.force) and options.output is None:
        raise UsageError("--resume and --force work on an output file: add --output FILE")
    if options.resume and options.force:
        raise UsageError("--resume keeps the output file and --force overwrites it: choose one")
    if options.resume and options.output_format == "table":
        raise UsageError("--resume needs JSONL output: drop --format table")


def _check_per_thread(options: ClassifyOptions) -> None:
    if options.threads.thread_field is None:
        raise UsageError("--per-thread groups messages by thread: add --thread-field FIELD")
    if options.threads.reply_to_field is not None:
        raise UsageError("--per-thread judges each thread's latest messages, whatever they reply to: drop --reply-to-field")
    if options.read.context_field is not None:
        raise UsageError("--per-thread reads a thread from its messages, not from --context-field: drop one or the other")
    if options.read.image_field is not None:
        # A thread is judged as text: its images would be dropped without a word.
        raise UsageError("--per-thread judges the text of a conversation, not images: drop --image-field")


def _run(records: Iterable[InputRecord], moderator: Moderator, out: OutputFile | None,
         options: ClassifyOptions, files: list[str], show_scores: bool) -> RunStats:
    """Classify and write; on a signal or a dead backend, close cleanly and say how to go on."""
    stats = RunStats()
    stream = out.handle if out else sys.stdout
    writer = _writer(options, stream, show_scores)
    show_bar = not options.quiet and sys.stderr.isatty()
    # Lines in, threads out: with --per-thread the count is not known ahead.
    total = estimate_total(files, options.read) if show_bar and not options.threads.per_thread else None
    if total is not None and out is not None:
        total = max(total - out.done, 0)
    reason = None
    try:
        above = writer.console if isinstance(writer, TableWriter) else None  # the bar stays below the table
        with stop_on_signals(), ProgressBar(show_bar, total, above) as bar, \
                closing(moderator.results(records, options.jobs)) as results:
            for result in results:
                writer.write(result)
                stats.add(result)
                bar.update(stats)
    except Stopped as stop:
        reason = stop.reason
        raise
    except TactfulError:
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
            print(stats.summary(out.done if out else 0, moderator.served()), file=sys.stderr, flush=True)
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


def _show_prompt(records: Iterable[InputRecord], settings: Settings) -> int:
    """Print the exact request for the first readable input, without calling a model."""
    profile = settings.profile
    first = next((r for r in records if r.text is not None), InputRecord("", "", {}, ""))
    with Moderator(settings, backend=PromptOnly(profile.model.name)) as moderator:
        request = moderator.first_request(first)
        openings = moderator.answer_openings()
        shown: dict[str, object] = {
            "model": profile.model.name,
            "backend": profile.model.backend,
            "prompt": moderator.fingerprint,
            "format": request.schema,
            "messages": [_shown(message, first) for message in request.messages],
        }
    if openings is not None:
        # Where the answer's probabilities are read: after each opening, over its values.
        shown["probed"] = [{"opening": q.opening, "values": list(q.choices)} for q in openings]
    json.dump(shown, sys.stdout, ensure_ascii=False, indent=2)
    sys.stdout.write("\n")
    return EXIT_OK


def _shown(message: Mapping[str, Any], record: InputRecord) -> dict[str, Any]:
    """A message as --show-prompt prints it: an image as what it is, not megabytes of base64."""
    if not message.get("images") or record.image is None:
        return dict(message)
    picture = record.image
    described = f"<{picture.mime}, {picture.width}x{picture.height}, {len(picture.data)} bytes, sent as base64>"
    return {**message, "images": [described]}


def _writer(options: ClassifyOptions, stream: IO[str], scores: bool) -> ResultWriter:
    fmt = options.output_format
    if fmt is None:
        fmt = "table" if options.output is None and sys.stdout.isatty() else "jsonl"
    if fmt == "table":
        return TableWriter(console(file=stream, soft_wrap=False), scores)
    return JsonlWriter(stream)

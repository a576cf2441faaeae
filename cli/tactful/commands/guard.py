"""`tactful guard`: pass a stream through, stop it the moment it turns harmful."""

from __future__ import annotations

import codecs
import json
import re
import sys
from collections.abc import Iterator
from typing import Annotated, Any, BinaryIO, TextIO

import typer

from tactful.commands.options import BackendOpt, HostOpt, ModelOpt, ProfileOpt, RetriesOpt
from tactful.errors import EXIT_FLAGGED, EXIT_OK, EXIT_UNJUDGED, OutputClosed
from tactful.guard import Event, Guard, GuardOptions
from tactful.io.console import json_safe, say
from tactful.moderator import Moderator
from tactful.records import InputRecord, Moderation
from tactful.settings import Overrides, resolve

CHUNK = 4096  # bytes read at a time: whatever has arrived, up to this
# Bytes that are not UTF-8 arrive as lone surrogates (surrogateescape): written out again
# as the very same bytes, judged as U+FFFD.
UNDECODABLE = re.compile("[\udc80-\udcff]")


def command(
    profile: ProfileOpt = None,
    model: ModelOpt = None,
    host: HostOpt = None,
    backend: BackendOpt = None,
    retries: RetriesOpt = None,
    every: Annotated[int, typer.Option("--every", min=1, metavar="N", help="Judge again once this many new characters have arrived (at the next clause or sentence end).")] = 80,
    first: Annotated[int, typer.Option("--first", min=1, metavar="N", help="Characters to gather before the first check.")] = 40,
    hold: Annotated[bool, typer.Option("--hold/--no-hold", help="Pass text on only after a check has judged it (--no-hold: as it arrives; the stop cuts the rest).")] = True,
    events: Annotated[bool, typer.Option("--events", metavar="", help="Write one JSON line per check, stop and end to stderr, for programs.")] = False,
) -> int:
    """Pass stdin to stdout, judging it as it grows; stop the moment it is flagged.

    Made for generated text and live feeds. The text so far is judged each time a
    clause or sentence ends and --every new characters have arrived (the first
    time after --first). When a blocked category reaches its threshold, nothing
    more is passed on, one line on stderr names the category and where the
    stream was stopped, and the exit code is 1.

    Exit codes: 0 the whole stream passed; 1 stopped (flagged); 2 usage or
    profile error; 3 backend unreachable; 4 stopped because a check could not be
    judged (the guard fails closed), or the input held no text; 5 output could
    not be written.

    \b
    Example:
      ollama run llama3.1 "..." | tactful guard -p community.toml
    """
    settings = resolve(Overrides(profile=profile, model=model, hosts=host, backend=backend, retries=retries))
    options = GuardOptions(every=every, first=first, hold=hold)
    if sys.stdin.isatty() and not events:
        print("tactful: guard: reading stdin; Ctrl-D to end", file=sys.stderr, flush=True)
    moderator = Moderator(settings)
    try:
        def judge(text: str) -> Moderation:
            decoded = UNDECODABLE.sub("\ufffd", text)
            return moderator.judge(InputRecord("stream", decoded, {}, "stdin")).moderation

        guard = Guard(judge, options)
        return _run(guard, _pieces(sys.stdin.buffer), sys.stdout.buffer, sys.stderr, events)
    finally:
        moderator.close()


def _pieces(stream: BinaryIO) -> Iterator[str]:
    """Text as it arrives: each read returns what is there, decoded without splitting a
    character; a byte that is not UTF-8 is kept as a lone surrogate (``UNDECODABLE``)."""
    decoder = codecs.getincrementaldecoder("utf-8")(errors="surrogateescape")
    read = getattr(stream, "read1", stream.read)  # read1: what has arrived, without waiting for more
    while chunk := read(CHUNK):
        if text := decoder.decode(chunk):
            yield text
    if tail := decoder.decode(b"", final=True):
        yield tail


def _run(guard: Guard, pieces: Iterator[str], out: BinaryIO, err: TextIO, events: bool) -> int:
    code = EXIT_OK
    for event in guard.feed(pieces):
        if event.kind == "end" and guard.checks == 0:
            # Nothing arrived to judge: like any run that judged nothing, not a success.
            code = EXIT_UNJUDGED
            if not events:
                say("tactful: guard: the input held no text; nothing was judged", err)
        if event.kind == "pass":
            try:
                out.write(event.text.encode("utf-8", "surrogateescape"))  # byte for byte as it came
                out.flush()
            except BrokenPipeError:
                raise OutputClosed() from None
            continue
        if events:
            print(json_safe(json.dumps(_event_json(event, guard), ensure_ascii=False)), file=err, flush=True)
        if event.kind == "stop":
            assert event.moderation is not None
            code = EXIT_FLAGGED if event.moderation.flagged else EXIT_UNJUDGED
            if not events:
                say(f"tactful: guard: stopped after {event.offset} characters: {_why(event.moderation)}", err)
    return code


def _why(moderation: Moderation) -> str:
    if moderation.flagged is None:
        return f"the text so far could not be judged ({moderation.error})"
    labels = ", ".join(moderation.labels) or "flagged"
    score = max((moderation.scores or {}).values(), default=None)
    return labels + (f" (score {score:.2f})" if score is not None else "")


def _event_json(event: Event, guard: Guard) -> dict[str, Any]:
    data: dict[str, Any] = {"event": event.kind, "offset": event.offset}
    if event.moderation is not None:
        m = event.moderation
        # Scores as every record writes them (rounded), not as the arithmetic left them.
        data.update(judged=guard.checked, flagged=m.flagged, labels=m.labels, scores=m.to_json().get("scores"), error=m.error)
    if event.kind == "end":
        data["checks"] = guard.checks
    return data

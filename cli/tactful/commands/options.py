"""Options shared by several commands, each declared once.

A command takes them as ``profile: ProfileOpt = None`` and hands them to
``tactful.settings.Overrides``; nothing below the command layer sees Typer. A choice
among a profile key's values takes that key's type from ``profile.schema``, so the two
always offer the same values.
"""

from __future__ import annotations

from collections.abc import Sequence
from enum import Enum
from pathlib import Path
from typing import Annotated

import typer

from tactful.errors import UsageError
from tactful.learning.head import PROMPT, TEXT
from tactful.profile.schema import Backend, Mode


class InputFormat(str, Enum):
    auto = "auto"
    text = "text"
    jsonl = "jsonl"


class Representation(str, Enum):
    """What a learned head reads (``learning.head``)."""

    text = TEXT
    prompt = PROMPT


def value(choice: Enum | None) -> str | None:
    """The plain string of an enum option, or None when it was not given."""
    return None if choice is None else str(choice.value)


ProfileOpt = Annotated[
    Path | None,
    typer.Option(
        "--profile", "-p", show_default=False, metavar="FILE",
        help="Profile TOML. Default: $TACTFUL_PROFILE, ./tactful.toml or .tactful.toml here or in a parent, then the user profile.",
    ),
]
ModelOpt = Annotated[
    str | None,
    typer.Option("--model", "-m", show_default=False, metavar="MODEL", help="Model name (Ollama) or GGUF path / pulled name (embedded). Overrides the profile."),
]
HostOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--host", show_default=False, metavar="URL",
        help="The server's URL (Ollama's default: the profile, then $OLLAMA_HOST, then localhost:11434; openai: "
             "http://HOST:PORT/v1). Repeat it to spread requests across several servers, --jobs on each.",
    ),
]
BackendOpt = Annotated[Backend | None, typer.Option("--backend", help="Overrides the profile's model.backend.", show_default=False)]
ModeOpt = Annotated[Mode | None, typer.Option("--mode", help="Overrides the profile's task.mode.", show_default=False)]
JobsOpt = Annotated[int, typer.Option("--jobs", "-j", min=1, max=64, metavar="N", help="Requests in flight at once.")]
RetriesOpt = Annotated[
    int | None,
    typer.Option("--retries", min=0, max=20, show_default=False, metavar="N", help="Retries of a busy or dropped backend before giving up (exit 3)."),
]
NoCacheOpt = Annotated[bool, typer.Option("--no-cache", metavar="", help="Neither read nor fill the results cache: ask the model for every item.")]
MaxFprOpt = Annotated[float, typer.Option("--max-fpr", min=0.0, max=1.0, metavar="RATE", help="The false-positive rate a threshold or head may reach: the best F1 under it wins.")]
RepresentationOpt = Annotated[Representation, typer.Option("--representation", help="What a head reads: text (the model's own vector of the bare text; deciding then costs only the text) or prompt (its hidden state where tactful's prompt is answered; embedded backend).")]
LabelFieldOpt = Annotated[
    str,
    typer.Option("--label-field", metavar="FIELD", help="The field holding the gold label(s) (a string or a list); 'labels', the bank's format, is read when 'label' is absent."),
]
ScoresOpt = Annotated[
    bool,
    typer.Option(
        "--scores",
        metavar="",  # a flag: no type to show
        help="Show each record's probabilities in table output (JSONL records always carry them under 'scores').",
    ),
]
# Scores are in every record now; where --scores once turned them on it is still
# accepted so that scripts keep working, and hidden from --help.
LegacyScoresOpt = Annotated[bool, typer.Option("--scores", hidden=True)]
TextFieldOpt = Annotated[str, typer.Option("--field", metavar="FIELD", help="The field holding the text.")]
# Reading inputs as classify does: text files a line an item, JSONL exports by field.
InputFormatOpt = Annotated[
    InputFormat,
    typer.Option("--input-format", help="auto: .jsonl/.ndjson files are JSONL, everything else (stdin too) is text."),
]
JsonlFieldOpt = Annotated[
    str,
    typer.Option("--field", metavar="FIELD",
                 help="JSONL: the field holding the text (dotted path for nested). Given, it makes every input JSONL, stdin too."),
]
IdFieldOpt = Annotated[
    str,
    typer.Option("--id-field", metavar="FIELD",
                 help="JSONL: the field holding the id (default file:line when absent). Given, it makes every input JSONL."),
]
WholeOpt = Annotated[bool, typer.Option("--whole", metavar="", help="Text files: one item per file instead of one per line.")]
ContextFieldOpt = Annotated[
    str | None,
    typer.Option(
        "--context-field", show_default=False, metavar="FIELD", rich_help_panel="Thread context",
        help="JSONL: the field holding the thread's earlier messages, oldest first (a list of strings, or of objects "
             "whose --field holds the text). They are read to understand the text, never judged.",
    ),
]
ThreadFieldOpt = Annotated[
    str | None,
    typer.Option(
        "--thread-field", show_default=False, metavar="FIELD", rich_help_panel="Thread context",
        help="JSONL: the field naming each message's thread; each text is read after its thread's latest "
             "messages earlier in the input.",
    ),
]
ReplyToFieldOpt = Annotated[
    str | None,
    typer.Option(
        "--reply-to-field", show_default=False, metavar="FIELD", rich_help_panel="Thread context",
        help="JSONL: the field holding the id (--id-field) of the message each one answers; each text is read "
             "after the chain it replies to.",
    ),
]
ImageFieldOpt = Annotated[
    str | None,
    typer.Option(
        "--image-field", show_default=False, metavar="FIELD", rich_help_panel="Images",
        help="JSONL: the field holding an image to judge (a path relative to the file, base64, or a data: URL); "
             "--field is then its caption and may be absent. Image files given as inputs are judged too. Needs a "
             "vision model on Ollama (llava, llama3.2-vision, gemma3, qwen2.5vl).",
    ),
]
ContextSizeOpt = Annotated[
    int,
    typer.Option("--context-size", min=0, max=50, metavar="N", rich_help_panel="Thread context",
                 help="The most earlier messages read with each text (the latest ones)."),
]
MapOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--map", show_default=False, metavar="GOLD=SLUG",
        help="Read gold label GOLD as category SLUG, or GOLD=none as acceptable (repeatable). A gold label that is no category's slug and is not mapped stops the run.",
    ),
]
RestAcceptableOpt = Annotated[
    bool,
    typer.Option("--rest-acceptable", metavar="", help="Read gold labels that name no category and no --map covers as acceptable content."),
]


def parse_mapping(items: Sequence[str] | None) -> dict[str, str]:
    """``--map`` values as {gold label: category slug}."""
    pairs = {}
    for item in items or []:
        gold, sep, slug = item.partition("=")
        if not sep or not gold or not slug:
            raise UsageError(f"--map {item!r}: expected GOLD=SLUG, e.g. --map toxic=toxicity")
        pairs[gold] = slug
    return pairs


def explicit(ctx: typer.Context, name: str) -> bool:
    """Whether the user gave option ``name`` (not its default)."""
    source = ctx.get_parameter_source(name)
    # By name: Typer vendors its own click, whose ParameterSource is not public.
    return source is not None and source.name not in ("DEFAULT", "DEFAULT_MAP")


# Options that name JSONL fields.
JSONL_OPTIONS = ("field", "id_field", "context_field", "thread_field", "reply_to_field", "image_field")


def input_format_of(ctx: typer.Context, chosen: InputFormat) -> str:
    """--field, --id-field and the thread fields name JSONL fields: given explicitly, they make every input JSONL.

    Ignoring them for stdin or a .txt file would send each whole JSON line, ids and
    handles included, to the model as the text.
    """
    named = [f"--{name.replace('_', '-')}" for name in JSONL_OPTIONS if explicit(ctx, name)]
    if not named:
        return chosen.value
    if chosen is InputFormat.text:
        raise UsageError(f"{' and '.join(named)} name JSONL fields, but --input-format is text: drop one or the other")
    return InputFormat.jsonl.value

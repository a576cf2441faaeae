"""Reading input: paths, globs or stdin; plain text or JSONL; streamed, never read whole.

Every line that should be an item becomes exactly one ``InputRecord``; a line that cannot
be read (bad bytes, bad JSON, missing field) becomes a record with ``error`` set, so that
it comes out as an error record and nothing is silently dropped.
"""

from __future__ import annotations

import glob
import json
import sys
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import IO, Any

from tactful.errors import UsageError
from tactful.records import InputRecord

JSONL_SUFFIXES = {".jsonl", ".ndjson", ".jsonlines"}
INPUT_FORMATS = ("auto", "text", "jsonl")
STDIN = "-"
UTF8_BOM = b"\xef\xbb\xbf"
MAX_JSON_DEPTH = 500  # far beyond any real export, well within Python's recursion limit


@dataclass(frozen=True)
class ReadOptions:
    input_format: str = "auto"
    field: str = "text"
    id_field: str = "id"
    whole: bool = False
    # JSONL: the field holding the thread's earlier messages, oldest first (a list of
    # strings, or of objects whose ``field`` holds the text); None: no context.
    context_field: str | None = None
    # JSONL: the field holding an image to judge (a path, relative to the JSONL file, or
    # base64 or a data: URL); the text field is then its caption, and may be absent.
    image_field: str | None = None


def resolve_paths(paths: Iterable[str]) -> list[str]:
    """Expand globs and check that every file exists, before any work starts."""
    resolved: list[str] = []
    for raw in paths:
        if raw == STDIN:
            resolved.append(STDIN)
            continue
        if Path(raw).is_file():
            resolved.append(raw)
            continue
        if Path(raw).is_dir():
            raise UsageError(f"{raw}: is a directory (pass files or a glob such as '{raw}/**/*.txt')")
        matches = sorted(m for m in glob.glob(raw, recursive=True) if Path(m).is_file())
        if not matches:
            what = "no file matches" if glob.has_magic(raw) else "no such file"
            raise UsageError(f"{raw}: {what}")
        resolved.extend(matches)
    return resolved or [STDIN]


def read_inputs(paths: list[str], options: ReadOptions, stdin: IO[bytes] | None = None) -> Iterator[InputRecord]:
    for path in paths:
        if path == STDIN:
            yield from read_stream(stdin or sys.stdin.buffer, "stdin", options)
        elif is_image_path(path):  # whatever the input format: a PNG read as lines is bytes of junk
            yield image_file_record(path)
        else:
            with open(path, "rb") as handle:
                yield from read_stream(handle, path, options)


def is_image_path(path: str) -> bool:
    from tactful.io.images import is_image_path as by_suffix  # Pillow loads only for images

    return by_suffix(path)


def image_file_record(path: str) -> InputRecord:
    """An image given as an input file: judged with no caption."""
    from tactful.io.images import ImageError, read_image_file

    data = {"id": path, "image": path}
    try:
        return InputRecord(path, "", data, path, image=read_image_file(path))
    except ImageError as exc:
        return InputRecord(path, None, data, path, str(exc))


def _is_jsonl(name: str, options: ReadOptions) -> bool:
    if options.input_format != "auto":
        return options.input_format == "jsonl"
    return Path(name).suffix.lower() in JSONL_SUFFIXES


def read_stream(handle: IO[bytes], name: str, options: ReadOptions) -> Iterator[InputRecord]:
    if options.whole:
        yield _whole(handle.read(), name)
        return
    for number, raw in enumerate(handle, start=1):
        record = line_record(raw, name, number, options)
        if record is not None:
            yield record


def line_record(raw: bytes, name: str, number: int, options: ReadOptions) -> InputRecord | None:
    """Line ``number`` (from 1) of the file ``name`` as its record; None for a blank line.

    The one place a line becomes a record, whether the whole file is read here or its lines
    were split out elsewhere (a cluster job hands each worker a batch of numbered lines).
    """
    line, error = _decode(raw)
    if not line.strip():
        return None
    source = f"{name}:{number}"
    if error:
        return InputRecord(source, None, {"id": source, "raw": line}, source, f"{source}: {error}")
    if _is_jsonl(name, options):
        # Image paths in a JSONL file are relative to it; on stdin, to where tactful runs.
        base_dir = Path.cwd() if name == "stdin" else Path(name).parent
        return jsonl_record(line, source, options, base_dir)
    return InputRecord(source, line, {"id": source, "text": line}, source)


def _decode(raw: bytes) -> tuple[str, str | None]:
    # A BOM can start any line, not only the first: `cat a.txt b.txt` of two BOM files.
    raw = raw.rstrip(b"\r\n").removeprefix(UTF8_BOM)
    try:
        return raw.decode("utf-8"), None
    except UnicodeDecodeError as exc:
        # Keep the bytes visible (and the record) rather than guessing an encoding.
        text = raw.decode("utf-8", errors="backslashreplace")
        return text, f"not valid UTF-8 (byte {exc.start}); re-encode the file as UTF-8"


def _whole(data: bytes, name: str) -> InputRecord:
    text, error = _decode(data)
    if error:
        return InputRecord(name, None, {"id": name, "raw": text}, name, f"{name}: {error}")
    return InputRecord(name, text, {"id": name, "text": text}, name)


def jsonl_record(line: str, source: str, options: ReadOptions, base_dir: Path | None = None) -> InputRecord:
    try:
        obj = json.loads(line)
    except (json.JSONDecodeError, RecursionError) as exc:
        msg = exc.msg if isinstance(exc, json.JSONDecodeError) else "nested too deeply"
        return InputRecord(source, None, {"id": source, "raw": line}, source, f"{source}: invalid JSON: {msg}")
    if _too_deep(obj):
        return InputRecord(
            source, None, {"id": source, "raw": line}, source,
            f"{source}: JSON nested more than {MAX_JSON_DEPTH} levels deep",
        )
    if "\\u" in line and _has_lone_surrogate(obj):
        return InputRecord(
            source, None, {"id": source, "raw": line}, source,
            f"{source}: a \\u escape is an unpaired UTF-16 surrogate, not a character; fix the export",
        )
    if not isinstance(obj, dict):
        return InputRecord(
            source, None, {"id": source, "raw": obj}, source,
            f"{source}: expected a JSON object, got {type(obj).__name__}",
        )
    return object_record(obj, source, options, base_dir)


def object_record(obj: dict[str, Any], source: str, options: ReadOptions, base_dir: Path | None = None) -> InputRecord:
    """The record for one object: its text at ``options.field``, its id at ``options.id_field``,
    its image and context where those options name fields."""
    record_id = lookup(obj, options.id_field)
    rid = source if record_id is None or isinstance(record_id, (dict, list)) else str(record_id)
    text = lookup(obj, options.field)
    if text is not None and not isinstance(text, str):
        return InputRecord(rid, None, obj, source, f"{source}: field '{options.field}' is {type(text).__name__}, not a string")
    if options.image_field is not None:
        record = _image_record(obj, rid, text, source, options, base_dir or Path.cwd())
    elif text is None:
        return InputRecord(rid, None, obj, source, f"{source}: no field '{options.field}' (choose one with --field)")
    else:
        record = InputRecord(rid, text, obj, source)
    if options.context_field is None or record.error is not None:
        return record
    context, problem = context_messages(lookup(obj, options.context_field), options.field)
    if problem is not None:
        return InputRecord(rid, None, obj, source, f"{source}: field '{options.context_field}' {problem}")
    return replace(record, context=context)


def _image_record(obj: dict[str, Any], rid: str, caption: str | None, source: str, options: ReadOptions,
                  base_dir: Path) -> InputRecord:
    """An object with an image (and its caption, if any); one without an image is a text."""
    from tactful.io.images import ImageError, image_from_field

    value = lookup(obj, options.image_field or "")
    if value is None:
        if caption is None:
            return InputRecord(rid, None, obj, source, f"{source}: neither field '{options.image_field}' nor '{options.field}' (choose them with --image-field and --field)")
        return InputRecord(rid, caption, obj, source)
    try:
        picture = image_from_field(value, source, base_dir)
    except ImageError as exc:
        return InputRecord(rid, None, obj, source, str(exc))
    return InputRecord(rid, caption or "", obj, source, image=picture)


def context_messages(value: Any, text_field: str) -> tuple[tuple[str, ...], str | None]:
    """A context field's messages, oldest first, or what is wrong with it.

    Absent or null is no context (a thread's first message); one string is one message;
    a list holds strings, or objects with the text at ``text_field`` (an export's replies).
    """
    if value is None:
        return (), None
    items = [value] if isinstance(value, (str, dict)) else value
    if not isinstance(items, list):
        return (), f"is {type(value).__name__}: expected a list of earlier messages (strings or objects)"
    messages: list[str] = []
    for position, item in enumerate(items, start=1):
        text = lookup(item, text_field) if isinstance(item, dict) else item
        if not isinstance(text, str):
            return (), f"item {position} is {type(item).__name__}: expected a string, or an object with '{text_field}'"
        if text.strip():
            messages.append(text)
    return tuple(messages), None


def _too_deep(obj: Any) -> bool:
    # Python's parser stops near 1000 levels, but writing the record out again needs stack
    # too: a record nested just under that limit would crash the writer. Iterative, so the
    # check itself cannot overflow.
    stack: list[tuple[Any, int]] = [(obj, 1)]
    while stack:
        value, depth = stack.pop()
        if depth > MAX_JSON_DEPTH:
            return True
        if isinstance(value, dict):
            stack.extend((child, depth + 1) for child in value.values())
        elif isinstance(value, list):
            stack.extend((child, depth + 1) for child in value)
    return False


def _has_lone_surrogate(obj: Any) -> bool:
    # json.loads accepts "\ud800" alone, but such a string can be neither sent to a model
    # nor written out as UTF-8.
    try:
        json.dumps(obj, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def lookup(obj: dict[str, Any], dotted: str) -> Any:
    """``a.b.c`` in nested objects; a key that itself contains dots wins when present."""
    if dotted in obj:
        return obj[dotted]
    current: Any = obj
    for part in dotted.split("."):
        if not isinstance(current, dict) or part not in current:
            return None
        current = current[part]
    return current

"""tactful's own endpoint, POST /v1/classify: the records `tactful classify` writes.

For what neither borrowed format carries (labels, the decision's reason, notes, a
record's own fields passed through): ``input`` is a text, or a list of texts or JSON
objects (``field`` names the text in an object, ``id_field`` its id, ``context_field``
its thread's earlier messages). ``doNotStore`` as in Perspective. The answer is
``{"records": [...]}``, one per input, in order; a record that could not be judged has
``flagged: null`` and its ``error``, as in the CLI's output.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from tactful.io.readers import ReadOptions, object_record
from tactful.records import InputRecord
from tactful.serve import fields
from tactful.serve.openai_format import MAX_INPUTS
from tactful.serve.problems import ApiError

if TYPE_CHECKING:
    from tactful.serve.service import Service

CLASSIFY_FIELDS = ("input", "field", "id_field", "context_field", "doNotStore")


async def classify(service: Service, body: dict[str, Any]) -> dict[str, Any]:
    records, store = parse_classify(body)
    results = await service.judge(records, store=store)
    return {"records": [result.to_json() for result in results]}


def parse_classify(body: dict[str, Any]) -> tuple[list[InputRecord], bool]:
    fields.only(body, CLASSIFY_FIELDS)
    # Images are not read here: an image field names a path, and a client must not make
    # the server read its files.
    options = ReadOptions(field=fields.text(body, "field") or "text", id_field=fields.text(body, "id_field") or "id",
                          context_field=fields.text(body, "context_field"))
    value = body.get("input")
    items = value if isinstance(value, list) else [value]
    if value is None or not items:
        raise ApiError(400, "input is required: a text, or a list of texts or objects", param="input")
    if len(items) > MAX_INPUTS:
        raise ApiError(400, f"input holds {len(items)} items; send at most {MAX_INPUTS} in one request", param="input")
    return [_record(number, item, options) for number, item in enumerate(items)], not fields.boolean(body, "doNotStore")


def _record(number: int, item: Any, options: ReadOptions) -> InputRecord:
    where = f"input[{number}]"
    if isinstance(item, str):
        return InputRecord(str(number), fields.checked_text(item, where), {"id": number, "text": item}, where)
    if not isinstance(item, dict):
        raise ApiError(400, f"{where} must be a text or an object", param=where)
    record = object_record(item, where, options)
    if record.text is not None:
        fields.checked_text(record.text, f"{where}.{options.field}")
    return record

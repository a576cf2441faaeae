"""Hostile input through `tactful classify`: whatever the bytes, no crash and no traceback,
exactly one output record per input record (blank lines are not records), in order,
exit code 0 when anything was judged, 4 when nothing could be.

Property-based (hypothesis) over what a reader can meet: arbitrary and invalid UTF-8
bytes, NUL bytes, CR and CRLF endings, BOMs, JSON that is not an object, deeply nested
JSON, duplicate ids, lone surrogates; plus single cases for sizes hypothesis would
never try (a 10 MB line, nesting deeper than Python's recursion limit).
"""

from __future__ import annotations

import json

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.fake_ollama import item_text

# The fake server and the cli fixture are reused across examples: they keep no state a
# later example depends on.
HOSTILE = settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])

BOM = b"\xef\xbb\xbf"

raw_lines = st.one_of(
    st.binary(max_size=60),
    st.text(max_size=40).map(lambda t: t.encode("utf-8", "surrogatepass")),
    st.sampled_from([b"\x00", b"you idiot\x00\x00", b"\xff\xfe bad", b"\xc3", BOM + b"x", b"a\rb", b"\t \x0b"]),
)

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3),
    max_leaves=8,
)

jsonl_lines = st.one_of(
    st.builds(lambda t, i: json.dumps({"id": i, "text": t}).encode(), st.text(max_size=40), st.integers(0, 2)),
    json_values.map(lambda v: json.dumps(v).encode()),
    st.integers(1, 400).map(lambda depth: ("[" * depth + "]" * depth).encode()),
    st.integers(1, 300).map(lambda depth: ('{"text": "deep", "n": ' + "[" * depth + "]" * depth + "}").encode()),
    st.just(b'{"text": "lone \\ud800 surrogate"}'),
    st.just(BOM + b'{"text": "bom in the middle"}'),
    raw_lines,
)


@st.composite
def files(draw: st.DrawFn, lines: st.SearchStrategy[bytes]) -> bytes:
    """Lines joined by LF or CRLF, the whole maybe behind a BOM."""
    chosen = draw(st.lists(lines, max_size=6))
    ends = draw(st.lists(st.sampled_from([b"\n", b"\r\n"]), min_size=len(chosen), max_size=len(chosen)))
    body = b"".join(line.replace(b"\n", b" ") + end for line, end in zip(chosen, ends))
    return (BOM if draw(st.booleans()) else b"") + body


def records_expected(data: bytes) -> int:
    """Lines with something besides whitespace after one leading BOM: the records a reader must produce."""
    lines = data.split(b"\n")
    if lines and lines[-1] == b"":
        lines.pop()
    return sum(1 for line in lines if line.decode("utf-8", "replace").removeprefix("\ufeff").strip())


def output_records(stdout: str) -> list[dict]:
    # Split on "\n" only: a text may hold U+2028 or U+0085, which str.splitlines() breaks on.
    return [json.loads(line) for line in stdout.split("\n") if line]


def check_run(run, data: bytes) -> list[dict]:
    assert "Traceback" not in run.stderr
    records = output_records(run.stdout)
    assert len(records) == records_expected(data)
    for record in records:
        moderation = record["moderation"]
        assert (moderation["error"] is None) == isinstance(moderation["flagged"], bool)
    # Success only when something was judged: a run of nothing but errors (or nothing) exits 4.
    judged = any(r["moderation"]["error"] is None for r in records)
    assert run.code == (0 if judged else 4), run.stderr
    if not judged:
        assert "tactful: error: no record" in run.stderr
    return records


@HOSTILE
@given(payload=files(raw_lines))
def test_text_input_never_breaks(cli, ollama_args, tmp_path, payload):
    path = tmp_path / "hostile.txt"
    path.write_bytes(payload)
    records = check_run(cli("classify", *ollama_args, str(path)), payload)
    assert [r["id"] for r in records] == sorted({r["id"] for r in records}, key=lambda i: int(i.rsplit(":", 1)[1]))


@HOSTILE
@given(payload=files(jsonl_lines))
def test_jsonl_input_never_breaks(cli, ollama_args, tmp_path, payload):
    path = tmp_path / "hostile.jsonl"
    path.write_bytes(payload)
    check_run(cli("classify", *ollama_args, str(path)), payload)


@HOSTILE
@given(lines=st.lists(raw_lines, max_size=4))
def test_stdin_never_breaks(cli, ollama_args, lines):
    payload = b"".join(line.replace(b"\n", b" ") + b"\n" for line in lines)
    check_run(cli("classify", *ollama_args, input=payload), payload)


def test_duplicate_ids_each_get_their_record(cli, ollama_args, tmp_path):
    path = tmp_path / "dup.jsonl"
    path.write_text('{"id": 1, "text": "hello"}\n{"id": 1, "text": "you idiot"}\n{"id": 1, "text": "hello"}\n')
    records = output_records(cli("classify", *ollama_args, str(path)).stdout)
    assert [r["id"] for r in records] == [1, 1, 1]
    assert [r["moderation"]["flagged"] for r in records] == [False, True, False]


def test_crlf_and_bom_do_not_reach_the_model(cli, ollama_args, fake_ollama, tmp_path):
    path = tmp_path / "windows.txt"
    path.write_bytes(BOM + b"first line\r\nyou idiot\r\n" + BOM + b"after a second BOM\r\n")
    run = cli("classify", *ollama_args, str(path))
    assert [item_text(r) for r in fake_ollama.chat_requests()] == ["first line", "you idiot", "after a second BOM"]
    assert [r["moderation"]["flagged"] for r in output_records(run.stdout)] == [False, True, False]


def test_nul_bytes_are_text_like_any_other(cli, ollama_args, fake_ollama):
    run = cli("classify", *ollama_args, input=b"you\x00idiot\n")
    assert item_text(fake_ollama.chat_requests()[0]) == "you\x00idiot"
    assert output_records(run.stdout)[0]["text"] == "you\x00idiot"


def test_a_5_mb_line_is_judged_whole_in_overlapping_windows(cli, ollama_args, fake_ollama):
    # Every window differs (a repeated one would be asked once, then come from the cache).
    line = (" ".join(f"calm remark {n}." for n in range(270_000)) + " and you are an idiot").encode()
    run = cli("classify", *ollama_args, input=line + b"\nshort one\n")
    first, second = check_run(run, line + b"\nshort one\n")
    assert first["moderation"]["flagged"] is True  # the insult at the very end was read
    assert first["moderation"]["scores"] == {"flagged": 0.9}  # its window's, the highest
    windows = len(fake_ollama.chat_requests()) - 1
    assert first["moderation"]["notes"] == [f"judged whole in {windows} overlapping windows of at most 6000 characters"]
    # Overlapping by a quarter: about a third more model calls than 6000-character parts.
    assert len(line) / 6000 < windows < len(line) / 4400
    assert all(len(item_text(r)) <= 6000 for r in fake_ollama.chat_requests())
    assert second["moderation"]["error"] is None
    assert "truncated" not in run.stderr


def test_a_10_mb_line_is_truncated_with_a_note_and_counted_when_the_profile_says_so(cli, ollama_args, fake_ollama, tmp_path):
    profile = tmp_path / "p.toml"
    profile.write_text('version = 1\n[task]\nlong_text = "truncate"\n[categories.toxicity]\nblocked = true\n')
    line = ("you idiot " * 1_000_000).encode()
    run = cli("classify", *ollama_args, "-p", str(profile), input=line + b"\nshort one\n")
    first, second = check_run(run, line + b"\nshort one\n")
    assert first["moderation"]["flagged"] is True
    assert first["moderation"]["notes"] == ["truncated from 10000000 to 6000 characters"]
    assert len(item_text(fake_ollama.chat_requests()[0])) == 6000
    assert second["moderation"]["error"] is None
    # The run's summary says a text was not judged whole, not only its record.
    assert "1 truncated to task.max_chars" in run.stderr.splitlines()[-1]


def test_a_10_mb_line_is_a_clear_error_when_the_profile_says_so(cli, ollama_args, fake_ollama, tmp_path):
    profile = tmp_path / "p.toml"
    profile.write_text('version = 1\n[task]\nlong_text = "error"\n[categories.toxicity]\nblocked = true\n')
    line = b"x" * 10_000_000
    run = cli("classify", *ollama_args, "-p", str(profile), input=line + b"\n")
    (record,) = check_run(run, line + b"\n")
    assert record["moderation"]["error"] == (
        "text has 10000000 characters, over task.max_chars = 6000 (set task.long_text to truncate or split)"
    )
    assert fake_ollama.chat_requests() == []


def test_nesting_deeper_than_python_allows_is_an_error_record(cli, ollama_args, tmp_path):
    path = tmp_path / "deep.jsonl"
    deep = "[" * 100_000 + "]" * 100_000
    path.write_text(f'{{"text": "ok"}}\n{deep}\n{{"text": "x", "n": {deep}}}\n{{"text": "you idiot"}}\n')
    records = check_run(cli("classify", *ollama_args, str(path)), path.read_bytes())
    assert [r["moderation"]["flagged"] for r in records] == [False, None, None, True]
    assert "nested too deeply" in records[1]["moderation"]["error"]


def test_nesting_just_under_the_parser_limit_still_gives_one_record_each(cli, ollama_args, tmp_path):
    # Python's parser accepts up to about 1000 levels; writing such a record out again
    # would overflow the stack, so anything past 500 levels is an error record.
    depths = [50, *range(940, 1000, 6)]
    path = tmp_path / "deep.jsonl"
    path.write_text("".join(f'{{"text": "you idiot", "n": {"[" * d}{"]" * d}}}\n' for d in depths))
    first, *deep = check_run(cli("classify", *ollama_args, str(path)), path.read_bytes())
    assert first["moderation"]["flagged"] is True
    assert all("nested" in r["moderation"]["error"] for r in deep)
    assert f"{path}:2: JSON nested more than 500 levels deep" == deep[0]["moderation"]["error"]


def test_table_shows_terminal_escapes_instead_of_running_them(cli, ollama_args):
    run = cli("classify", *ollama_args, "--format", "table", input=b"evil \x1b[2J\x1b]0;owned\x07 you idiot\n")
    assert run.code == 0
    assert "\x1b" not in run.stdout and "\x07" not in run.stdout
    assert "\\x1b[2J" in run.stdout

"""`tactful.Moderator`, the Python API, against the stand-in Ollama server."""

from __future__ import annotations

from pathlib import Path

import pytest
import tactful
from PIL import Image
from tactful.errors import UsageError

from tests import api_calls
from tests.conftest import ROOT, write_profile
from tests.fake_ollama import MODEL


def open_moderator(fake_ollama):  # type: ignore[no-untyped-def]
    return tactful.Moderator.from_profile(model=MODEL, hosts=[fake_ollama.url])


def test_classify_returns_one_record_per_item_in_order(fake_ollama):
    with open_moderator(fake_ollama) as moderator:
        records = moderator.classify(["you idiot", {"id": 7, "text": "see you at the meetup"}, 5], jobs=2)
    assert [r["moderation"]["flagged"] for r in records] == [True, False, None]
    assert records[1]["id"] == 7
    assert "expected a string or a mapping" in records[2]["moderation"]["error"]


def test_classify_reads_context_and_images(fake_ollama, tmp_path):
    fake_ollama.capabilities = ["completion", "vision"]
    red = tmp_path / "red.png"
    Image.new("RGB", (16, 16), (220, 20, 20)).save(red)
    items = [
        {"id": "reply", "text": "agreed", "thread": ["you are a worthless idiot"]},
        {"id": "photo", "img": str(red), "text": "my lunch"},
    ]
    with open_moderator(fake_ollama) as moderator:
        by_context = moderator.classify(items[:1], context_field="thread")
        by_image = moderator.classify(items[1:], image_field="img")
        alone = moderator.classify(items[:1])
    assert by_context[0]["moderation"]["flagged"] is True and by_context[0]["moderation"]["context"] == 1
    assert alone[0]["moderation"]["flagged"] is False
    assert by_image[0]["moderation"]["flagged"] is True


# ---------------------------------------------------------------- the documented calls (tests/api_calls.py)


def fake_profile(path: Path, fake_ollama) -> Path:  # type: ignore[no-untyped-def]
    return write_profile(path, f'version = 1\n[model]\nname = "{MODEL}"\nhost = "{fake_ollama.url}"\n[categories.toxicity]\n')


def test_the_docstring_example_runs_as_written(fake_ollama, tmp_path):
    profile = fake_profile(tmp_path / "tactful.toml", fake_ollama)
    seen = api_calls.docstring_example(str(profile))
    assert [flagged for flagged, _ in seen] == [True, False]
    assert all(set(scores) == {"flagged"} for _, scores in seen)


def test_the_readme_example_runs_as_written(fake_ollama, tmp_path):
    profile = fake_profile(tmp_path / "tactful.toml", fake_ollama)
    records = api_calls.readme_example(profile, "ollama", [fake_ollama.url, fake_ollama.url + "/"])
    assert [(r["id"], r["moderation"]["flagged"], r["moderation"]["labels"]) for r in records] == [
        (1, True, ["toxicity"]), (7, False, [])]


def test_a_lone_text_or_object_is_one_item(fake_ollama):
    texts = api_calls.one_text(fake_ollama.url, MODEL)
    assert [(r["id"], r["text"], r["moderation"]["flagged"]) for r in texts] == [(1, "you idiot", True)]
    objects = api_calls.one_object(fake_ollama.url, MODEL)
    assert [(r["id"], r["moderation"]["flagged"]) for r in objects] == [("a", True)]
    assert len(fake_ollama.chat_requests()) == 2  # one request per item, not per character or key


def test_bad_settings_are_a_usage_error_before_anything_opens(fake_ollama):
    for kwargs, message in [
        ({"backend": "olama"}, "--backend must be one of ollama, embedded, openai, not 'olama'"),
        ({"mode": "binaryy"}, "--mode must be one of binary, multiclass, multilabel, not 'binaryy'"),
        ({"hosts": "htp://x"}, "--host 'htp://x' is not a server URL: the scheme must be http or https, not 'htp'"),
        ({"model": ""}, "--model is empty"),
    ]:
        with pytest.raises(UsageError) as caught:
            tactful.Moderator.from_profile(**{"model": MODEL, "hosts": fake_ollama.url, **kwargs})
        assert caught.value.message.startswith(message)
    assert fake_ollama.chat_requests() == []


def test_the_documented_calls_type_check(monkeypatch):
    mypy = pytest.importorskip("mypy.api", reason="mypy is in the dev extra")
    monkeypatch.setenv("MYPYPATH", str(ROOT / "cli"))  # the source, whatever the install (an editable one hides it)
    wrong = ROOT / "tests" / "api_misuse.py"
    out, err, _ = mypy.run(["--strict", "--no-incremental", "--follow-imports=silent", "--python-version=3.10",
                            "--no-error-summary", str(ROOT / "tests" / "api_calls.py"), str(wrong)])
    assert err == ""
    # Only the misuse file has errors, one on each line it marks: the checker has teeth.
    marked = [n for n, line in enumerate(wrong.read_text().splitlines(), 1) if line.endswith("# wrong")]
    flagged = sorted({int(line.split(":")[1]) for line in out.splitlines() if ": error:" in line})
    assert all(line.startswith(str(wrong)) for line in out.splitlines()), out
    assert flagged == marked, out


# ---------------------------------------------------------------- an injected backend


def test_a_backend_given_is_the_one_asked_and_stays_open(fake_ollama):
    from tactful.backends import open_backend
    from tactful.settings import Overrides, resolve

    # The profile names a server nobody listens on: only the given backend can answer.
    settings = resolve(Overrides(model=MODEL, hosts=["http://127.0.0.1:9"]))
    backend = open_backend(resolve(Overrides(model=MODEL, hosts=[fake_ollama.url])).profile.model)
    try:
        for _ in range(2):  # closing the first moderator left the backend open for the second
            with tactful.Moderator(settings, backend=backend) as moderator:
                assert [r["moderation"]["flagged"] for r in moderator.classify(["you idiot"])] == [True]
    finally:
        backend.close()


def test_a_variant_without_an_example_leaves_it_out_of_the_prompt_only(tmp_path):
    import json

    from tactful.backends.prompt_only import PromptOnly
    from tactful.records import InputRecord
    from tactful.settings import Overrides, resolve

    bank = [("ex-1", "buy followers now", ["spam"]), ("ex-2", "nice roses", []), ("ex-3", "buy my course", ["spam"])]
    (tmp_path / "bank.jsonl").write_text("".join(json.dumps({"id": i, "text": t, "labels": labels}) + "\n" for i, t, labels in bank))
    profile = write_profile(tmp_path / "p.toml", 'version = 1\nexamples = "bank.jsonl"\n[task]\nexample_selection = "fixed"\n'
                            'examples_per_category = 1\n[categories.spam]\nblocked = true\n')
    record = InputRecord("1", "buy followers now", {}, "test")

    def shown(moderator: tactful.Moderator) -> str:
        return json.dumps(moderator.first_request(record).messages[:-1])  # the prompt before the text

    with tactful.Moderator(resolve(Overrides(profile=profile)), backend=PromptOnly("m")) as moderator:
        variant = moderator.without_example("ex-1")
        assert "followers" in shown(moderator) and "roses" in shown(moderator)
        assert "followers" not in shown(variant) and "roses" in shown(variant)
        assert variant.fingerprint != moderator.fingerprint
        assert moderator.without_example("ex-3") is moderator  # not in the prompt: nothing to leave out
        variant.close()  # closes nothing the moderator uses
        assert "followers" in shown(moderator)


# ---------------------------------------------------------------- lines split from files (cluster jobs)


def test_lines_split_from_a_file_give_the_records_the_cli_writes_for_it(fake_ollama, ollama_args, cli, tmp_path):
    export = tmp_path / "posts.jsonl"
    export.write_bytes(b'{"id": 1, "text": "you idiot"}\n\n'  # a blank line has no record
                       b'not json\n{"id": 4, "body": "no text"}\n{"text": "caf\xe9"}\n{"id": 6, "text": "see you"}\n')
    numbered = [(str(export), number, raw) for number, raw in enumerate(export.open("rb"), start=1)]
    with open_moderator(fake_ollama) as moderator:
        # In two batches, as a cluster job hands them out: the line numbers, not the batch, name each record.
        records = moderator.classify_lines(numbered[:3], jobs=2) + moderator.classify_lines(numbered[3:])
    run = cli("classify", *ollama_args, "--no-cache", str(export))
    assert run.code == 0, run.stderr
    assert records == run.records
    assert [r["moderation"]["error"] is None for r in records] == [True, False, False, False, True]
    assert records[1]["moderation"]["error"] == f"{export}:3: invalid JSON: Expecting value"


def test_lines_follow_the_input_format(fake_ollama):
    line = [("posts.txt", 1, b'{"text": "you idiot"}\n')]
    with open_moderator(fake_ollama) as moderator:
        as_text = moderator.classify_lines(line)
        as_jsonl = moderator.classify_lines(line, input_format="jsonl")
        with pytest.raises(UsageError) as caught:
            moderator.classify_lines(line, input_format="json")  # type: ignore[arg-type]
    assert as_text[0]["text"] == '{"text": "you idiot"}' and as_text[0]["id"] == "posts.txt:1"
    assert as_jsonl[0]["text"] == "you idiot"
    assert caught.value.message == "input_format must be one of auto, text, jsonl, not 'json'"

"""Images: `classify` shows a vision model pictures (files, or a JSONL --image-field).

No vision model runs here: these tests check the protocol end to end against the
stand-in Ollama server (what is sent, what comes back) and the errors. The stand-in
"sees" one thing: a mostly red picture is harmful.
"""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest
from PIL import Image

from tests.fake_ollama import MODEL, flagged_with, item_context, item_images, item_text

VISION = ["completion", "vision"]


def picture(path: Path, colour: tuple[int, int, int], size: tuple[int, int] = (32, 24)) -> Path:
    Image.new("RGB", size, colour).save(path)
    return path


def grey(encoded: str) -> bool:
    with Image.open(__import__("io").BytesIO(base64.b64decode(encoded))) as img:
        return img.convert("RGB").getpixel((0, 0)) == (128, 128, 128) and img.size == (224, 224)


def test_image_files_are_shown_to_the_model_as_base64(cli, ollama_args, fake_ollama, tmp_path):
    fake_ollama.capabilities = VISION
    red = picture(tmp_path / "red.png", (220, 20, 20))
    calm = picture(tmp_path / "calm.png", (20, 120, 220))
    run = cli("classify", *ollama_args, str(red), str(calm))
    assert run.code == 0, run.stderr
    assert [(r["id"], r["image"], r["moderation"]["flagged"]) for r in run.records] == [
        (str(red), str(red), True), (str(calm), str(calm), False)]
    blank, *judged = [r for r in fake_ollama.chat_requests() if item_images(r)]
    # The model's leaning is read first, on a content-free (plain grey) image.
    assert grey(item_images(blank)[0]) and item_text(blank) == ""
    first = judged[0]
    turn = first["messages"][-2]
    assert turn["role"] == "user" and turn["images"] == [base64.b64encode(red.read_bytes()).decode()]
    assert "image attached to this message" in turn["content"]
    assert first["options"]["temperature"] == 0 and first["options"]["num_predict"] == 1
    assert first["messages"][-1] == {"role": "assistant", "content": '{"flagged":'}
    # Only the image's own turn carries it: instructions stay the cached prefix.
    assert all("images" not in m for m in first["messages"][:-2])
    assert "content-free image" in run.stderr


def test_a_model_without_vision_stops_before_any_request(cli, ollama_args, fake_ollama, tmp_path):
    fake_ollama.capabilities = ["completion", "tools"]
    run = cli("classify", *ollama_args, str(picture(tmp_path / "a.png", (1, 2, 3))))
    assert run.code == 3
    assert f"model '{MODEL}'" in run.stderr and "cannot see images" in run.stderr
    assert "completion, tools" in run.stderr and "llava" in run.stderr
    assert fake_ollama.chat_requests() == []


def test_an_ollama_that_lists_no_capabilities_is_tried(cli, ollama_args, fake_ollama, tmp_path):
    fake_ollama.capabilities = None  # older than 0.6.4
    run = cli("classify", *ollama_args, str(picture(tmp_path / "a.png", (220, 20, 20))))
    assert run.code == 0, run.stderr
    assert run.records[0]["moderation"]["flagged"] is True


def test_the_leaning_on_a_blank_image_is_divided_out(cli, ollama_args, fake_ollama, tmp_path):
    fake_ollama.capabilities = VISION

    def answer(body):  # type: ignore[no-untyped-def]
        # A model that leans to "flagged" on anything: 0.7 on grey, 0.8 on the photo.
        return flagged_with(MODEL, 0.7 if grey(item_images(body)[0]) else 0.8)

    fake_ollama.responder = answer
    run = cli("classify", *ollama_args, str(picture(tmp_path / "photo.png", (90, 90, 60))))
    assert run.code == 0, run.stderr
    moderation = run.records[0]["moderation"]
    # Divided by the leaning, times the prior a blank image gets (0.1 flagged, 0.9 not).
    expected = (0.8 / 0.7 * 0.1) / (0.8 / 0.7 * 0.1 + 0.2 / 0.3 * 0.9)
    assert moderation["scores"]["flagged"] == pytest.approx(expected, abs=1e-4)  # 0.16, not 0.8
    assert moderation["flagged"] is False
    assert any("content-free image" in note for note in moderation["notes"])
    assert "true 0.70" in run.stderr


def test_leaning_is_not_applied_to_texts(cli, ollama_args, fake_ollama, tmp_path):
    fake_ollama.capabilities = VISION
    fake_ollama.responder = lambda body: flagged_with(MODEL, 0.7 if item_images(body) else 0.8)
    data = tmp_path / "mixed.jsonl"
    picture(tmp_path / "p.png", (90, 90, 60))
    data.write_text(json.dumps({"id": "t", "text": "a text"}) + "\n" + json.dumps({"id": "i", "photo": "p.png"}) + "\n")
    run = cli("classify", *ollama_args, "--image-field", "photo", str(data))
    assert run.code == 0, run.stderr
    scores = {r["id"]: r["moderation"]["scores"]["flagged"] for r in run.records}
    assert scores["t"] == pytest.approx(0.8, abs=1e-4)
    assert scores["i"] == pytest.approx(0.1, abs=1e-4)  # exactly the leaning: scored as a blank image


def test_image_field_takes_paths_base64_and_data_urls(cli, ollama_args, fake_ollama, tmp_path):
    fake_ollama.capabilities = VISION
    folder = tmp_path / "export"
    (folder / "img").mkdir(parents=True)
    red = picture(folder / "img" / "red.png", (220, 20, 20))
    encoded = base64.b64encode(red.read_bytes()).decode()
    rows = [
        {"id": "path", "photo": "img/red.png", "caption": "look"},  # relative to the JSONL file
        {"id": "b64", "photo": encoded},
        {"id": "url", "photo": f"data:image/png;base64,{encoded}", "caption": "nice docs"},
        {"id": "text only", "caption": "you idiot"},
        {"id": "missing", "photo": "img/nope.png"},
        {"id": "broken", "photo": base64.b64encode(b"not an image at all").decode()},
        {"id": "neither"},
    ]
    data = folder / "posts.jsonl"
    data.write_text("".join(json.dumps(row) + "\n" for row in rows))
    run = cli("classify", *ollama_args, "--image-field", "photo", "--field", "caption", str(data))
    assert run.code == 0, run.stderr
    got = {r["id"]: r["moderation"] for r in run.records}
    assert [got[k]["flagged"] for k in ("path", "b64", "url", "text only")] == [True, True, True, True]
    assert f"{data}:5" in got["missing"]["error"] and "no such image file" in got["missing"]["error"]
    assert f"{data}:6" in got["broken"]["error"] and "not a readable image" in got["broken"]["error"]
    assert "neither field 'photo' nor 'caption'" in got["neither"]["error"]
    captions = {item_text(r) for r in fake_ollama.chat_requests() if item_images(r)}
    assert {"look", "nice docs", ""} <= captions


def test_unusable_images_are_error_records_naming_the_file(cli, ollama_args, fake_ollama, tmp_path):
    fake_ollama.capabilities = VISION
    corrupt = tmp_path / "cut.png"
    corrupt.write_bytes(picture(tmp_path / "whole.png", (1, 1, 1)).read_bytes()[:40])
    icon = tmp_path / "icon.bmp"
    Image.new("RGB", (8, 8)).save(tmp_path / "x.ico")
    icon.write_bytes((tmp_path / "x.ico").read_bytes())  # an ICO named .bmp
    run = cli("classify", *ollama_args, str(corrupt), str(icon))
    assert run.code == 4  # nothing could be judged
    errors = [r["moderation"]["error"] for r in run.records]
    assert errors[0].startswith(f"{corrupt}:") and "not a readable image" in errors[0]
    assert errors[1].startswith(f"{icon}:") and "unsupported image format ICO" in errors[1]
    assert fake_ollama.chat_requests() == []


def test_an_image_and_its_context_change_the_cache_key(cli, ollama_args, fake_ollama, tmp_path):
    fake_ollama.capabilities = VISION
    one, two = picture(tmp_path / "1.png", (220, 20, 20)), picture(tmp_path / "2.png", (20, 20, 220))
    assert cli("classify", *ollama_args, str(one)).code == 0
    again = cli("classify", *ollama_args, str(one), str(two))
    assert "1 from cache" in again.stderr
    assert [r["moderation"]["flagged"] for r in again.records] == [True, False]


def test_show_prompt_describes_the_image_instead_of_printing_it(cli, ollama_args, tmp_path):
    run = cli("classify", *ollama_args, "--show-prompt", str(picture(tmp_path / "a.png", (1, 2, 3), (40, 30))))
    assert run.code == 0, run.stderr
    shown = json.loads(run.stdout)
    assert shown["messages"][-1]["images"][0].startswith("<image/png, 40x30, ")


def test_openai_servers_get_image_url_parts(cli, httpserver, tmp_path):
    sent: list[dict] = []

    def completions(request):  # type: ignore[no-untyped-def]
        from werkzeug import Response

        sent.append(json.loads(request.data))
        body = {"id": "x", "object": "chat.completion", "model": "vl", "created": 0,
                "choices": [{"index": 0, "finish_reason": "stop",
                             "message": {"role": "assistant", "content": '{"flagged": false}'}}],
                "usage": {"prompt_tokens": 10, "completion_tokens": 3, "total_tokens": 13}}
        return Response(json.dumps(body), content_type="application/json")

    httpserver.expect_request("/v1/chat/completions", method="POST").respond_with_handler(completions)
    httpserver.expect_request("/v1/models", method="GET").respond_with_json({"object": "list", "data": [{"id": "vl", "object": "model"}]})
    image = picture(tmp_path / "a.png", (1, 2, 3))
    run = cli("classify", "--backend", "openai", "--host", httpserver.url_for("/v1"), "-m", "vl", str(image))
    assert run.code == 0, run.stderr
    content = sent[-1]["messages"][-1]["content"]
    assert content[0]["type"] == "text" and "image attached" in content[0]["text"]
    encoded = base64.b64encode(image.read_bytes()).decode()
    assert content[1] == {"type": "image_url", "image_url": {"url": f"data:image/png;base64,{encoded}"}}
    assert all(isinstance(m["content"], str) for m in sent[-1]["messages"][:-1])


def test_oversized_images_are_refused_before_they_are_decoded(cli, ollama_args, fake_ollama, tmp_path, monkeypatch):
    from tactful.io import images

    fake_ollama.capabilities = VISION
    monkeypatch.setattr(images, "MAX_PIXELS", 1000)
    big = picture(tmp_path / "big.png", (220, 20, 20), (50, 40))  # 2000 pixels
    run = cli("classify", *ollama_args, str(big))
    assert run.code == 4
    error = run.records[0]["moderation"]["error"]
    assert error.startswith(str(big)) and "megapixel limit" in error


def test_an_image_reply_is_read_after_its_thread(cli, ollama_args, fake_ollama, tmp_path):
    fake_ollama.capabilities = VISION
    picture(tmp_path / "p.png", (20, 20, 220))
    data = tmp_path / "replies.jsonl"
    data.write_text(json.dumps({"id": "r", "photo": "p.png", "context": ["look at my garden"]}) + "\n")
    run = cli("classify", *ollama_args, "--image-field", "photo", "--context-field", "context", str(data))
    assert run.code == 0, run.stderr
    assert run.records[0]["moderation"]["context"] == 1
    sent = [r for r in fake_ollama.chat_requests() if item_images(r)][-1]
    assert item_context(sent) == ["look at my garden"] and item_text(sent) == ""


def test_an_old_ollama_refusing_an_image_says_to_use_a_vision_model(cli, ollama_args, fake_ollama, tmp_path):
    from werkzeug import Response

    fake_ollama.capabilities = None  # it cannot say beforehand
    fake_ollama.responder = lambda body: Response(
        json.dumps({"error": "this model is missing data required for image input"}), status=500,
        content_type="application/json")
    run = cli("classify", *ollama_args, "--retries", "0", str(picture(tmp_path / "a.png", (1, 2, 3))))
    assert run.code == 3
    assert "could not show model" in run.stderr and "missing data required for image input" in run.stderr
    assert "llava" in run.stderr
    assert len(fake_ollama.chat_requests()) == 1  # not retried: another try cannot help


def test_an_image_file_among_jsonl_inputs_is_still_an_image(cli, ollama_args, fake_ollama, tmp_path):
    fake_ollama.capabilities = VISION
    data = tmp_path / "posts.jsonl"
    data.write_text(json.dumps({"id": "p", "content": "nice docs"}) + "\n")
    red = picture(tmp_path / "red.png", (220, 20, 20))
    run = cli("classify", *ollama_args, "--field", "content", str(data), str(red))  # --field makes inputs JSONL
    assert run.code == 0, run.stderr
    assert [(r["id"], r["moderation"]["flagged"], r["moderation"]["error"]) for r in run.records] == [
        ("p", False, None), (str(red), True, None)]

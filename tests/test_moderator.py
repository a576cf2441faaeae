"""`tactful.Moderator`, the Python API, against the stand-in Ollama server."""

from __future__ import annotations

import tactful
from PIL import Image

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

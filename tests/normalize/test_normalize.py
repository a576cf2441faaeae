"""Camouflage is undone before the model reads a text; genuine text is left alone.

Every case runs through `tactful classify` against the fake server: the assertion is on
what the model was sent (the framed text) and on the record the user gets back.
"""

from __future__ import annotations

from tests.fake_ollama import item_text

ZWJ, ZWSP = "\u200d", "\u200b"

CAMOUFLAGED = [
    # (what a user posts, what the model should read)
    ("you " + ZWSP.join("idiot"), "you idiot"),
    (ZWJ.join("you moron"), "you moron"),
    ("you \u0456d\u0456\u043et", "you idiot"),  # Cyrillic і and о inside a Latin word
    ("y\u043eu \u0430r\u0435 \u0430 l\u043es\u0435r", "you are a loser"),  # lone Cyrillic "а" too
    ("st\u03c5pid \u03bfne", "stupid one"),  # Greek upsilon and omicron
    ("you are an i d i o t", "you are an idiot"),
    ("total i.d.i.o.t", "total idiot"),
    ("such a m-o-r-o-n", "such a moron"),
    ("s t u p i d people", "stupid people"),
    ("y0u 4r3 stup1d", "you are stupid"),
    ("what a l0s3r!", "what a loser!"),
    ("you $tup!d id!0t", "you stupid idiot"),
    ("YOU 1D10T", "YOU IDIOT"),
    ("\uff59\uff4f\uff55 \uff49\uff44\uff49\uff4f\uff54", "you idiot"),  # full-width
    ("\U0001d432\U0001d428\U0001d42e \U0001d422\U0001d41d\U0001d422\U0001d428\U0001d42d", "you idiot"),  # bold maths
    ("i\u0336d\u0336i\u0336o\u0336t\u0336", "idiot"),  # strike-through overlay
    ("z\u0337\u0322\u031b\u031ba\u0334\u0321\u031bl\u0335\u0322\u031bg\u0338\u0328\u031bo\u0336\u0321\u0315 idiot", "zalgo idiot"),
    ("m\u00adoron", "moron"),  # soft hyphen
    ("id\U000e0069\U000e0067iot", "idiot"),  # tag characters smuggling letters
    ("i\ufe0fd\ufe0fiot", "idiot"),  # variation selectors on letters
    ("\u026a\u1d05\u026a\u1d0f\u1d1b \u028f\u1d0f\u1d1c", "idiot you"),  # small capitals
    ("y\u03bfu \u03banow n\u03bfthing, l\u03bfser", "you know nothing, loser"),  # Greek kappa via the kra
    ("you \uff02idiot\uff02\uff01", 'you "idiot"!'),  # full-width punctuation outside CJK
    ("a\u0336 l\u0336oser", "a loser"),  # one overlay on a one-letter word
    ("stupid h035", "stupid hoes"),  # three digits after a letter are leetspeak
    ("dumb @5$", "dumb ass"),  # a word made only of symbols
]

GENUINE = [
    "Привет, как дела? Это просто тест.",
    "Καλημέρα κόσμε, τι κάνεις;",
    "我爱你，東京で会いましょう。Tシャツ",
    "مرحبا بالعالم، كيف حالك؟",
    "می\u200cخواهم",  # Persian with its zero-width non-joiner
    "क्\u200dष",  # Devanagari with a zero-width joiner
    "שָׁלוֹם עֲלֵיכֶם",  # Hebrew with vowel points
    "family \U0001f468\u200d\U0001f469\u200d\U0001f467 and \U0001f3f3\ufe0f\u200d\U0001f308 and 1\ufe0f\u20e3 \U0001f44d\U0001f3fd",
    "\U0001f3f4\U000e0067\U000e0062\U000e0073\U000e0063\U000e0074\U000e007f Scotland",
    "café naïve Straße Ẹ̀kọ́ kadın señor",
    "Tickets cost $5 in 2024, 10% off at 10am; the 4k mp3 player was 1st.",
    "See https://ex4mple.com/a1b2?q=l33t or mail me@h0st.org",
    "Call 0 8 0 0 1 2 3 now, code A7-B3",
    "It costs $50, not 47!!! See you at 5am or 9pm, room 3d.",
    "I love Москва and Αθήνα",
]


def sent(fake_ollama) -> list[str]:
    return [item_text(r) for r in fake_ollama.chat_requests()]


def test_model_reads_camouflaged_text_undone_and_record_keeps_original(cli, ollama_args, fake_ollama):
    posted = [p for p, _ in CAMOUFLAGED]
    run = cli("classify", *ollama_args, "--no-cache", input="".join(p + "\n" for p in posted))
    assert run.code == 0, run.stderr
    assert sent(fake_ollama) == [readable for _, readable in CAMOUFLAGED]
    assert [r["text"] for r in run.records] == posted
    assert all(r["moderation"]["normalized"] is True for r in run.records)


def test_camouflaged_insults_are_flagged_only_with_normalisation(cli, ollama_args):
    posted = "".join(p + "\n" for p, _ in CAMOUFLAGED[:13])
    on = cli("classify", *ollama_args, "--no-cache", input=posted).records
    off = cli("classify", *ollama_args, "--no-cache", "--no-normalize", input=posted).records
    assert all(r["moderation"]["flagged"] for r in on)
    assert sum(r["moderation"]["flagged"] for r in off) <= 2
    assert all("normalized" not in r["moderation"] for r in off)


def test_genuine_text_reaches_the_model_unchanged(cli, ollama_args, fake_ollama):
    run = cli("classify", *ollama_args, "--no-cache", input="".join(t + "\n" for t in GENUINE))
    assert run.code == 0, run.stderr
    assert sent(fake_ollama) == GENUINE
    assert [r for r in run.records if "normalized" in r["moderation"]] == []


def test_profile_can_turn_normalisation_off(cli, ollama_args, fake_ollama, tmp_path):
    profile = tmp_path / "p.toml"
    profile.write_text("version = 1\n[task]\nnormalize = false\n[categories.toxicity]\nblocked = true\n", encoding="utf-8")
    cli("classify", *ollama_args, "--no-cache", "--profile", str(profile), input="y0u 1d10t\n")
    assert sent(fake_ollama) == ["y0u 1d10t"]
    cli("classify", *ollama_args, "--no-cache", "--profile", str(profile), "--normalize", input="y0u 1d10t\n")
    assert sent(fake_ollama)[-1] == "you idiot"


def test_initials_and_non_words_are_not_collapsed(cli, ollama_args, fake_ollama):
    cli("classify", *ollama_args, "--no-cache", input="q x z v w\nthe k-x-j-q plan\n")
    assert sent(fake_ollama) == ["q x z v w", "the k-x-j-q plan"]

"""A fake Ollama server for tests: pytest-httpserver speaking Ollama's HTTP API.

It answers /api/chat the way Ollama does (non-streaming JSON, counters included), and
records every request so tests can check what tactful sent. Its "model" is a keyword
rule over the text it is asked about, so labels are predictable and depend on the text.
Like a model, it reads what it is shown, not how the prompt words it: the judged text
from the JSON frame of the last user message, the blocked categories from the system
prompt's definitions, the answer's shape from the schema or the partial answer.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from typing import Any

from werkzeug import Request, Response

MODEL = "fake-model:1b"
DIGEST = "sha256:" + "ab" * 32

KEYWORDS = {
    "toxicity": ("idiot", "stupid", "moron", "loser", "worthless"),
    "spam": ("win", "prize", "click", "offer", "buy", "$"),
    "negative-sentiment": ("disappointed", "tired", "ruined", "bad"),
    "off-topic-politics": ("election", "senator", "party"),
    "manipulation": ("moderator note", "ignore all previous", "return no categories"),
}


def item_text(body: dict[str, Any]) -> str:
    """The text tactful framed in the last user message (a whole thread: its messages joined)."""
    if not any(m["role"] == "user" for m in body["messages"]):
        return ""  # the server dropped it to fit num_ctx: the model judges no text
    thread = framed(body, "thread")
    if thread is not None:
        return " / ".join(thread)
    text = framed(body, "text")
    assert text is not None, f"no framed text in {body['messages'][-1]!r}"
    return text


def item_context(body: dict[str, Any]) -> list[str]:
    """The earlier messages of the text's thread, as framed in the last user message."""
    return framed(body, "context") or []


def framed(body: dict[str, Any], key: str) -> Any:
    """The value of ``key`` in a line of the last user message that is a JSON object, or None.

    The frame is what the model reads as data, whatever the words around it say.
    """
    content = next((m["content"] for m in reversed(body["messages"]) if m["role"] == "user"), "")
    for line in content.split("\n"):  # not splitlines: a text may hold U+2028
        try:
            value = json.loads(line)
        except ValueError:
            continue
        if isinstance(value, dict) and key in value:
            return value[key]
    return None


# The fake model reads context one way: a reply that only agrees ("agreed", "+1") means
# what the message it answers says.
AGREEMENT = ("agreed", "+1", "exactly this", "seconded")


def model_labels(body: dict[str, Any]) -> list[str]:
    text = item_text(body)
    labels = keyword_labels(text)
    if any(image_is_red(image) for image in item_images(body)):
        labels.append("toxicity")
    context = item_context(body)
    if context and any(word in text.lower() for word in AGREEMENT):
        labels += [label for label in keyword_labels(context[-1]) if label not in labels]
    return labels


def item_images(body: dict[str, Any]) -> list[str]:
    """The base64 images shown with the last user message."""
    return next((m.get("images") or [] for m in reversed(body["messages"]) if m["role"] == "user"), [])


def image_is_red(encoded: str) -> bool:
    """The fake vision model's one rule: a mostly red picture is harmful."""
    import base64
    import io

    from PIL import Image

    with Image.open(io.BytesIO(base64.b64decode(encoded))) as img:
        red, green, blue = img.convert("RGB").resize((1, 1)).getpixel((0, 0))
    return red > 150 and green < 100 and blue < 100


def flagged_with(model: str, p_flagged: float) -> Response:
    """An answer whose ``flagged`` value has exactly this probability (a continuation reads it)."""
    alternatives = [{"token": " true", "logprob": math.log(p_flagged)}, {"token": " false", "logprob": math.log(1 - p_flagged)}]
    chosen = alternatives[0] if p_flagged >= 0.5 else alternatives[1]
    tokens = [
        {"token": '{"flagged":', "logprob": 0.0, "top_logprobs": []},
        {**chosen, "top_logprobs": alternatives},
        {"token": "}", "logprob": 0.0, "top_logprobs": []},
    ]
    return chat_response(model, "".join(t["token"] for t in tokens), tokens)


def keyword_labels(text: str) -> list[str]:
    low = text.lower()
    return [slug for slug, words in KEYWORDS.items() if any(w in low for w in words)]


def answer_for_schema(schema: dict[str, Any], labels: list[str], blocked: Collection[str] | None = None) -> dict[str, Any]:
    """The fake model's answer in the schema's terms; ``blocked``: what the prompt blocks
    (binary mode's schema does not name categories), by default all but negative-sentiment."""
    props = schema["properties"]
    answer: dict[str, Any] = {}
    if "flagged" in props:
        answer["flagged"] = bool(set(labels) & (set(labels) - {"negative-sentiment"} if blocked is None else set(blocked)))
    elif "category" in props:
        allowed = props["category"]["enum"]
        # A naming question offers no "none": held to the schema, the model names one anyway.
        answer["category"] = next((label for label in labels if label in allowed), "none" if "none" in allowed else allowed[0])
    else:
        answer = {slug: slug in labels for slug in props if slug != "rationale"}
    if "rationale" in props:
        answer["rationale"] = "matched keywords" if labels else "nothing harmful"
    return answer


def is_naming(body: dict[str, Any]) -> bool:
    """Binary mode's follow-up for a flagged text: which blocked category (no "none")."""
    if prefill_of(body) is not None:  # a probe: asked for a category in a binary-mode prompt
        return prefill_of(body).startswith('{"category":') and asks_flagged(body)
    enum = ((body.get("format") or {}).get("properties") or {}).get("category", {}).get("enum", [])
    return bool(enum) and "none" not in enum


def prefill_of(body: dict[str, Any]) -> str | None:
    """The partial answer a request asks the model to continue (a final assistant message)."""
    messages = body.get("messages") or []
    return messages[-1]["content"] if messages and messages[-1]["role"] == "assistant" else None


def model_view(body: dict[str, Any]) -> dict[str, Any]:
    """A continuation request as the whole-answer request it stands for.

    The fake model decides a whole answer, then continues the partial one from it. Its
    schema is read from the opening: ``{"flagged":`` binary, ``{"category":`` one category
    (among the blocked ones the system prompt defines), else one boolean per key.
    """
    prefill = prefill_of(body)
    if prefill is None:
        return body
    if prefill.startswith('{"flagged":'):
        properties: dict[str, Any] = {"flagged": {"type": "boolean"}}
    elif prefill.startswith('{"category":'):
        enum = blocked_offered(body) or []
        properties = {"category": {"type": "string", "enum": enum if is_naming(body) else [*enum, "none"]}}
    else:
        properties = {key: {"type": "boolean"} for key in re.findall(r'"([a-z0-9-]+)":', prefill)}
    return {**body, "messages": body["messages"][:-1], "format": {"type": "object", "properties": properties}}


SELF_TEST_OPENING = '{"question":'

# What a qwen3.5 model was trained to answer after with thinking off.
EMPTY_THINK = "<think>\n\n</think>\n\n"
# How sure the qwen3.5 model is of its answers on a prompt without that block: off its
# training, it still answers, but hardly better than a guess.
OFF_TEMPLATE_CONFIDENCE = 0.6


def qwen35_answer_turn(body: dict[str, Any]) -> str:
    """What Ollama's qwen3.5 renderer writes after the last ``<|im_start|>assistant\n``.

    As model/renderers/qwen35.go (v0.17.6 to v0.33): thinking is on unless ``think`` is
    false (left out, the server turns it on for a thinking model; the renderer's default
    is on). A new answer opens with ``<think>\n`` thinking, else with the empty block. A
    final assistant message is trimmed, a ``<think>...</think>`` in it dropped, and written
    after the empty block only while thinking is on.
    """
    thinking = body.get("think") is not False
    prefill = prefill_of(body)
    if prefill is None:
        return "<think>\n" if thinking else EMPTY_THINK
    content = prefill.strip()
    if "</think>" in content:
        content = content.split("</think>", 1)[1].lstrip("\n")
    return (EMPTY_THINK if thinking else "") + content


def is_self_test(body: dict[str, Any]) -> bool:
    """The backend's question whether the model continues a partial answer (not a judged text)."""
    return (prefill_of(body) or "").startswith(SELF_TEST_OPENING)


def count_tokens(messages: list[dict[str, Any]]) -> int:
    """The fake tokenizer's count for a rendered conversation: pieces, and 4 per message."""
    return sum(len(_PIECES.findall(m["content"])) + 4 for m in messages)


def version_tuple(version: str) -> tuple[int, ...]:
    return tuple(int(part) for part in version.split(".")[:3])


def error_response(status: int, message: str) -> Response:
    return Response(json.dumps({"error": message}), status=status, content_type="application/json")


def system_prompt(body: dict[str, Any]) -> str:
    return next((m["content"] for m in body["messages"] if m["role"] == "system"), "")


def asks_flagged(body: dict[str, Any]) -> bool:
    """Whether the instructions ask for a yes/no ``flagged`` answer (binary mode): they must
    name the key the model is to write, however they put it."""
    return '"flagged"' in system_prompt(body)


# A category's definition in the system prompt: "- slug: what it covers".
_DEFINITION = re.compile(r"^- ([a-z0-9][a-z0-9-]*): ")


def blocked_offered(body: dict[str, Any]) -> list[str] | None:
    """The blocked categories the system prompt defines; None where it lists none at all
    (a bare request, as a test sends by hand).

    Read from the layout, not the wording: each run of "- " lines is one list, definitions
    are "- slug: ..." lines, and the first list holds the blocked ones (the prompt defines
    what is blocked before what is acceptable; with nothing blocked it holds no slug).
    """
    runs: list[list[str]] = []
    in_run = False
    for line in system_prompt(body).split("\n"):
        if line.startswith("- "):
            if not in_run:
                runs.append([])
            match = _DEFINITION.match(line)
            runs[-1] += [match.group(1)] if match else []
        in_run = line.startswith("- ")
    return runs[0] if runs else None


@dataclass
class FakeOllama:
    server: Any
    requests: list[dict[str, Any]] = field(default_factory=list)
    # Override to script answers: (request body) -> answer content string or Response.
    responder: Callable[[dict[str, Any]], Any] | None = None
    models: list[str] = field(default_factory=lambda: [MODEL])
    # False plays a server older than Ollama 0.12.11, which ignores the logprobs request.
    logprobs: bool = True
    # What /api/show lists; None plays an Ollama older than 0.6.4, which lists nothing.
    capabilities: list[str] | None = field(default_factory=lambda: ["completion"])
    # What /api/version says; it decides which fields the server understands (logprobs
    # from 0.12.11, truncate from 0.12.4; 0.12.4 itself refuses think for this model).
    version: str = "0.33.1"
    # False plays a template that closes the turn after a final assistant message and
    # opens a new one (gemma4, glm-4.6, the chatml or llama3-instruct of a bare GGUF).
    continues: bool = True
    # The model's own context length, and the num_ctx a request without one gets.
    context_length: int = 32768
    default_num_ctx: int = 4096
    embedding_models: list[str] = field(default_factory=lambda: ["fake-embed", "nomic-embed-text"])
    # What each chat request evaluated: its messages after any truncation at num_ctx.
    evaluated: list[list[dict[str, Any]]] = field(default_factory=list)
    # "qwen3.5" plays a model Ollama renders with its qwen3.5 renderer (a RENDERER line in
    # /api/show's Modelfile): its answers are sure only after the empty think block.
    renderer: str | None = None
    # The answer turn each chat request rendered, where a renderer is played.
    rendered: list[str] = field(default_factory=list)

    @property
    def url(self) -> str:
        return self.server.url_for("").rstrip("/")

    def install(self) -> None:
        self.server.expect_request("/api/chat", method="POST").respond_with_handler(self._chat)
        self.server.expect_request("/api/tags", method="GET").respond_with_handler(self._tags)
        self.server.expect_request("/api/version", method="GET").respond_with_handler(
            lambda request: Response(json.dumps({"version": self.version}), content_type="application/json"))
        self.server.expect_request("/api/embed", method="POST").respond_with_handler(self._embed)
        self.server.expect_request("/api/show", method="POST").respond_with_handler(self._show)

    def chat_requests(self) -> list[dict[str, Any]]:
        """The requests that judged a text (not the question naming a binary flag's category,
        nor the self-test that asks whether the model continues a partial answer)."""
        return [r for r in self.requests if "messages" in r and not is_naming(r) and not is_self_test(r)]

    def self_test_requests(self) -> list[dict[str, Any]]:
        return [r for r in self.requests if "messages" in r and is_self_test(r)]

    def naming_requests(self) -> list[dict[str, Any]]:
        return [r for r in self.requests if "messages" in r and is_naming(r)]

    def _received(self, request: Request) -> tuple[dict[str, Any], Response | None]:
        """The request's body, recorded; and Ollama's 404 when it names a model not pulled."""
        body = json.loads(request.data)
        self.requests.append(body)
        if body.get("model") in self.models:
            return body, None
        return body, Response(json.dumps({"error": f"model '{body.get('model')}' not found"}), status=404,
                              content_type="application/json")

    def _chat(self, request: Request) -> Response:
        body, unknown = self._received(request)
        if unknown is not None:
            return unknown
        refused = self._refusal(body)
        if refused is not None:
            return refused
        body, evaluated = self._fitted(body)
        # A template that opens a new turn: the model answers from its start, the prefill
        # ignored, as a whole answer under the conversation (no schema: the probe sends none).
        asked = body if self.continues else model_view(body)
        view, confidence = model_view(body), self._confidence(body)
        if self.responder is not None and not is_self_test(body):
            out = self.responder(view)
            if isinstance(out, Response):
                return self._continued(out, asked, evaluated, confidence) if out.status_code == 200 else out
            content = out
        else:
            content = json.dumps(answer_for_schema(view["format"], model_labels(view), blocked_offered(view)))
        logprobs = synthetic_logprobs(content, body.get("top_logprobs", 0), confidence) if self._gives_logprobs(body) else None
        return self._continued(chat_response(body["model"], content, logprobs), asked, evaluated, confidence)

    def _confidence(self, body: dict[str, Any]) -> float:
        """How sure the model is of its answer on the prompt the server rendered for ``body``."""
        if self.renderer != "qwen3.5":
            return CONFIDENCE
        turn = qwen35_answer_turn(body)
        self.rendered.append(turn)
        return CONFIDENCE if turn.startswith(EMPTY_THINK) else OFF_TEMPLATE_CONFIDENCE

    def _continued(self, response: Response, body: dict[str, Any], evaluated: int | None, confidence: float) -> Response:
        out = continued(response, body, confidence)
        if evaluated is not None:  # a truncated prompt: the server counts what it kept
            answer = json.loads(out.get_data())
            out = Response(json.dumps({**answer, "prompt_eval_count": evaluated}), content_type="application/json")
        return out

    def _gives_logprobs(self, body: dict[str, Any]) -> bool:
        return bool(body.get("logprobs")) and self.logprobs and version_tuple(self.version) >= (0, 12, 11)

    def _refusal(self, body: dict[str, Any]) -> Response | None:
        """Ollama 0.12.4 asks for the thinking capability whenever ``think`` is set; from
        0.12.4, ``truncate: false`` makes a prompt longer than num_ctx an error."""
        thinks = "thinking" in (self.capabilities or [])
        if self.version == "0.12.4" and "think" in body and not thinks:
            return error_response(400, f'"registry.ollama.ai/library/{body["model"]}" does not support thinking')
        too_long = count_tokens(body["messages"]) > self._num_ctx(body)
        if too_long and body.get("truncate") is False and version_tuple(self.version) >= (0, 12, 4):
            return error_response(400, "the prompt is longer than the context length currently available to the model; "
                                       "shorten the prompt, adjust the context length in settings, or use a model with "
                                       "a longer context length")
        return None

    def _num_ctx(self, body: dict[str, Any]) -> int:
        return min((body.get("options") or {}).get("num_ctx") or self.default_num_ctx, self.context_length)

    def _fitted(self, body: dict[str, Any]) -> tuple[dict[str, Any], int | None]:
        """The request as evaluated in num_ctx tokens: Ollama drops the earliest non-system
        messages, always keeping the last. Also the kept count, when messages were dropped."""
        messages, num_ctx = body["messages"], self._num_ctx(body)
        self.evaluated.append(messages)
        if count_tokens(messages) <= num_ctx:
            return body, None
        system = [m for m in messages if m["role"] == "system"]
        rest = [m for m in messages if m["role"] != "system"]
        while len(rest) > 1 and count_tokens(system + rest) > num_ctx:
            rest = rest[1:]
        kept = system + rest
        self.evaluated[-1] = kept
        return {**body, "messages": kept}, count_tokens(kept)

    def _show(self, request: Request) -> Response:
        _, unknown = self._received(request)
        if unknown is not None:
            return unknown
        modelfile = f"FROM {MODEL}\nRENDERER {self.renderer}\nPARSER {self.renderer}\n" if self.renderer else ""
        shown: dict[str, Any] = {"modelfile": modelfile, "parameters": "", "template": "{{ .Prompt }}",
                                 "details": {"format": "gguf", "family": "fake"}, "model_info": {"general.architecture": "fake", "fake.context_length": self.context_length},
                                 "modified_at": "2026-11-01T00:00:00Z"}
        if self.capabilities is not None:
            shown["capabilities"] = self.capabilities
        return Response(json.dumps(shown), content_type="application/json")

    def _tags(self, request: Request) -> Response:
        models = [{"name": m, "model": m, "modified_at": "2026-11-01T00:00:00Z", "size": 1, "digest": DIGEST,
                   "details": {"format": "gguf", "family": "fake"}} for m in self.models]
        return Response(json.dumps({"models": models}), content_type="application/json")

    def _embed(self, request: Request) -> Response:
        body = json.loads(request.data)
        self.requests.append(body)
        if body.get("model") not in [*self.models, *self.embedding_models]:
            return error_response(404, f'model "{body.get("model")}" not found, try pulling it first')
        inputs = body["input"] if isinstance(body["input"], list) else [body["input"]]
        return Response(json.dumps({"model": body["model"], "embeddings": [bag_of_words(t) for t in inputs]}),
                        content_type="application/json")


# A tokenizer's pieces, roughly: a word with its leading space, or one other character.
_PIECES = re.compile(r" ?\w+| ?[^\w\s]|\s+")
# How sure the fake model is of each answer value: what a real server reports alongside it.
CONFIDENCE = 0.9
# The listed alternatives carry this much of the mass; the rest of the vocabulary has the
# remainder, so they do not sum to 1, as a softmax over the whole vocabulary does not.
LISTED = 0.95
# Tokens that start no answer value of any test's contract (digits, punctuation, capitals,
# and two byte pieces that both show as U+FFFD: the same text from different token ids).
FILLERS = [("\n", None), (" 0", None), (" 1", None), ("0", None), ("1", None), (" ?", None), (" !", None),
           (" .", None), (" ...", None), (" -", None), (" [", None), (" {", None), (" (", None),
           ("\ufffd", [0xE2]), ("\ufffd", [0xF0]), (" N", None), (" Y", None)]
FILLER_MASS = 0.002


def synthetic_logprobs(content: str, top: int, confidence: float = CONFIDENCE) -> list[dict[str, Any]]:
    """Per-token log-probabilities as Ollama returns them: the answer is the likeliest path.

    At a boolean the other value gets the rest of the mass, so scores are ``confidence``
    (0.9) or its complement, and the chosen value is written by two token ids (the same
    text), so its mass is split in two entries, as a real vocabulary's duplicates are. Up
    to ``top`` alternatives (20).
    """
    entries = []
    for piece in _PIECES.findall(content):
        alternatives = _alternatives(piece, confidence)
        entries.append({**alternatives[0], "top_logprobs": alternatives[: max(top, 1)]})
    return entries


def _alternatives(piece: str, confidence: float) -> list[dict[str, Any]]:
    if piece.strip() in ("true", "false"):
        other = piece.replace("true", "false") if "true" in piece else piece.replace("false", "true")
        listed = [(piece, confidence * LISTED * 2 / 3), (piece, confidence * LISTED / 3), (other, (1 - confidence) * LISTED)]
    else:
        listed = [(piece, LISTED)]
    entries = [{"token": text, "logprob": math.log(p), "bytes": list(text.encode())} for text, p in listed]
    return entries + [{"token": text, "logprob": math.log(FILLER_MASS), "bytes": raw or list(text.encode())}
                      for text, raw in FILLERS]


def chat_response(model: str, content: str, logprobs: list[dict[str, Any]] | None = None) -> Response:
    body: dict[str, Any] = {
        "model": model,
        "created_at": "2026-11-22T00:00:00.000000Z",
        "message": {"role": "assistant", "content": content},
        "done": True,
        "done_reason": "stop",
        "total_duration": 1_000_000,
        "load_duration": 1000,
        "prompt_eval_count": 120,
        "prompt_eval_duration": 500_000,
        "eval_count": 6,
        "eval_duration": 400_000,
    }
    if logprobs:  # omitted when empty: no entry comes for end-of-sequence or a token with no text
        body["logprobs"] = logprobs
    return Response(json.dumps(body), content_type="application/json")


def continued(response: Response, body: dict[str, Any], confidence: float = CONFIDENCE) -> Response:
    """The answer in ``response`` continued from the request's partial answer, if it has one.

    Like a model asked to continue: the tokens after the prefill, at most ``num_predict``.
    Where the answer's tokens do not line up with the prefill, the rest is re-split.
    """
    prefill = prefill_of(body) or ""
    whole = json.loads(response.get_data())
    content = whole["message"]["content"]
    tokens = whole.get("logprobs")
    limit = (body.get("options") or {}).get("num_predict") or 10**6
    rest = content[len(prefill):] if content.startswith(prefill) else content
    after = _tokens_after(tokens, prefill) if tokens is not None else None
    if tokens is not None and after is None:
        after = synthetic_logprobs(rest, body.get("top_logprobs", 0), confidence)
    if after is not None:
        after = after[:limit]
        rest = "".join(t["token"] for t in after)
    else:
        rest = "".join(_PIECES.findall(rest)[:limit])
    return chat_response(whole["model"], rest, after)


def _tokens_after(tokens: list[dict[str, Any]], prefill: str) -> list[dict[str, Any]] | None:
    written = ""
    for index, token in enumerate(tokens):
        if written == prefill:
            return tokens[index:]
        written += token["token"]
    return [] if written == prefill else None


VOCAB = ["idiot", "stupid", "win", "prize", "click", "thanks", "meeting", "docs", "buy", "loser", "release", "train"]


def bag_of_words(text: str) -> list[float]:
    """A tiny deterministic embedding, L2-normalised like Ollama's."""
    low = text.lower()
    vec = [float(low.count(w)) for w in VOCAB] + [0.01]
    norm = sum(v * v for v in vec) ** 0.5
    return [v / norm for v in vec]

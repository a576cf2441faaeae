"""Reading the model's choice among a few answer values in one forward pass (llama.cpp).

The answer's fixed opening (``{"flagged":``) is evaluated as part of the prompt, and the
next-token distribution at that position is read directly: no decode steps for JSON
boilerplate, no grammar, and no ``logits_all`` (which makes every prompt token pay for
logits). Where two values share their first tokens ("toxicity"/"threat"), the walk goes
down the shared path and reads the position where they part.

Evaluated tokens stay in llama.cpp's KV cache; each evaluation keeps the longest prefix
it shares with what is there already, so the fixed prompt is paid once per process and
several questions about one text pay only for their own openings. With ``states``, the
fixed prompt's state is also saved to disk and loaded by the next process
(``prompt_state``), so it is paid once per machine.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from tactful.backends.base import ChoiceQuery, Message, Probe, ProbeRequest
from tactful.backends.prompt_state import PromptStates

if TYPE_CHECKING:  # numpy comes with llama-cpp-python, imported where the logits are read
    import numpy as np
    import numpy.typing as npt


@dataclass
class _Node:
    """A point in the token trie of one query's continuations."""

    children: dict[int, _Node] = field(default_factory=dict)
    choice: str | None = None  # set where a continuation ends


class LlamaProber:
    """Answers ``ProbeRequest`` with one llama.cpp instance (the caller serialises calls)."""

    def __init__(self, llm: Any, states: PromptStates | None = None) -> None:
        self.llm = llm
        self.states = states
        self._format = _chat_formatter(llm)
        self._format_prefix = _chat_formatter(llm, add_generation_prompt=False)
        # The fixed messages last seen and whether their state is in place: they are the
        # same for every text of a run, so they are rendered and tokenized once, not per text.
        self._ready_fixed: list[Message] | None = None
        self.evaluated = 0  # tokens evaluated by the last probe (its real cost)

    def probe(self, request: ProbeRequest) -> Probe:
        prompt = self._render(request.messages)
        self.evaluated = 0
        if self.states is not None and request.fixed:
            self._warm_start(request.messages[: request.fixed], prompt)
        distributions = [self._query(prompt, query) for query in request.queries]
        state = self._state_after(self._tokens(prompt + request.queries[0].opening)) if request.state else None
        return Probe(distributions, prompt_tokens=self.evaluated, state=state)

    def _render(self, messages: list[Message]) -> str:
        return str(self._format(messages=messages).prompt)

    def _warm_start(self, fixed: list[Message], prompt: str) -> None:
        """Load the fixed prefix's saved state, or evaluate it once and save it."""
        assert self.states is not None
        if fixed == self._ready_fixed:
            return
        self._ready_fixed = fixed
        prefix_text = str(self._format_prefix(messages=fixed).prompt)
        if not prompt.startswith(prefix_text):
            return  # a template that does not render turn by turn: no stable prefix
        prefix = self._tokens(prefix_text)
        llm = self.llm
        kept = _common_prefix([prefix, llm.input_ids[: llm.n_tokens].tolist()])
        if not prefix or kept == len(prefix) or self.states.load(llm, prefix):
            return
        llm.n_tokens = kept  # eval drops the KV cache past this point
        llm.eval(prefix[kept:])
        self.evaluated += len(prefix) - kept
        self.states.save(llm, prefix)

    def _query(self, prompt: str, query: ChoiceQuery) -> dict[str, float]:
        sequences = {c: self._tokens(prompt + query.opening + c) for c in query.choices}
        shared = _common_prefix(list(sequences.values()))
        if any(len(tokens) == shared for tokens in sequences.values()):
            shared -= 1  # a value must keep one token of its own to be told apart
        root = _Node()
        for choice, tokens in sequences.items():
            node = root
            for token in tokens[shared:]:
                node = node.children.setdefault(token, _Node())
            node.choice = choice
        base = sequences[query.choices[0]][:shared]
        weights: dict[str, float] = {}
        self._walk(base, root, 0.0, weights)
        total = sum(math.exp(w) for w in weights.values())
        return {c: math.exp(weights[c]) / total if c in weights else 0.0 for c in query.choices}

    def _walk(self, path: list[int], node: _Node, logp: float, out: dict[str, float]) -> None:
        """Sum log-probabilities down the trie; only positions where values part are evaluated."""
        if node.choice is not None and not node.children:
            out[node.choice] = logp
            return
        if len(node.children) == 1:
            # One way on: the values agree here, so this token tells nothing apart.
            (token, child), = node.children.items()
            self._walk([*path, token], child, logp, out)
            return
        logprobs = self._logprobs_after(path)
        for token, child in node.children.items():
            self._walk([*path, token], child, logp + logprobs[token], out)

    def _logprobs_after(self, tokens: list[int]) -> npt.NDArray[np.float64]:
        """Log-softmax of the next-token logits after ``tokens``, reusing the cached prefix."""
        import llama_cpp
        import numpy as np

        llm = self.llm
        if len(tokens) > llm.n_ctx():
            raise ValueError(f"the prompt needs {len(tokens)} tokens, more than the context of {llm.n_ctx()}")
        kept = _common_prefix([tokens, llm.input_ids[: llm.n_tokens].tolist()])
        kept = min(kept, len(tokens) - 1)  # the last token is evaluated again for its logits
        llm.n_tokens = kept  # eval drops the KV cache past this point
        llm.eval(tokens[kept:])
        self.evaluated += len(tokens) - kept
        logits = np.ctypeslib.as_array(llama_cpp.llama_get_logits_ith(llm.ctx, -1), shape=(llm.n_vocab(),))
        top = float(logits.max())
        return logits - (top + math.log(float(np.exp(logits - top).sum())))

    def _state_after(self, tokens: list[int]) -> list[float]:
        """The last layer's hidden state (after its norm) at the last of ``tokens``.

        The context turns on embedding output for this one evaluation only: with it on,
        llama.cpp outputs every token of a batch, and only the last one is wanted here
        (evaluated again after the queries, so it costs one token).
        """
        import llama_cpp
        import numpy as np

        llm = self.llm
        kept = min(_common_prefix([tokens, llm.input_ids[: llm.n_tokens].tolist()]), len(tokens) - 1)
        llama_cpp.llama_set_embeddings(llm.ctx, True)
        try:
            llm.n_tokens = kept
            llm.eval(tokens[kept:])
            self.evaluated += len(tokens) - kept
            row = llama_cpp.llama_get_embeddings_ith(llm.ctx, -1)
            if not row:
                raise ValueError("llama.cpp returned no hidden state")
            return [float(x) for x in np.ctypeslib.as_array(row, shape=(llm.n_embd(),))]
        finally:
            llama_cpp.llama_set_embeddings(llm.ctx, False)

    def _tokens(self, text: str) -> list[int]:
        # The chat template writes the BOS token itself where the model wants one, and
        # control tokens in it are real; a text cannot forge them (prompt.frame escapes).
        return list(self.llm.tokenize(text.encode("utf-8"), add_bos=False, special=True))


def _common_prefix(sequences: Sequence[Sequence[int]]) -> int:
    shortest = min(len(s) for s in sequences)
    for i in range(shortest):
        first = sequences[0][i]
        if any(s[i] != first for s in sequences[1:]):
            return i
    return shortest


def _chat_formatter(llm: Any, add_generation_prompt: bool = True) -> Any:
    """The model's own chat template, as llama-cpp-python renders it for chat completions."""
    from llama_cpp import llama_chat_format

    template = llm.metadata.get("tokenizer.chat_template")
    if not template:
        raise ValueError("the model file carries no chat template")
    model = llm._model  # private (llama-cpp-python's own chat handler reads it too): pinned below 0.4
    eos, bos = llm.token_eos(), llm.token_bos()
    return llama_chat_format.Jinja2ChatFormatter(
        template=template,
        eos_token=model.token_get_text(eos) if eos != -1 else "",
        bos_token=model.token_get_text(bos) if bos != -1 else "",
        add_generation_prompt=add_generation_prompt,
    )

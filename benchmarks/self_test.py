"""Does the Ollama backend's self-test tell a model that continues a partial answer from one
whose template opens a new turn? Measured on real models, in process (no Ollama runs here).

For each model, the self-test's conversation (``tactful.backends.ollama.SELF_TEST``) is
rendered with the model's own chat template two ways, as Ollama's templates do:

- continued: the prompt ends with the partial answer ``{"question":`` (old-style templates,
  qwen3.x renderers, ...);
- new turn: the partial answer is closed as a turn of its own and a new assistant turn is
  opened after it (chatml, llama3-instruct, gemma4, glm-4.6, ... attached by Ollama).

The next token's top 20 alternatives (what Ollama returns) are read after it, and the mass
that goes to writing ``true``/``false`` is computed by ``continuation.value_mass``, as the
backend does. The backend calls a model continuing where that mass is at least
``CONTINUES_MASS`` (0.5).

    python benchmarks/self_test.py smollm2-135m qwen2.5-coder-1.5b
"""

from __future__ import annotations

import argparse
import math
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
from tactful.backends.base import TOP_LOGPROBS, Message
from tactful.backends.continuation import BOOLEANS, value_mass
from tactful.backends.cpu_variants import load_cpu_variants
from tactful.backends.llama_probe import _chat_formatter
from tactful.backends.model_store import resolve_model_file
from tactful.backends.ollama import CONTINUES_MASS, SELF_TEST, SELF_TEST_OPENING


def next_tokens(llm: Any, render: Callable[[str], str]) -> Callable[[str], Mapping[str, float]]:
    """The top alternatives (text: probability) of the token after the prompt ``render`` makes."""

    def top(prefill: str) -> Mapping[str, float]:
        tokens = llm.tokenize(render(prefill).encode("utf-8"), add_bos=False, special=True)
        llm.reset()
        llm.eval(tokens)
        logits = np.ctypeslib.as_array(llm._ctx.get_logits_ith(-1), shape=(llm.n_vocab(),))
        best = np.argsort(logits)[::-1][:TOP_LOGPROBS]
        norm = float(logits.max()) + math.log(float(np.exp(logits - logits.max()).sum()))
        found: dict[str, float] = {}
        for token in best:
            text = llm.detokenize([int(token)]).decode("utf-8", errors="replace")
            found[text] = found.get(text, 0.0) + math.exp(float(logits[token]) - norm)
        return found

    return top


def renderers(llm: Any) -> dict[str, Callable[[str], str]]:
    opened = _chat_formatter(llm)

    def continued(prefill: str) -> str:
        return str(opened(messages=SELF_TEST).prompt) + prefill

    def new_turn(prefill: str) -> str:
        closed: list[Message] = [*SELF_TEST, {"role": "assistant", "content": prefill}]
        return str(opened(messages=closed).prompt)

    return {"continued": continued, "new turn": new_turn}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("models", nargs="+", help="pinned model names (tactful models list)")
    args = parser.parse_args()
    from llama_cpp import Llama

    load_cpu_variants()  # this README's build finds its CPU kernels at run time
    print(f"| model | template | mass on true/false | called continuing (>= {CONTINUES_MASS}) | likeliest next token |")
    print("|---|---|---|---|---|")
    for name in args.models:
        llm = Llama(model_path=str(resolve_model_file(name)), n_ctx=1024, verbose=False)
        for how, render in renderers(llm).items():
            ask = next_tokens(llm, render)
            mass = value_mass(ask, SELF_TEST_OPENING, BOOLEANS)
            likeliest = max(ask(SELF_TEST_OPENING).items(), key=lambda item: item[1])
            print(f"| {name} | {how} | {mass:.3f} | {'yes' if mass >= CONTINUES_MASS else 'no'} | "
                  f"{likeliest[0]!r} ({likeliest[1]:.2f}) |")


if __name__ == "__main__":
    main()

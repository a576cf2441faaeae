"""Does judging several texts in one llama.cpp batch raise texts/s on a CPU?

The fixed prompt is evaluated once, as tokens that belong to every sequence (a unified KV
cache shares them). Then each group of B texts is one batch: each text's own tokens (its
framed text and the answer's opening ``{"flagged":``) in its own sequence, logits read
at each sequence's last position, and the texts' tokens dropped again. B = 1 is the same
code one text at a time (what the embedded backend does), so the sizes compare like for
like, in one process, on the same texts. The probabilities are checked to agree.

    python benchmarks/batching.py --limit 48 --sizes 1 2 4 8
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tactful.backends.cpu_variants import load_cpu_variants  # noqa: E402
from tactful.backends.llama_probe import _chat_formatter, _common_prefix  # noqa: E402
from tactful.backends.model_store import PINNED, pinned_path  # noqa: E402
from tactful.backends.prompt_only import PromptOnly  # noqa: E402
from tactful.moderator import Moderator  # noqa: E402
from tactful.records import InputRecord  # noqa: E402
from tactful.settings import Overrides, resolve  # noqa: E402

DATA = ROOT.parent / "shared" / "bench" / "sms-spam" / "dev.jsonl"


def prompts(texts: list[str], model: str) -> list[list[int]]:
    """Each text's full token sequence up to the answer position, as the embedded backend builds it."""
    import llama_cpp

    settings = resolve(Overrides(backend="embedded", model=model))
    moderator = Moderator(settings, backend=PromptOnly(model), check_calibration=False)
    openings = moderator.answer_openings()
    assert openings is not None  # no rationale: the probabilities decide
    opening = openings[0].opening
    llm = llama_cpp.Llama(model_path=str(pinned_path(PINNED[model])), n_ctx=256, verbose=False)
    render = _chat_formatter(llm)
    out = []
    for text in texts:
        messages = moderator.first_request(InputRecord("", text, {}, "bench")).messages
        prompt = str(render(messages=messages).prompt) + opening
        out.append(list(llm.tokenize(prompt.encode(), add_bos=False, special=True)))
    choices = [llm.tokenize(c.encode(), add_bos=False, special=True) for c in (" true", " false")]
    moderator.close()
    global TRUE, FALSE
    TRUE, FALSE = choices[0][0], choices[1][0]
    return out


class Batcher:
    def __init__(self, model_path: Path, size: int, n_ctx: int) -> None:
        import llama_cpp as L

        self.L = L
        self.model = L.llama_model_load_from_file(str(model_path).encode(), L.llama_model_default_params())
        params = L.llama_context_default_params()
        params.n_ctx, params.n_batch, params.n_ubatch = n_ctx, 2048, 512
        params.n_seq_max, params.kv_unified = size, True
        params.n_threads = params.n_threads_batch = os.cpu_count() or 2
        self.ctx = L.llama_init_from_model(self.model, params)
        self.mem = L.llama_get_memory(self.ctx)
        self.size = size
        self.batch = L.llama_batch_init(2048, 0, size)
        self.n_vocab = L.llama_vocab_n_tokens(L.llama_model_get_vocab(self.model))
        self.prefix = 0

    def _add(self, token: int, pos: int, seqs: list[int], logits: bool) -> int:
        b, i = self.batch, self.batch.n_tokens
        b.token[i], b.pos[i], b.n_seq_id[i], b.logits[i] = token, pos, len(seqs), logits
        for j, seq in enumerate(seqs):
            b.seq_id[i][j] = seq
        b.n_tokens += 1
        return i

    def _decode(self) -> None:
        if self.L.llama_decode(self.ctx, self.batch) != 0:
            raise RuntimeError("llama_decode failed")

    def shared(self, tokens: list[int]) -> None:
        """Evaluate the fixed prompt once, for every sequence."""
        for start in range(0, len(tokens), 512):
            self.batch.n_tokens = 0
            for pos, token in enumerate(tokens[start:start + 512], start=start):
                self._add(token, pos, list(range(self.size)), False)
            self._decode()
        self.prefix = len(tokens)

    def judge(self, suffixes: list[list[int]]) -> list[float]:
        """p(true) for each text's own tokens after the shared prefix, in one batch."""
        import numpy as np

        self.batch.n_tokens = 0
        last = []
        for seq, suffix in enumerate(suffixes):
            for k, token in enumerate(suffix):
                index = self._add(token, self.prefix + k, [seq], k == len(suffix) - 1)
            last.append(index)
        self._decode()
        out = []
        for seq, index in enumerate(last):
            logits = np.ctypeslib.as_array(self.L.llama_get_logits_ith(self.ctx, index), shape=(self.n_vocab,))
            t, f = float(logits[TRUE]), float(logits[FALSE])
            out.append(1.0 / (1.0 + math.exp(f - t)))
            self.L.llama_memory_seq_rm(self.mem, seq, self.prefix, -1)
        return out

    def close(self) -> None:
        self.L.llama_batch_free(self.batch)
        self.L.llama_free(self.ctx)
        self.L.llama_model_free(self.model)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="qwen2.5-coder-1.5b", choices=sorted(PINNED))
    parser.add_argument("--limit", type=int, default=48)
    parser.add_argument("--sizes", type=int, nargs="+", default=[1, 2, 4, 8])
    args = parser.parse_args()
    rows = [json.loads(line) for line in DATA.read_text().splitlines() if line.strip()][: args.limit]
    load_cpu_variants()
    tokens = prompts([r["text"] for r in rows], args.model)
    shared = _common_prefix(tokens)
    suffixes = [t[shared:] for t in tokens]
    longest = max(len(s) for s in suffixes)
    print(f"{len(rows)} SMS texts, {args.model}; shared prefix {shared} tokens, "
          f"own tokens per text {sum(map(len, suffixes)) / len(suffixes):.1f} (max {longest})\n")
    print("| texts per batch | s/text (first batch excluded) | texts/s | max |p - p(B=1)| |")
    print("|---|---|---|---|")
    reference: list[float] | None = None
    for size in args.sizes:
        batcher = Batcher(pinned_path(PINNED[args.model]), size, shared + size * longest + 64)
        batcher.shared(tokens[0][:shared])
        scores: list[float] = []
        groups = [suffixes[i:i + size] for i in range(0, len(suffixes), size)]
        scores += batcher.judge(groups[0])
        started = time.perf_counter()
        for group in groups[1:]:
            scores += batcher.judge(group)
        per = (time.perf_counter() - started) / (len(suffixes) - len(groups[0]))
        batcher.close()
        reference = reference or scores
        drift = max(abs(a - b) for a, b in zip(scores, reference))
        print(f"| {size} | {per:.3f} | {1 / per:.2f} | {drift:.4f} |")
    return 0


TRUE = FALSE = -1
if __name__ == "__main__":
    raise SystemExit(main())

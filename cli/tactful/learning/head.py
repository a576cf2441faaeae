"""The learned head, saved beside the profile: a versioned JSON file, safe to load.

``tactful calibrate`` writes it when cross-validation chooses a head (or the combination
of head and prompt) and removes it when the prompt's probability wins. It is plain JSON,
never pickle: loading it runs no code, and a person can read what decides. For a profile
``tactful.toml`` it is ``tactful.head.json``::

    {
      "format": "tactful-head",
      "version": 1,
      "model": "qwen2.5-coder-1.5b-instruct-q4_k_m.gguf@1117320736-1733000000",
      "representation": "text",        # or "prompt"
      "prompt": "3f2a9c1e",            # the prompt fingerprint it was fitted with
      "mode": "binary",
      "fitted": "2026-12-03T10:00:00Z",
      "rules": {
        "flagged": {                   # the score key: "flagged" in binary mode
          "kind": "head",              # or "combined"
          "threshold": 0.5,
          "bias": -0.12,
          "prob_weight": 0.0,          # the weight of logit(p) in "combined"
          "weights": [0.01, ...],      # one per dimension of the representation
          "cv": {"f1": 0.95, "f1_sd": 0.02, "fpr": 0.03, "fpr_sd": 0.01, "labels": 40, "positives": 20}
        }
      }
    }

A text is flagged when sigmoid(weights . x + prob_weight * logit(p) + bias) >= threshold,
where x is the model's representation of the text (``text``: the mean of the model's
token states for the bare text; ``prompt``: its hidden state where tactful's prompt asks
for the answer) and p the prompt's probability. A head fitted on another model, another
representation size or (where it reads the prompt) another prompt never decides: it is
reported stale and the thresholds decide until ``tactful calibrate`` runs again.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeGuard

from tactful.errors import ConfigError
from tactful.io.atomic import atomic_write_text
from tactful.learning.choose import COMBINED, HEAD, Choice, Rule, apply

FORMAT = "tactful-head"
VERSION = 1
SUFFIX = ".head.json"
# Where the representation comes from: the bare text (costs its own tokens), or the
# state at the answer position of tactful's prompt (comes with the prompt's probability).
TEXT = "text"
PROMPT = "prompt"
REPRESENTATIONS = (TEXT, PROMPT)
BINARY_KEY = "flagged"  # the rule's key in binary mode: "anything blocked"


@dataclass(frozen=True)
class SavedHead:
    """A head as saved: its rules per score key, and what they were fitted on."""

    model: str
    representation: str
    prompt: str
    mode: str
    fitted: str
    rules: Mapping[str, Rule]
    quality: Mapping[str, Mapping[str, float]]

    @property
    def dims(self) -> int:
        return len(next(iter(self.rules.values())).weights)

    @property
    def needs_prompt(self) -> bool:
        """Whether deciding evaluates tactful's prompt (else only the text's own tokens)."""
        return self.representation == PROMPT or any(rule.kind == COMBINED for rule in self.rules.values())

    def stale(self, model: str, prompt: str, mode: str) -> str | None:
        """Why this head must not decide for that model, prompt and mode; None when it may."""
        changed = []
        if self.mode != mode:
            changed.append(f"{self.mode} mode (this run is in {mode} mode)")
        if self.model != model:
            changed.append(f"model {self.model} (now {model})")
        if self.needs_prompt and self.prompt != prompt:
            changed.append(f"prompt {self.prompt} (now {prompt}: categories, examples or mode changed)")
        return " and ".join(changed) or None


def head_path(profile_path: Path) -> Path:
    """The head file that belongs to a profile file: ``tactful.toml`` -> ``tactful.head.json``."""
    return profile_path.with_name(profile_path.stem + SUFFIX)


def save_head(path: Path, head: SavedHead) -> None:
    """Write ``head`` to ``path`` at once (a crash leaves the old file or the new one)."""
    rules = {
        key: {"kind": rule.kind, "threshold": rule.threshold, "bias": rule.bias, "prob_weight": rule.prob_weight,
              "weights": list(rule.weights), "cv": dict(head.quality.get(key, {}))}
        for key, rule in head.rules.items()
    }
    document = {"format": FORMAT, "version": VERSION, "model": head.model, "representation": head.representation,
                "prompt": head.prompt, "mode": head.mode, "fitted": head.fitted, "rules": rules}
    atomic_write_text(path, json.dumps(document, indent=1) + "\n")


def load_head(path: Path) -> SavedHead | None:
    """The head saved at ``path``; None when there is none. ConfigError names what is wrong."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read the learned head ({exc}); run `tactful calibrate` again") from None
    try:
        return _parse(json.loads(text))
    except (json.JSONDecodeError, _Malformed) as exc:
        raise ConfigError(f"{path}: not a learned head tactful can use ({exc}); "
                          "run `tactful calibrate` to write it again, or delete it") from None


def checked_apply(rule: Rule, path: Path, probability: float | None, vector: Sequence[float]) -> float:
    """The rule's probability for one text; ConfigError when the representation does not fit it."""
    if len(vector) != len(rule.weights):
        raise ConfigError(f"{path}: the learned head reads {len(rule.weights)} numbers per text, the model gives "
                          f"{len(vector)}; run `tactful calibrate` again, or delete the file")
    return apply(rule, probability, vector)


def cv_quality(choice: Choice, kind: str) -> dict[str, float]:
    """The cross-validated quality of candidate ``kind``, as saved with its rule."""
    scored = choice.of(kind)
    return {"f1": scored.f1, "f1_sd": scored.f1_sd, "fpr": scored.fpr, "fpr_sd": scored.fpr_sd,
            "labels": choice.total, "positives": choice.positives}


# ---------------------------------------------------------------- reading


class _Malformed(ValueError):
    pass


def _parse(document: Any) -> SavedHead:
    if not isinstance(document, dict) or document.get("format") != FORMAT:
        raise _Malformed(f'"format" must be "{FORMAT}"')
    if document.get("version") != VERSION:
        raise _Malformed(f"version {document.get('version')!r}: this tactful reads version {VERSION}")
    strings = {name: _string(document, name) for name in ("model", "representation", "prompt", "mode", "fitted")}
    if strings["representation"] not in REPRESENTATIONS:
        raise _Malformed(f'"representation" must be one of {", ".join(REPRESENTATIONS)}')
    raw_rules = document.get("rules")
    if not isinstance(raw_rules, dict) or not raw_rules:
        raise _Malformed('"rules" must map a score key to a rule')
    rules = {str(key): _rule(key, value) for key, value in raw_rules.items()}
    if len({len(rule.weights) for rule in rules.values()}) != 1:
        raise _Malformed("the rules' weights differ in length")
    quality = {str(key): _numbers(value.get("cv", {}), f"rules.{key}.cv") for key, value in raw_rules.items()}
    return SavedHead(rules=rules, quality=quality, **strings)


def _rule(key: str, value: Any) -> Rule:
    where = f"rules.{key}"
    if not isinstance(value, dict):
        raise _Malformed(f"{where} must be an object")
    kind = value.get("kind")
    if kind not in (HEAD, COMBINED):
        raise _Malformed(f'{where}.kind must be "{HEAD}" or "{COMBINED}"')
    weights = value.get("weights")
    if not isinstance(weights, list) or not weights or not all(_finite(w) for w in weights):
        raise _Malformed(f"{where}.weights must be a non-empty list of finite numbers")
    numbers: dict[str, float] = {}
    for name in ("threshold", "bias", "prob_weight"):
        number = value.get(name)
        if not _finite(number):
            raise _Malformed(f"{where}.{name} must be a finite number")
        numbers[name] = float(number)
    return Rule(kind, numbers["threshold"], tuple(float(w) for w in weights), numbers["bias"], numbers["prob_weight"])


def _numbers(value: Any, where: str) -> dict[str, float]:
    if not isinstance(value, dict) or not all(_finite(v) for v in value.values()):
        raise _Malformed(f"{where} must map names to numbers")
    return {str(k): float(v) for k, v in value.items()}


def _string(document: dict[str, Any], name: str) -> str:
    value = document.get(name)
    if not isinstance(value, str):
        raise _Malformed(f'"{name}" must be a string')
    return value


def _finite(value: Any) -> TypeGuard[float]:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)

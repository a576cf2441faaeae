"""Classification metrics: accuracy, per-class precision/recall/F1, macro-F1, confusion."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field


@dataclass(frozen=True)
class ClassScore:
    label: str
    precision: float
    recall: float
    f1: float
    support: int


@dataclass
class Report:
    labels: list[str]
    accuracy: float
    macro_f1: float
    per_class: list[ClassScore]
    # confusion[gold][predicted] = count (single-label); per label 2x2 for multi-label
    confusion: dict[str, dict[str, int]] = field(default_factory=dict)
    n: int = 0

    def to_json(self) -> dict[str, object]:
        return {
            "n": self.n,
            "accuracy": round(self.accuracy, 4),
            "macro_f1": round(self.macro_f1, 4),
            "per_class": {
                c.label: {"precision": round(c.precision, 4), "recall": round(c.recall, 4),
                          "f1": round(c.f1, 4), "support": c.support}
                for c in self.per_class
            },
            "confusion": self.confusion,
        }


def _prf(tp: int, fp: int, fn: int) -> tuple[float, float, float]:
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return precision, recall, f1


def single_label_report(gold: Sequence[str], predicted: Sequence[str], labels: Sequence[str]) -> Report:
    """One label per item (binary and multiclass)."""
    pairs = Counter(zip(gold, predicted))
    per_class = []
    for label in labels:
        tp = pairs[(label, label)]
        fp = sum(n for (g, p), n in pairs.items() if p == label and g != label)
        fn = sum(n for (g, p), n in pairs.items() if g == label and p != label)
        per_class.append(ClassScore(label, *_prf(tp, fp, fn), support=tp + fn))
    confusion = {g: {p: pairs[(g, p)] for p in labels} for g in labels}
    correct = sum(n for (g, p), n in pairs.items() if g == p)
    return Report(
        labels=list(labels),
        accuracy=correct / len(gold) if gold else 0.0,
        macro_f1=_mean([c.f1 for c in per_class if c.support or _predicted(pairs, c.label)]),
        per_class=per_class,
        confusion=confusion,
        n=len(gold),
    )


def multi_label_report(gold: Sequence[set[str]], predicted: Sequence[set[str]], labels: Sequence[str]) -> Report:
    """Any number of labels per item; accuracy is the exact-match ratio."""
    per_class, confusion = [], {}
    for label in labels:
        tp = sum(1 for g, p in zip(gold, predicted) if label in g and label in p)
        fp = sum(1 for g, p in zip(gold, predicted) if label not in g and label in p)
        fn = sum(1 for g, p in zip(gold, predicted) if label in g and label not in p)
        tn = len(gold) - tp - fp - fn
        per_class.append(ClassScore(label, *_prf(tp, fp, fn), support=tp + fn))
        confusion[label] = {"tp": tp, "fp": fp, "fn": fn, "tn": tn}
    exact = sum(1 for g, p in zip(gold, predicted) if g == p)
    return Report(
        labels=list(labels),
        accuracy=exact / len(gold) if gold else 0.0,
        macro_f1=_mean([c.f1 for c in per_class if c.support]),
        per_class=per_class,
        confusion=confusion,
        n=len(gold),
    )


def _predicted(pairs: Counter[tuple[str, str]], label: str) -> int:
    return sum(n for (_, p), n in pairs.items() if p == label)


def _mean(values: list[float]) -> float:
    return sum(values) / len(values) if values else 0.0

"""Entity-level precision/recall/F1 (seqeval default / conlleval semantics), overall and per type."""
from __future__ import annotations

from collections import Counter

from mlnet_ros.core.labels import entity_spans


def entity_scores(gold: list[list[str]], predicted: list[list[str]]) -> dict[str, dict[str, float]]:
    """Micro-averaged scores under "overall" plus one entry per entity type.

    Each entry has precision, recall, f1 (in percent) and support (gold entities).
    """
    gold_counts, predicted_counts, correct_counts = Counter(), Counter(), Counter()
    for gold_tags, predicted_tags in zip(gold, predicted, strict=True):
        gold_set = {(kind, a, b) for kind, a, b in entity_spans(gold_tags)}
        predicted_set = {(kind, a, b) for kind, a, b in entity_spans(predicted_tags)}
        gold_counts.update(kind for kind, _, _ in gold_set)
        predicted_counts.update(kind for kind, _, _ in predicted_set)
        correct_counts.update(kind for kind, _, _ in gold_set & predicted_set)
    scores = {}
    for kind in sorted(set(gold_counts) | set(predicted_counts)):
        scores[kind] = _score(correct_counts[kind], predicted_counts[kind], gold_counts[kind])
    scores["overall"] = _score(
        sum(correct_counts.values()), sum(predicted_counts.values()), sum(gold_counts.values())
    )
    return scores


def _score(correct: int, predicted: int, gold: int) -> dict[str, float]:
    precision = 100.0 * correct / predicted if predicted else 0.0
    recall = 100.0 * correct / gold if gold else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"precision": precision, "recall": recall, "f1": f1, "support": gold}


def format_scores(scores: dict[str, dict[str, float]]) -> str:
    """A small fixed-width table of `entity_scores` output."""
    lines = [f"{'type':<8} {'P':>6} {'R':>6} {'F1':>6} {'support':>8}"]
    for kind, s in scores.items():
        lines.append(f"{kind:<8} {s['precision']:6.2f} {s['recall']:6.2f} {s['f1']:6.2f} {s['support']:8d}")
    return "\n".join(lines)

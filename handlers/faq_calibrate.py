"""Fit the answer/suggest/off-topic decision from the knowledge base alone.

Every phrasing of every entry is asked as a question with itself left out of the index
(leave-one-out), in its own language; out-of-scope intents' phrasings are asked with all
out-of-scope intents left out, as examples of questions the FAQ must not answer. A
logistic model over the ranking's features then predicts whether the top entry is right,
and the answer threshold is set where answered-and-right and rejected-off-topic balance.
No evaluation question is used, so the evaluation sets stay a fair measure.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path

from handlers.faq_kb import KnowledgeBase
from handlers.faq_lang import LANGUAGE_DIR, Lexicon
from handlers.faq_match import Calibration, FaqMatcher, decision_features
from handlers.messages import Lang


@dataclass(frozen=True, slots=True)
class Sample:
    """One held-out question: its features, whether the top entry is right, if in scope."""

    features: tuple[float, ...]
    correct: bool
    in_scope: bool


def collect_samples(matcher: FaqMatcher) -> list[Sample]:
    """Held-out questions from the knowledge base's own phrasings."""
    samples: list[Sample] = []
    for lang in Lang:
        phrasings = matcher.phrasings(lang)
        out_of_scope = frozenset(
            position
            for position, phrasing in enumerate(phrasings)
            if matcher.entries[phrasing.entry].kind == "out_of_scope"
        )
        own: dict[tuple[int, str], set[int]] = {}
        for position, phrasing in enumerate(phrasings):
            own.setdefault((phrasing.entry, phrasing.text), set()).add(position)
        for number, entry in enumerate(matcher.entries):
            for text in entry.text(lang).phrasings():
                if entry.kind == "out_of_scope":
                    skip = out_of_scope
                else:
                    skip = frozenset(own.get((number, text), ()))
                ranked, stats = matcher.rank(text, lang, skip=skip)
                if not ranked:
                    continue
                top = ranked[0].entry
                correct = entry.kind == "answer" and bool(set(top.topics) & set(entry.topics))
                samples.append(
                    Sample(decision_features(ranked, stats), correct, entry.kind == "answer")
                )
    return samples


def fit(
    samples: list[Sample], epochs: int = 400, rate: float = 0.5, l2: float = 1e-3
) -> tuple[float, ...]:
    """Logistic regression by gradient descent; returns (bias, *weights)."""
    width = len(samples[0].features)
    weights = [0.0] * (width + 1)
    positives = sum(s.correct for s in samples) or 1
    negatives = (len(samples) - positives) or 1
    pos_weight = len(samples) / (2 * positives)
    neg_weight = len(samples) / (2 * negatives)
    for _ in range(epochs):
        gradient = [0.0] * (width + 1)
        for sample in samples:
            z = weights[0] + sum(w * f for w, f in zip(weights[1:], sample.features, strict=True))
            p = 1.0 / (1.0 + math.exp(-max(-30.0, min(30.0, z))))
            y = 1.0 if sample.correct else 0.0
            scale = pos_weight if sample.correct else neg_weight
            error = (p - y) * scale
            gradient[0] += error
            for i, f in enumerate(sample.features, start=1):
                gradient[i] += error * f
        for i in range(width + 1):
            penalty = l2 * weights[i] if i else 0.0
            weights[i] -= rate * (gradient[i] / len(samples) + penalty)
    return tuple(round(w, 4) for w in weights)


def choose_thresholds(samples: list[Sample], model: Calibration) -> tuple[float, float]:
    """Answer threshold balancing right answers and rejected off-topic; suggest threshold."""
    in_scope = [s for s in samples if s.in_scope]
    off_topic = [s for s in samples if not s.in_scope]
    best, best_value = 0.5, -1.0
    for step in range(5, 96):
        tau = step / 100
        answered_right = sum(
            1 for s in in_scope if s.correct and model.probability(s.features) >= tau
        ) / max(1, len(in_scope))
        rejected = sum(1 for s in off_topic if model.probability(s.features) < tau) / max(
            1, len(off_topic)
        )
        value = min(answered_right, rejected) + 0.01 * (answered_right + rejected)
        if value > best_value:
            best, best_value = tau, value
    return best, round(best / 3, 3)


def calibrate(kb: KnowledgeBase, out_dir: Path | None = None) -> dict[str, object]:
    """Fit and write `calibration.json`; return what was written with its training figures."""
    matcher = FaqMatcher(kb, Lexicon.load(tables=out_dir), calibration=Calibration())
    samples = collect_samples(matcher)
    weights = fit(samples)
    model = Calibration(weights=weights)
    answer, suggest = choose_thresholds(samples, model)
    in_scope = [s for s in samples if s.in_scope]
    off_topic = [s for s in samples if not s.in_scope]
    final = Calibration(weights=weights, answer=answer, suggest=suggest)
    result: dict[str, object] = {
        "weights": list(weights),
        "features": ["score", "margin", "phrasing", "entry_cover", "unknown_share"],
        "answer": answer,
        "suggest": suggest,
        "suggestion_floor": final.suggestion_floor,
        "training": {
            "held_out_in_scope": len(in_scope),
            "held_out_off_topic": len(off_topic),
            "top1_right": round(sum(s.correct for s in in_scope) / max(1, len(in_scope)), 3),
            "answered_right": round(
                sum(1 for s in in_scope if s.correct and final.probability(s.features) >= answer)
                / max(1, len(in_scope)),
                3,
            ),
            "off_topic_rejected": round(
                sum(1 for s in off_topic if final.probability(s.features) < answer)
                / max(1, len(off_topic)),
                3,
            ),
        },
    }
    path = (out_dir or LANGUAGE_DIR) / "calibration.json"
    path.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    return result

"""Fit the answer/suggest/off-topic decision (`sote-bot faq build`).

Two kinds of examples feed a logistic model of "the top-ranked entry is right":
- the knowledge base's own phrasings, each asked with itself left out of the index (and
  out-of-scope intents' phrasings asked with every out-of-scope intent left out);
- realistic development questions (`calibration_questions.jsonl`: questions written the way
  volunteers write, each labelled with a fact-sheet topic code or OFF_TOPIC). They are
  labelled by topic, not by entry, so they stay valid when entries are edited.
The answer threshold is then set on the development questions where answered-and-right
and rejected-off-topic balance. The held-out evaluation set is never used here.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from handlers.faq_kb import KnowledgeBase
from handlers.faq_lang import LANGUAGE_DIR, Lexicon
from handlers.faq_match import Calibration, FaqMatcher, decision_features
from handlers.messages import Lang

FEATURES = ("score", "margin", "phrasing", "entry_cover", "unknown_share", "specificity")
QUESTIONS_FILE = LANGUAGE_DIR / "calibration_questions.jsonl"


@dataclass(frozen=True, slots=True)
class Sample:
    """One example: its features, whether the top entry is right, whether it is in scope."""

    features: tuple[float, ...]
    correct: bool
    in_scope: bool
    weight: float = 1.0
    out_of_scope_top: bool = False


def held_out_samples(matcher: FaqMatcher, weight: float) -> list[Sample]:
    """Examples from the knowledge base's own phrasings, each left out while it is asked."""
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
            in_scope = entry.kind == "answer"
            for text in entry.text(lang).phrasings():
                skip = frozenset(own.get((number, text), ())) if in_scope else out_of_scope
                ranked, stats = matcher.rank(text, lang, skip=skip)
                if not ranked:
                    continue
                correct = in_scope and bool(set(ranked[0].entry.topics) & set(entry.topics))
                samples.append(Sample(decision_features(ranked, stats), correct, in_scope, weight))
    return samples


def question_samples(
    matcher: FaqMatcher, questions: list[dict[str, str]], weight: float
) -> list[Sample]:
    """Examples from labelled development questions."""
    samples: list[Sample] = []
    for question in questions:
        text, expect = question["text"], question["expect"]
        lang = matcher.detect_language(text, Lang.FI)
        ranked, stats = matcher.rank(text, lang)
        in_scope = expect != "OFF_TOPIC"
        if not ranked:
            samples.append(Sample(decision_features([], stats), False, in_scope, weight))
            continue
        top = ranked[0].entry
        samples.append(
            Sample(
                decision_features(ranked, stats),
                in_scope and top.kind == "answer" and expect in top.topics,
                in_scope,
                weight,
                out_of_scope_top=top.kind == "out_of_scope",
            )
        )
    return samples


def fit(
    samples: list[Sample], epochs: int = 600, rate: float = 0.5, l2: float = 1e-3
) -> tuple[float, ...]:
    """Weighted logistic regression by gradient descent; returns (bias, *weights)."""
    usable = [s for s in samples if not s.out_of_scope_top]
    width = len(usable[0].features)
    weights = [0.0] * (width + 1)
    positive = sum(s.weight for s in usable if s.correct) or 1.0
    negative = sum(s.weight for s in usable if not s.correct) or 1.0
    total = positive + negative
    for _ in range(epochs):
        gradient = [0.0] * (width + 1)
        for sample in usable:
            z = weights[0] + sum(w * f for w, f in zip(weights[1:], sample.features, strict=True))
            p = 1.0 / (1.0 + math.exp(-max(-30.0, min(30.0, z))))
            balance = total / (2 * (positive if sample.correct else negative))
            error = (p - (1.0 if sample.correct else 0.0)) * sample.weight * balance
            gradient[0] += error
            for i, f in enumerate(sample.features, start=1):
                gradient[i] += error * f
        for i in range(width + 1):
            weights[i] -= rate * (gradient[i] / total + (l2 * weights[i] if i else 0.0))
    return tuple(round(w, 4) for w in weights)


def rates(samples: list[Sample], model: Calibration, tau: float) -> tuple[float, float]:
    """(answered and right among in-scope, not answered among off-topic) at threshold `tau`."""
    in_scope = [s for s in samples if s.in_scope]
    off_topic = [s for s in samples if not s.in_scope]

    def answered(s: Sample) -> bool:
        return (
            not s.out_of_scope_top
            and model.probability(s.features) >= tau
            and s.features[1] > model.tie
        )

    right = sum(1 for s in in_scope if s.correct and answered(s)) / max(1, len(in_scope))
    rejected = sum(1 for s in off_topic if not answered(s)) / max(1, len(off_topic))
    return right, rejected


def choose_thresholds(samples: list[Sample], weights: tuple[float, ...]) -> Calibration:
    """The answer threshold and tie margin that best balance right answers and rejected
    off-topic questions."""
    best, best_value = Calibration(weights=weights), -1.0
    for tie in (0.0, 0.005, 0.01, 0.02, 0.03):
        for step in range(2, 96):
            model = Calibration(weights=weights, answer=step / 100, tie=tie)
            right, rejected = rates(samples, model, model.answer)
            value = min(right, rejected) + 0.1 * (right + rejected)
            if value > best_value:
                best, best_value = model, value
    return best


def load_questions(path: Path = QUESTIONS_FILE) -> list[dict[str, str]]:
    """The labelled development questions shipped for calibration."""
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]


def calibrate(
    kb: KnowledgeBase,
    out_dir: Path | None = None,
    questions: list[dict[str, str]] | None = None,
    places: Callable[[str], str] | None = None,
) -> dict[str, object]:
    """Fit and write `calibration.json`; return what was written with its figures."""
    matcher = FaqMatcher(kb, Lexicon.load(tables=out_dir), calibration=Calibration(), places=places)
    questions = load_questions() if questions is None else questions
    realistic = question_samples(matcher, questions, weight=8.0)
    held_out = held_out_samples(matcher, weight=1.0)
    weights = fit(held_out + realistic)
    tuning = realistic or held_out
    chosen = choose_thresholds(tuning, weights)
    answer = chosen.answer
    final = Calibration(
        weights=weights, answer=answer, suggest=round(answer / 3, 3), tie=chosen.tie
    )
    right, rejected = rates(tuning, final, answer)
    kb_right, kb_rejected = rates(held_out, final, answer)
    result: dict[str, object] = {
        "features": list(FEATURES),
        "weights": list(weights),
        "answer": answer,
        "suggest": final.suggest,
        "suggestion_floor": final.suggestion_floor,
        "tie": final.tie,
        "fitted_on": {
            "held_out_phrasings": len(held_out),
            "development_questions": len(realistic),
            "development_answered_right": round(right, 3),
            "development_off_topic_rejected": round(rejected, 3),
            "held_out_answered_right": round(kb_right, 3),
            "held_out_off_topic_rejected": round(kb_rejected, 3),
        },
    }
    path = (out_dir or LANGUAGE_DIR) / "calibration.json"
    path.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    return result

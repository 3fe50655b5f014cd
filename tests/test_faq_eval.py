"""The knowledge base meets its bars on the development set (PRODUCT.md §4, issue bars)."""

from __future__ import annotations

from handlers.faq import FaqService
from tests.faq_eval import EVAL_DIR, bot_system, evaluate, load_questions


def test_dev_set_bars_hold_in_every_language() -> None:
    service = FaqService.load()
    report = evaluate("sote-bot", bot_system(service), load_questions(EVAL_DIR / "faq_dev.jsonl"))
    for lang in ("fi", "sv", "en"):
        if report.in_scope[lang]:
            assert report.rate(report.in_scope, lang) >= 0.9, (lang, report.misses)
        if report.off_topic[lang]:
            assert report.rate(report.off_topic, lang) >= 0.9, (lang, report.misses)


# Written apart from the knowledge base, each measured once before any change it prompted
# (first-run figures in the README). Together they guard the bars against regressions; a
# single small cell (20–36 questions) may dip below 90 %, the language as a whole may not.
HELD_OUT = ("faq_unseen.jsonl", "faq_unseen2.jsonl", "faq_unseen3.jsonl", "faq_unseen4.jsonl")


def test_held_out_sets_together_meet_the_bars_in_every_language() -> None:
    service = FaqService.load()
    questions = [q for name in HELD_OUT for q in load_questions(EVAL_DIR / name)]
    report = evaluate("sote-bot", bot_system(service), questions)
    for lang in ("fi", "sv", "en"):
        assert report.rate(report.in_scope, lang) >= 0.9, (lang, report.misses)
        assert report.rate(report.off_topic, lang) >= 0.9, (lang, report.misses)


def test_every_entry_is_reached_by_its_own_question() -> None:
    """Asked in its own words, an entry is answered, or at least offered as a suggestion."""
    service = FaqService.load()
    for entry in service.kb.answers():
        for lang in ("fi", "sv", "en"):
            match = service.matcher.match(entry.text(lang).question)
            offered = [match.entry] if match.entry else list(match.suggestions)
            assert any(set(e.topics) & set(entry.topics) for e in offered), (
                entry.id,
                lang,
                match.kind,
                [e.id for e in offered],
            )

"""FAQ evaluation: the bot's matcher and two baselines on the same questions, side by side.

Run `python -m tests.faq_eval` (dev set) or `python -m tests.faq_eval tests/eval/faq_unseen.jsonl`.
Figures: in-scope top-1 (answered with an entry whose topics include the expected code),
off-topic rejection (not answered from the FAQ), both per language, the misses, and
p50/p99 latency per question in-process.
"""

from __future__ import annotations

import argparse
import json
import math
import re
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from rapidfuzz import fuzz

from bot.app import freeze_loaded_data
from handlers.faq import FaqService
from handlers.faq_kb import Entry, KnowledgeBase
from handlers.messages import Lang

EVAL_DIR = Path(__file__).resolve().parent / "eval"


@dataclass(frozen=True)
class Question:
    """One evaluation question."""

    id: str
    text: str
    lang: str
    expect: str


@dataclass
class Outcome:
    """What a system did with one question."""

    answered: bool
    topics: tuple[str, ...]
    detail: str = ""


@dataclass
class Report:
    """Figures for one system on one set."""

    name: str
    in_scope: dict[str, list[bool]] = field(default_factory=lambda: defaultdict(list))
    off_topic: dict[str, list[bool]] = field(default_factory=lambda: defaultdict(list))
    latencies_ms: list[float] = field(default_factory=list)
    misses: list[str] = field(default_factory=list)

    def rate(self, table: dict[str, list[bool]], lang: str | None = None) -> float:
        """Share of successes, for one language or all."""
        values = table[lang] if lang else [v for vs in table.values() for v in vs]
        return sum(values) / len(values) if values else float("nan")

    def percentile(self, p: float) -> float:
        """Latency percentile in milliseconds."""
        data = sorted(self.latencies_ms)
        if not data:
            return float("nan")
        index = min(len(data) - 1, math.ceil(p / 100 * len(data)) - 1)
        return data[max(index, 0)]


def load_questions(path: Path) -> list[Question]:
    """Read a JSON-lines evaluation set."""
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]
    return [
        Question(str(r.get("id", n)), r["text"], r["lang"], r["expect"]) for n, r in enumerate(rows)
    ]


def evaluate(name: str, system: Callable[[str], Outcome], questions: Sequence[Question]) -> Report:
    """Run `system` on every question and collect the figures."""
    report = Report(name)
    for q in questions:
        started = time.perf_counter()
        outcome = system(q.text)
        report.latencies_ms.append((time.perf_counter() - started) * 1000)
        if q.expect == "OFF_TOPIC":
            ok = not outcome.answered
            report.off_topic[q.lang].append(ok)
        else:
            ok = outcome.answered and q.expect in outcome.topics
            report.in_scope[q.lang].append(ok)
        if not ok:
            report.misses.append(
                f"{q.id} [{q.lang}] expect {q.expect}: {q.text!r} → {outcome.detail}"
            )
    return report


def bot_system(service: FaqService) -> Callable[[str], Outcome]:
    """The bot's own matcher."""

    def run(text: str) -> Outcome:
        match = service.matcher.match(text)
        entry = match.entry
        detail = f"{match.kind.value} {entry.id if entry else ''} {match.confidence:.2f}"
        if match.suggestions:
            detail += " [" + ", ".join(e.id for e in match.suggestions) + "]"
        return Outcome(entry is not None, entry.topics if entry else (), detail)

    return run


def fuzzy_baseline(kb: KnowledgeBase, threshold: float = 70.0) -> Callable[[str], Outcome]:
    """Baseline (a): rapidfuzz token_set_ratio against every entry question, best wins."""
    questions = [
        (entry, entry.text(lang).question.lower()) for entry in kb.answers() for lang in Lang
    ]

    def run(text: str) -> Outcome:
        lowered = text.lower()
        best_entry, best = None, -1.0
        for entry, question in questions:
            score = fuzz.token_set_ratio(lowered, question)
            if score > best:
                best_entry, best = entry, score
        if best_entry is None or best < threshold:
            return Outcome(False, (), f"below {threshold:.0f} ({best:.0f})")
        return Outcome(True, best_entry.topics, f"{best_entry.id} {best:.0f}")

    return run


_TOKEN = re.compile(r"\w+")


def bm25_baseline(
    kb: KnowledgeBase, threshold: float = 8.0, k1: float = 1.5, b: float = 0.75
) -> Callable[[str], Outcome]:
    """Baseline (b): Okapi BM25 over lowercased surface words, no lemmatisation or stemming.

    One document per entry and language: question, alternatives and answer.
    """
    docs: list[tuple[Entry, Counter[str]]] = []
    for entry in kb.answers():
        for lang in Lang:
            text = entry.text(lang)
            tokens = _TOKEN.findall(" ".join((*text.phrasings(), text.answer)).lower())
            docs.append((entry, Counter(tokens)))
    n = len(docs)
    avg = sum(sum(c.values()) for _, c in docs) / n
    df: Counter[str] = Counter()
    for _, counts in docs:
        df.update(counts.keys())
    idf = {t: math.log(1 + (n - d + 0.5) / (d + 0.5)) for t, d in df.items()}

    def run(text: str) -> Outcome:
        query = set(_TOKEN.findall(text.lower()))
        best_entry, best = None, 0.0
        for entry, counts in docs:
            length = sum(counts.values())
            score = 0.0
            for term in query:
                tf = counts.get(term, 0)
                if tf:
                    score += idf[term] * tf * (k1 + 1) / (tf + k1 * (1 - b + b * length / avg))
            if score > best:
                best_entry, best = entry, score
        if best_entry is None or best < threshold:
            return Outcome(False, (), f"below {threshold} ({best:.1f})")
        return Outcome(True, best_entry.topics, f"{best_entry.id} {best:.1f}")

    return run


def table(reports: Sequence[Report]) -> str:
    """The figures of several systems side by side."""
    langs = ["fi", "sv", "en"]
    header = (
        f"{'system':<28}"
        + "".join(f"{'in ' + lang:>9}{'off ' + lang:>9}" for lang in langs)
        + f"{'in all':>9}{'off all':>9}{'p50 ms':>9}{'p99 ms':>9}"
    )
    lines = [header, "-" * len(header)]
    for report in reports:
        cells = "".join(
            f"{report.rate(report.in_scope, lang):>9.1%}{report.rate(report.off_topic, lang):>9.1%}"
            for lang in langs
        )
        lines.append(
            f"{report.name:<28}{cells}{report.rate(report.in_scope):>9.1%}"
            f"{report.rate(report.off_topic):>9.1%}{report.percentile(50):>9.3f}"
            f"{report.percentile(99):>9.3f}"
        )
    return "\n".join(lines)


def run_all(paths: Sequence[Path], show_misses: bool = True) -> list[Report]:
    """Evaluate the bot and both baselines on each set and print the tables."""
    started = time.perf_counter()
    service = FaqService.load()
    load_s = time.perf_counter() - started
    freeze_loaded_data()  # as `sote-bot run` does once everything is loaded
    kb = service.kb
    entries = kb.answers()
    print(
        f"knowledge base: {len(entries)} entries × 3 languages (fi, sv, en); "
        f"{len(kb.entries) - len(entries)} out-of-scope intents; "
        f"loaded and indexed in {load_s:.2f} s"
    )
    all_reports: list[Report] = []
    for path in paths:
        questions = load_questions(path)
        counts = Counter((q.lang, q.expect == "OFF_TOPIC") for q in questions)
        print(
            f"\n== {path.name}: {len(questions)} questions "
            + ", ".join(
                f"{lang} {counts[(lang, False)]}+{counts[(lang, True)]} off"
                for lang in ("fi", "sv", "en")
            )
        )
        reports = [
            evaluate("sote-bot matcher", bot_system(service), questions),
            evaluate("(a) rapidfuzz token_set", fuzzy_baseline(kb), questions),
            evaluate("(b) BM25, no lemmas", bm25_baseline(kb), questions),
        ]
        print(table(reports))
        if show_misses:
            print("\nmisses of the sote-bot matcher:")
            for miss in reports[0].misses:
                print("  " + miss)
        all_reports.extend(reports)
    return all_reports


def main() -> None:
    """Command-line entry."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("sets", nargs="*", type=Path, default=[EVAL_DIR / "faq_dev.jsonl"])
    parser.add_argument("--quiet", action="store_true", help="no list of misses")
    args = parser.parse_args()
    run_all(args.sets, show_misses=not args.quiet)


if __name__ == "__main__":
    main()

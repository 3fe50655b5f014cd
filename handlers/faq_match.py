"""Ranking knowledge-base entries for a question, with a calibrated decision.

Each entry's phrasings (canonical question and alternatives) are indexed per language as
sets of terms (folded lemma + Snowball stem, see `faq_lang`). A question is scored against
every entry by three IDF-weighted overlaps: the best single phrasing (both ways), how much
of the question the entry's phrasings cover, and how much its answer covers. The top score
and its margin over the best entry of another topic decide: answer, suggestions or
off-topic. Health emergencies and small talk are recognised before ranking.
"""

from __future__ import annotations

import json
import math
import re
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path

import yaml

from handlers.faq_kb import Entry, KnowledgeBase
from handlers.faq_lang import LANGUAGE_DIR, Analyzer, LanguageGuesser, Lexicon, words
from handlers.messages import Lang
from handlers.textnorm import fold_diacritics, normalize

ONE_WORD_TIE = 0.05
PLACE_TOKEN = "xplacex"
PLACE_UNIT: frozenset[str] = frozenset({"@place"})


class MatchKind(StrEnum):
    """What the bot does with a question."""

    ANSWER = "answer"
    SUGGESTIONS = "suggestions"
    OFF_TOPIC = "off_topic"
    SMALLTALK = "smalltalk"
    EMERGENCY = "emergency"


@dataclass(frozen=True, slots=True)
class Ranked:
    """One entry with its score and the parts the score is made of."""

    entry: Entry
    score: float
    phrasing: float = 0.0
    entry_cover: float = 0.0
    answer_cover: float = 0.0


@dataclass(frozen=True, slots=True)
class QueryStats:
    """What the question itself looks like to the index."""

    units: int = 0
    unknown_share: float = 0.0
    known_weight: float = 0.0


@dataclass(frozen=True, slots=True)
class Calibration:
    """Logistic model of "the top entry is right", and the decision thresholds.

    Fitted by `sote-bot faq build` from the knowledge base alone (its phrasings held out
    in folds, its out-of-scope intents as negatives); stored in `calibration.json`.
    """

    weights: tuple[float, ...] = (-6.0, 6.0, 4.0, 2.0, 2.0, -3.0, 0.5)
    answer: float = 0.5
    suggest: float = 0.15
    suggestion_floor: float = 0.22
    tie: float = 0.02

    @classmethod
    def load(cls, directory: Path | None = None) -> Calibration:
        """Read `calibration.json` from `directory` or the bundled one; defaults if missing."""
        path = (directory or LANGUAGE_DIR) / "calibration.json"
        if not path.exists():
            path = LANGUAGE_DIR / "calibration.json"
        if not path.exists():
            return cls()
        raw = json.loads(path.read_text(encoding="utf-8"))
        return cls(
            weights=tuple(float(w) for w in raw["weights"]),
            answer=float(raw["answer"]),
            suggest=float(raw["suggest"]),
            suggestion_floor=float(raw.get("suggestion_floor", 0.22)),
            tie=float(raw.get("tie", 0.02)),
        )

    def probability(self, features: tuple[float, ...]) -> float:
        """P(the top entry answers the question)."""
        bias, *weights = self.weights
        z = bias + sum(w * f for w, f in zip(weights, features, strict=True))
        return 1.0 / (1.0 + math.exp(-max(-30.0, min(30.0, z))))


def decision_features(ranked: list[Ranked], stats: QueryStats) -> tuple[float, ...]:
    """The calibration model's inputs for a ranking."""
    specificity = math.log1p(stats.known_weight)
    if not ranked:
        return (0.0, 0.0, 0.0, 0.0, stats.unknown_share, specificity)
    top = ranked[0]
    rivals = [r for r in ranked[1:] if not set(r.entry.topics) & set(top.entry.topics)]
    margin = top.score - (rivals[0].score if rivals else 0.0)
    return (top.score, margin, top.phrasing, top.entry_cover, stats.unknown_share, specificity)


@dataclass(frozen=True, slots=True)
class Match:
    """The outcome for one question."""

    kind: MatchKind
    lang: Lang
    confidence: float
    ranked: tuple[Ranked, ...] = ()
    out_of_scope: Entry | None = None
    smalltalk: str | None = None

    @property
    def entry(self) -> Entry | None:
        """The answered entry (only when kind is ANSWER)."""
        return self.ranked[0].entry if self.kind is MatchKind.ANSWER and self.ranked else None

    @property
    def suggestions(self) -> tuple[Entry, ...]:
        """Entries offered as "Did you mean…" (only when kind is SUGGESTIONS)."""
        if self.kind is not MatchKind.SUGGESTIONS:
            return ()
        return tuple(r.entry for r in self.ranked)


Unit = frozenset[str]
"""One word's alternative terms: it matches text that holds any of them."""


@dataclass(frozen=True, slots=True)
class IndexedPhrasing:
    """One phrasing of an entry as the index holds it."""

    entry: int
    text: str
    terms: frozenset[str]
    weight: float


@dataclass
class _LangIndex:
    phrasings: list[IndexedPhrasing] = field(default_factory=list)
    postings: dict[str, list[int]] = field(default_factory=dict)
    entry_postings: dict[str, list[tuple[int, float]]] = field(default_factory=dict)
    answer_postings: dict[str, list[int]] = field(default_factory=dict)
    idf: dict[str, float] = field(default_factory=dict)
    unknown_idf: float = 1.0
    known: frozenset[str] = frozenset()
    # Per phrasing position, flat for the ranking's inner loop: its entry and weight.
    phrasing_entry: list[int] = field(default_factory=list)
    phrasing_weight: list[float] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class Cues:
    """Word cues for emergencies and small talk (from `storage/data/language/cues.yaml`)."""

    emergency: tuple[re.Pattern[str], ...]
    smalltalk: dict[str, tuple[str, Lang]]
    filler: frozenset[str]
    foreign_country: tuple[re.Pattern[str], ...] = ()
    foreign_country_intent: str | None = None

    @classmethod
    def load(cls, directory: Path | None = None) -> Cues:
        """Read the cue lists."""
        path = (directory or LANGUAGE_DIR) / "cues.yaml"
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
        emergency = tuple(
            re.compile(rf"\b{fold_diacritics(p)}", re.IGNORECASE) for p in raw["emergency"]
        )

        smalltalk: dict[str, tuple[str, Lang]] = {}
        for kind in ("greeting", "thanks", "bye"):
            for code, listed in raw[kind].items():
                for word in str(listed).split():
                    smalltalk.setdefault(fold_diacritics(word.lower()), (kind, Lang(code)))
        filler = frozenset(fold_diacritics(w.lower()) for w in str(raw["filler"]).split())
        foreign = tuple(
            re.compile(rf"\b{fold_diacritics(p)}", re.IGNORECASE)
            for p in raw.get("foreign_country") or ()
        )
        return cls(emergency, smalltalk, filler, foreign, raw.get("foreign_country_intent"))


class FaqMatcher:
    """Answers `match(text)`; everything is built once, in memory, at start-up."""

    mix: tuple[float, float, float] = (0.4, 0.4, 0.2)
    out_of_scope_mix: tuple[float, float, float] = (0.7, 0.2, 0.1)
    presence_full: float = 0.15

    def presence(self, share: float) -> float:
        """How characteristic a term is of an entry, from the share of its phrasings using it."""
        return min(1.0, math.sqrt(share / self.presence_full))

    def __init__(
        self,
        kb: KnowledgeBase,
        lexicon: Lexicon | None = None,
        cues: Cues | None = None,
        calibration: Calibration | None = None,
        places: Callable[[str], str] | None = None,
    ) -> None:
        self.kb = kb
        self.entries = kb.entries
        self.lexicon = lexicon or Lexicon.load()
        self.cues = cues or Cues.load()
        self.calibration = calibration or Calibration.load()
        # Place names become one token, so "which county does <town> belong to" matches
        # whatever town is named (Helsinki stays: it is a topic of its own).
        self.places = places or (lambda text: text)
        self.analyzer = Analyzer(self.lexicon)
        self.guesser = LanguageGuesser()
        samples: dict[Lang, list[str]] = {lang: [] for lang in Lang}
        for entry in self.entries:
            for lang in Lang:
                samples[lang].extend(entry.text(lang).phrasings())
        self.guesser.train(samples, self.lexicon.stopwords)
        self._index: dict[Lang, _LangIndex] = {}
        for lang in Lang:
            self._index[lang] = self._build(lang)
        self.analyzer.vocabulary = {
            lang: {t for t in index.idf if len(t) >= 4} for lang, index in self._index.items()
        }
        for lang in Lang:  # build the typo-correction pools now, not on a first question
            self.analyzer.fuzzy_pool(lang)

    def _units(self, text: str, lang: Lang, *, fuzzy: bool, places: bool = True) -> list[Unit]:
        units: list[Unit] = []
        for word in words(self.places(text) if places else text):
            if word == PLACE_TOKEN:
                units.append(PLACE_UNIT)
                continue
            parts = [p for p in word.split("-") if p]
            if len(parts) > 1:
                for part in parts[:-1]:
                    terms = self.analyzer.terms(part, lang, fuzzy=fuzzy)
                    if terms:
                        units.append(frozenset(terms))
                head = self.analyzer.terms(parts[-1], lang, fuzzy=fuzzy)
                joined = self.analyzer.terms(word.replace("-", ""), lang, fuzzy=False)
                if head or joined:
                    units.append(frozenset((*head, *joined)))
                continue
            terms = self.analyzer.terms(word, lang, fuzzy=fuzzy)
            if terms:
                units.append(frozenset(terms))
        return units

    def _build(self, lang: Lang) -> _LangIndex:
        index = _LangIndex()
        df: dict[str, int] = defaultdict(int)
        phrasing_units: list[tuple[int, str, list[Unit]]] = []
        for number, entry in enumerate(self.entries):
            text = entry.text(lang)
            counts: dict[str, int] = defaultdict(int)
            total = 0
            for phrasing in text.phrasings():
                units = self._units(phrasing, lang, fuzzy=False)
                if units:
                    total += 1
                    phrasing_units.append((number, phrasing, units))
                    for term in {t for unit in units for t in unit}:
                        counts[term] += 1
            union = set(counts)
            for term, count in counts.items():
                share = self.presence(count / max(1, total))
                index.entry_postings.setdefault(term, []).append((number, share))
            answer_terms: set[str] = set()
            for unit in self._units(text.answer, lang, fuzzy=False, places=False):
                answer_terms |= unit
            for term in answer_terms:
                index.answer_postings.setdefault(term, []).append(number)
            for term in union | answer_terms:
                df[term] += 1
        n = len(self.entries)
        index.idf = {term: math.log(1 + n / count) for term, count in df.items()}
        index.unknown_idf = math.log(1 + n / 0.5)
        index.known = frozenset(index.idf)
        for number, original, units in phrasing_units:
            weight = sum(self._unit_weight(unit, index) for unit in set(units))
            terms = frozenset(t for unit in units for t in unit)
            index.phrasings.append(IndexedPhrasing(number, original, terms, weight or 1.0))
        for position, indexed in enumerate(index.phrasings):
            for term in indexed.terms:
                index.postings.setdefault(term, []).append(position)
        index.phrasing_entry = [p.entry for p in index.phrasings]
        index.phrasing_weight = [p.weight for p in index.phrasings]
        return index

    @staticmethod
    def _unit_weight(unit: Unit, index: _LangIndex) -> float:
        known = [index.idf[t] for t in unit if t in index.idf]
        return max(known) if known else index.unknown_idf

    # -- public ---------------------------------------------------------------------------

    def phrasings(self, lang: Lang) -> list[IndexedPhrasing]:
        """Every indexed phrasing in `lang` (position = the number `rank(skip=…)` takes)."""
        return self._index[lang].phrasings

    def detect_language(self, text: str, default: Lang) -> Lang:
        """The question's language, or `default` when the text gives no clear sign."""
        guess, certainty = self.guesser.guess(text, default)
        return guess if certainty >= 0.35 else default

    def match(self, text: str, lang: Lang | None = None, default: Lang = Lang.FI) -> Match:
        """Decide how to answer `text`; `lang` forces the language, else it is detected."""
        forced = lang
        lang = lang or self.detect_language(text, default)
        folded = fold_diacritics(normalize(text))
        if any(pattern.search(folded) for pattern in self.cues.emergency):
            return Match(MatchKind.EMERGENCY, lang, 1.0)
        if any(pattern.search(folded) for pattern in self.cues.foreign_country):
            intent = self.kb.by_id(self.cues.foreign_country_intent or "")
            return Match(MatchKind.OFF_TOPIC, lang, 1.0, out_of_scope=intent)
        smalltalk = self._smalltalk(folded)
        if smalltalk is not None:
            kind, cue_lang = smalltalk
            return Match(MatchKind.SMALLTALK, forced or cue_lang, 1.0, smalltalk=kind)
        ranked, stats = self.rank(text, lang)
        return self.decide(ranked, stats, lang)

    def rank(
        self, text: str, lang: Lang, limit: int = 6, skip: frozenset[int] = frozenset()
    ) -> tuple[list[Ranked], QueryStats]:
        """Entries by score for `text` in `lang`, best first (`skip`: phrasings to ignore)."""
        index = self._index[lang]
        query = {
            unit: self._unit_weight(unit, index) for unit in self._units(text, lang, fuzzy=True)
        }
        if not query:
            return [], QueryStats()
        query_weight = sum(query.values())
        unknown = sum(w for u, w in query.items() if not u & index.known) / query_weight
        known_weight = sum(w for u, w in query.items() if u & index.known)
        stats = QueryStats(len(query), unknown, known_weight)
        # The two loops below are the hot path for long messages (thousands of postings):
        # flat lists and plain locals keep a 250-character question at about 2 ms. Positions
        # are visited in order, so entries with equal scores keep the knowledge base's order.
        postings = index.postings
        overlap = [0.0] * len(index.phrasings)
        touched: set[int] = set()
        for unit, weight in query.items():
            if len(unit) == 1:
                (term,) = unit
                positions: Iterable[int] = postings.get(term, ())  # unique within one term
            else:
                merged: set[int] = set()
                for term in unit:
                    merged.update(postings.get(term, ()))
                positions = merged
            touched.update(positions)
            for position in positions:
                overlap[position] += weight
        touched -= skip
        # Per entry the best phrasing by covers_query × covers_phrasing; the square root
        # (the geometric mean) is taken once per entry, which leaves the order unchanged.
        best_product: dict[int, float] = {}
        entry_of, weight_of = index.phrasing_entry, index.phrasing_weight
        for position in sorted(touched):
            shared = overlap[position]
            product = (shared / query_weight) * min(1.0, shared / weight_of[position])
            number = entry_of[position]
            if product > best_product.get(number, 0.0):
                best_product[number] = product
        best_phrasing = {number: math.sqrt(p) for number, p in best_product.items()}
        entry_cover: dict[int, float] = defaultdict(float)
        answer_cover: dict[int, float] = defaultdict(float)
        for unit, weight in query.items():
            presence: dict[int, float] = {}
            mentioned: set[int] = set()
            for term in unit:
                for number, share in index.entry_postings.get(term, ()):
                    if share > presence.get(number, 0.0):
                        presence[number] = share
                mentioned.update(index.answer_postings.get(term, ()))
            for number, share in presence.items():
                entry_cover[number] += weight * share
            for number in mentioned | presence.keys():
                answer_cover[number] += weight
        results: list[Ranked] = []
        for number, phrasing_score in best_phrasing.items():
            entry = self.entries[number]
            # Out-of-scope intents are broad on purpose: their phrasings vary so much that
            # entry-wide word presence says little, so their best phrasing decides.
            mix = self.out_of_scope_mix if entry.kind == "out_of_scope" else self.mix
            covered = entry_cover[number] / query_weight
            answered = answer_cover[number] / query_weight
            score = mix[0] * phrasing_score + mix[1] * covered + mix[2] * answered
            results.append(Ranked(entry, score, phrasing_score, covered, answered))
        results.sort(key=lambda r: r.score, reverse=True)
        return results[:limit], stats

    def decide(self, ranked: list[Ranked], stats: QueryStats, lang: Lang) -> Match:
        """Turn a ranking into answer, suggestions or off-topic."""
        calibration = self.calibration
        if not ranked:
            return Match(MatchKind.OFF_TOPIC, lang, 0.0)
        top = ranked[0]
        confidence = calibration.probability(decision_features(ranked, stats))
        if top.entry.kind == "out_of_scope":
            return Match(MatchKind.OFF_TOPIC, lang, confidence, (top,), out_of_scope=top.entry)
        answers = [r for r in ranked if r.entry.kind == "answer"]
        features = decision_features(ranked, stats)
        # A tie with an entry of another topic is never answered: either could be meant.
        # Neither is a one-word question that several topics fit about equally well.
        tie = max(calibration.tie, ONE_WORD_TIE if stats.units <= 1 else 0.0)
        if confidence >= calibration.answer and features[1] > tie:
            return Match(MatchKind.ANSWER, lang, confidence, (top,))
        if confidence >= calibration.suggest:
            offered = tuple(r for r in answers if r.score >= calibration.suggestion_floor)[:3]
            if offered:
                return Match(MatchKind.SUGGESTIONS, lang, confidence, offered)
        return Match(MatchKind.OFF_TOPIC, lang, confidence, tuple(answers[:3]))

    def _smalltalk(self, folded: str) -> tuple[str, Lang] | None:
        """(kind, language) when the message is only a greeting, thanks or goodbye."""
        tokens = words(folded)
        if not tokens or len(tokens) > 6:
            return None
        found: list[tuple[str, Lang]] = []
        for token in tokens:
            cue = self.cues.smalltalk.get(token)
            if cue is not None:
                found.append(cue)
            elif token not in self.cues.filler and not any(
                token in self.lexicon.stopwords[lang] for lang in Lang
            ):
                return None
        if not found:
            return None
        kinds = {kind for kind, _ in found}
        kind = "thanks" if "thanks" in kinds else "bye" if "bye" in kinds else "greeting"
        return kind, found[0][1]

"""Turning text into matching terms: stop words, spoken forms, lemmas, stems, compounds, typos."""

from __future__ import annotations

import csv
import math
import re
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import Stemmer
import yaml
from rapidfuzz import process
from rapidfuzz.distance import Levenshtein

from handlers.messages import Lang
from handlers.textnorm import fold_diacritics, normalize

LANGUAGE_DIR = Path(__file__).resolve().parent.parent / "storage" / "data" / "language"
_WORD = re.compile(r"[^\W_]+(?:[-.][^\W_]+)*")
_STEMMERS = {Lang.FI: "finnish", Lang.SV: "swedish", Lang.EN: "english"}
_CLITICS = {
    Lang.FI: ("kaan", "kään", "kin", "han", "hän", "ko", "kö", "pa", "pä", "ki"),
    Lang.SV: (),
    Lang.EN: (),
}
_BACK_VOWELS = set("aou")


@dataclass(frozen=True, slots=True)
class Lexicon:
    """Per-language word lists loaded from `storage/data/language/`."""

    stopwords: dict[Lang, frozenset[str]]
    casual: dict[Lang, dict[str, str]]
    lemmas: dict[Lang, dict[str, str]]

    @classmethod
    def load(cls, directory: Path | None = None, tables: Path | None = None) -> Lexicon:
        """Read stop words and spoken forms, and the lemma tables (from `tables` if given)."""
        directory = directory or LANGUAGE_DIR
        tables = tables if tables is not None and (tables / "lemmas_fi.tsv").exists() else directory
        raw_stop = yaml.safe_load((directory / "stopwords.yaml").read_text(encoding="utf-8"))
        raw_casual = yaml.safe_load((directory / "casual.yaml").read_text(encoding="utf-8"))
        stopwords: dict[Lang, frozenset[str]] = {}
        for lang in Lang:
            words = set(str(raw_stop.get(lang.value, "")).split())
            keep = set(str(raw_stop.get(f"{lang.value}_keep", "")).split())
            words -= keep
            stopwords[lang] = frozenset(words | {fold_diacritics(w) for w in words})
        casual = {
            lang: {str(k): str(v) for k, v in (raw_casual.get(lang.value) or {}).items()}
            for lang in Lang
        }
        lemmas: dict[Lang, dict[str, str]] = {}
        for lang in Lang:
            path = tables / f"lemmas_{lang.value}.tsv"
            table: dict[str, str] = {}
            if path.exists():
                with path.open(encoding="utf-8", newline="") as handle:
                    for row in csv.reader(handle, delimiter="\t"):
                        if len(row) == 2:
                            table[row[0]] = row[1]
            lemmas[lang] = table
        return cls(stopwords, casual, lemmas)


def words(text: str) -> list[str]:
    """Lowercase words of a text; dotted names such as lähellä.fi stay one word."""
    return [w.strip(".") for w in _WORD.findall(normalize(text)) if w.strip(".")]


@dataclass
class Analyzer:
    """Maps words to language-specific matching terms (folded lemma and stem)."""

    lexicon: Lexicon
    vocabulary: dict[Lang, set[str]] = field(default_factory=dict)
    _stemmers: dict[Lang, Stemmer.Stemmer] = field(default_factory=dict)
    _cache: dict[tuple[Lang, str], tuple[str, ...]] = field(default_factory=dict)
    _fuzzy_pool: dict[Lang, list[str]] = field(default_factory=dict)
    _folded_lemmas: dict[Lang, dict[str, tuple[str, ...]]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self._stemmers = {lang: Stemmer.Stemmer(name) for lang, name in _STEMMERS.items()}
        for lang in Lang:
            folded: dict[str, set[str]] = {}
            for form, lemma in self.lexicon.lemmas[lang].items():
                key = form if form.isascii() else fold_diacritics(form)
                folded.setdefault(key, set()).add(lemma)
            self._folded_lemmas[lang] = {k: tuple(sorted(v)) for k, v in folded.items()}

    def is_stopword(self, word: str, lang: Lang) -> bool:
        """Whether `word` carries no meaning for matching."""
        return word in self.lexicon.stopwords[lang]

    def lemma(self, word: str, lang: Lang) -> str | None:
        """The dictionary form of `word` from the lemma table, also when typed without ä/ö."""
        lemmas = self.lemmas(word, lang)
        return lemmas[0] if lemmas else None

    def lemmas(self, word: str, lang: Lang) -> tuple[str, ...]:
        """Every dictionary form `word` can be: typed without ä/ö/å, a word can stand for
        several (varden: vården or värden), and all of them are kept."""
        found = self.lexicon.lemmas[lang].get(word)
        if found is not None:
            return (found,)
        return self._folded_lemmas[lang].get(fold_diacritics(word), ())

    def _stem(self, word: str, lang: Lang) -> str:
        return fold_diacritics(self._stemmers[lang].stemWord(word))

    def _written_form(self, word: str, lang: Lang) -> str | None:
        """A form the lemma table knows for an unknown word: clitics removed (jäikö → jäi,
        meilläkin → meillä) and, for Finnish, spoken forms restored (onks → onko,
        saanu → saanut, tarkotus → tarkoitus)."""
        for clitic in _CLITICS.get(lang, ()):
            if word.endswith(clitic) and len(word) - len(clitic) >= 3:
                base = word[: -len(clitic)]
                if self.lemma(base, lang) is not None:
                    return base
        if lang is not Lang.FI:
            return None
        back = any(ch in _BACK_VOWELS for ch in fold_diacritics(word))
        candidates: list[str] = []
        if word.endswith("ks"):
            candidates.append(word[:-2] + ("ko" if back else "kö"))
            candidates.append(word + "i")
        if word.endswith("is"):
            candidates.append(word + "i")
        if word.endswith(("nu", "ny", "lu", "ly", "ru", "ry")):
            candidates.append(word + "t")
        if word[-1:] in {"l", "s", "n"}:
            vowel = "a" if back else "ä"
            candidates += [word + vowel, word + "l" + vowel, word + "s" + vowel]
        step = [*candidates, word]
        for base in step:
            for index in range(1, len(base) - 1):
                if base[index - 1] in "aeouäö" and base[index] in "stnlkm":
                    candidates.append(base[:index] + "i" + base[index:])
        for candidate in candidates:
            if self.lemma(candidate, lang) is not None:
                return candidate
        return None

    def fuzzy_pool(self, lang: Lang) -> list[str]:
        """The vocabulary typos are corrected towards (built once)."""
        pool = self._fuzzy_pool.get(lang)
        if pool is None:
            pool = sorted(self.vocabulary.get(lang, set()))
            self._fuzzy_pool[lang] = pool
        return pool

    def _fuzzy(self, word: str, lang: Lang) -> str | None:
        """The vocabulary word within a small edit distance of a long unknown word."""
        if len(word) < 6:
            return None
        pool = self.fuzzy_pool(lang)
        limit = 1 if len(word) < 9 else 2
        folded = fold_diacritics(word)
        match = process.extractOne(
            folded,
            pool,
            scorer=Levenshtein.distance,
            score_cutoff=limit,
        )
        return match[0] if match else None

    def terms(self, word: str, lang: Lang, *, fuzzy: bool = True) -> tuple[str, ...]:
        """Matching terms of one word: its folded lemma and stem; typos corrected when sure.

        Compounds are not split into their parts: matching a part (…raha → raha) was
        measured to pull questions towards generic entries more often than it helped.
        """
        key = (lang, word)
        cached = self._cache.get(key)
        if cached is not None:
            return cached
        result = tuple(dict.fromkeys(self._terms(word, lang, fuzzy=fuzzy)))
        if len(self._cache) < 200_000:
            self._cache[key] = result
        return result

    def _terms(self, word: str, lang: Lang, *, fuzzy: bool) -> list[str]:
        word = self.lexicon.casual[lang].get(word, word)
        if self.is_stopword(word, lang):
            return []
        if "-" in word:
            out = [fold_diacritics(word.replace("-", ""))]
            for part in (p for p in word.split("-") if p):
                out.extend(self.terms(part, lang, fuzzy=fuzzy))
            return out
        lemmas = self.lemmas(word, lang)
        if not lemmas:
            written = self._written_form(word, lang)
            if written is not None:
                word, lemmas = written, self.lemmas(written, lang)
        if lemmas and all(self.is_stopword(lemma, lang) for lemma in lemmas):
            return []
        stem = self._stem(word, lang)
        if lemmas:
            return [*(fold_diacritics(lemma) for lemma in lemmas), stem]
        if fuzzy and self.vocabulary:
            near = self._fuzzy(word, lang)
            if near is not None and near != fold_diacritics(word):
                return list(self.terms(near, lang, fuzzy=False))
        return [stem]

    def analyze(self, text: str, lang: Lang, *, fuzzy: bool = True) -> list[str]:
        """Every matching term of a text, in order."""
        return [term for word in words(text) for term in self.terms(word, lang, fuzzy=fuzzy)]


@dataclass
class LanguageGuesser:
    """Naive Bayes over character trigrams and words, trained on the knowledge base itself."""

    _trigrams: dict[Lang, dict[str, float]] = field(default_factory=dict)
    _words: dict[Lang, dict[str, float]] = field(default_factory=dict)
    _unseen: dict[Lang, float] = field(default_factory=dict)
    _unseen_word: dict[Lang, float] = field(default_factory=dict)

    def train(
        self, samples: Mapping[Lang, Iterable[str]], stopwords: Mapping[Lang, frozenset[str]]
    ) -> None:
        """Learn trigram and word frequencies per language."""
        for lang, texts in samples.items():
            grams: Counter[str] = Counter()
            vocab: Counter[str] = Counter()
            for text in texts:
                for word in words(text):
                    vocab[word] += 1
                    padded = f" {word} "
                    grams.update(padded[i : i + 3] for i in range(len(padded) - 2))
            for word in stopwords[lang]:
                vocab[word] += 5
            total = sum(grams.values()) + len(grams) + 1
            self._trigrams[lang] = {g: math.log((c + 1) / total) for g, c in grams.items()}
            self._unseen[lang] = math.log(1 / total)
            wtotal = sum(vocab.values()) + len(vocab) + 1
            self._words[lang] = {w: math.log((c + 1) / wtotal) for w, c in vocab.items()}
            self._unseen_word[lang] = math.log(0.5 / wtotal)

    def scores(self, text: str) -> dict[Lang, float]:
        """Log-likelihood per language."""
        result: dict[Lang, float] = {}
        tokens = words(text)
        for lang in Lang:
            grams = self._trigrams.get(lang, {})
            unseen = self._unseen.get(lang, -20.0)
            vocab = self._words.get(lang, {})
            unseen_word = self._unseen_word.get(lang, -20.0)
            score = 0.0
            for word in tokens:
                padded = f" {word} "
                score += sum(grams.get(padded[i : i + 3], unseen) for i in range(len(padded) - 2))
                score += 2.0 * vocab.get(word, unseen_word)
            result[lang] = score
        return result

    def guess(self, text: str, default: Lang) -> tuple[Lang, float]:
        """The most likely language and a 0–1 certainty; `default` for texts without words."""
        if not words(text):
            return default, 0.0
        scores = self.scores(text)
        ranked = sorted(scores.items(), key=lambda item: item[1], reverse=True)
        best, second = ranked[0], ranked[1]
        margin = best[1] - second[1]
        certainty = 1.0 - math.exp(-margin / 4.0)
        return best[0], certainty

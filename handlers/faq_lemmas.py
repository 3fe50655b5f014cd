"""Build the compact lemma tables from simplemma's full dictionaries (a maintenance step).

simplemma's Finnish dictionary takes seconds and hundreds of megabytes to load, so the bot
ships a table with only the word forms of lemmas that occur in the knowledge base (and in
compounds ending in them). `sote-bot faq build` regenerates it after the content changes;
words missing from the table still match through Snowball stems.
"""

from __future__ import annotations

import csv
from collections import defaultdict
from pathlib import Path

from handlers.faq_kb import KnowledgeBase
from handlers.faq_lang import LANGUAGE_DIR, words
from handlers.messages import Lang

_LANGS = (Lang.FI, Lang.SV)


def _kb_words(kb: KnowledgeBase, lang: Lang) -> set[str]:
    found: set[str] = set()
    for entry in kb.entries:
        text = entry.text(lang)
        for chunk in (*text.phrasings(), text.answer):
            for word in words(chunk):
                found.update(p for p in word.split("-") if p)
    return found


def _compound(
    word: str, full: dict[str, str], forms_of: dict[str, list[str]]
) -> tuple[str, str | None]:
    """Split an unknown compound at its longest known last part: (head, last part's lemma)."""
    for cut in range(3, len(word) - 3):
        tail = word[cut:]
        tail_lemma = full.get(tail)
        if tail_lemma and len(tail_lemma) >= 4 and tail_lemma in forms_of:
            return word[:cut], tail_lemma
    return word, None


def build_tables(kb: KnowledgeBase, out_dir: Path | None = None) -> dict[Lang, int]:
    """Write `lemmas_fi.tsv` and `lemmas_sv.tsv`; return the number of forms per language."""
    import simplemma
    from simplemma.strategies.dictionaries.dictionary_factory import (
        _load_dictionary_from_disk,
    )

    out_dir = out_dir or LANGUAGE_DIR
    sizes: dict[Lang, int] = {}
    for lang in _LANGS:
        full = {k.decode(): v.decode() for k, v in _load_dictionary_from_disk(lang.value).items()}
        forms_of: dict[str, list[str]] = defaultdict(list)
        for form, lemma in full.items():
            forms_of[lemma].append(form)
        kb_words = _kb_words(kb, lang)
        table: dict[str, str] = {}
        for word in sorted(kb_words):
            known = full.get(word)
            if known is not None:
                table[word] = known
                for form in forms_of.get(known, ()):
                    table.setdefault(form, known)
                continue
            head, tail_lemma = _compound(word, full, forms_of)
            if tail_lemma is None:
                table[word] = simplemma.lemmatize(word, lang=lang.value)
                continue
            compound = head + tail_lemma
            table[word] = compound
            for form in forms_of[tail_lemma]:
                table.setdefault(head + form, compound)
        path = out_dir / f"lemmas_{lang.value}.tsv"
        with path.open("w", encoding="utf-8", newline="") as handle:
            writer = csv.writer(handle, delimiter="\t", lineterminator="\n")
            for form in sorted(table):
                if "\t" not in form and "\n" not in form:
                    writer.writerow([form, table[form]])
        sizes[lang] = len(table)
    return sizes

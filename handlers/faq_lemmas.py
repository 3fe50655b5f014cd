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
            lemma = simplemma.lemmatize(word, lang=lang.value)
            table[word] = lemma
            forms = forms_of.get(lemma)
            if forms:
                for form in forms:
                    table.setdefault(form, lemma)
                continue
            for cut in range(1, len(lemma) - 3):
                head, tail = lemma[:cut], lemma[cut:]
                tail_forms = forms_of.get(tail)
                if tail_forms and len(tail) >= 4:
                    for form in tail_forms:
                        table.setdefault(head + form, lemma)
                    break
        path = out_dir / f"lemmas_{lang.value}.tsv"
        with path.open("w", encoding="utf-8", newline="") as handle:
            writer = csv.writer(handle, delimiter="\t", lineterminator="\n")
            for form in sorted(table):
                if "\t" not in form and "\n" not in form:
                    writer.writerow([form, table[form]])
        sizes[lang] = len(table)
    return sizes

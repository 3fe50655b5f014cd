"""`sote-bot faq check`: every problem in the knowledge base, named by file and entry."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from handlers.faq_kb import TOPIC_CODES, KnowledgeBaseError, load_knowledge_base
from handlers.faq_lang import Lexicon, words
from handlers.messages import Lang


@dataclass
class CheckResult:
    """Problems stop the bot from loading the files; warnings do not."""

    problems: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    summary: str = ""

    @property
    def ok(self) -> bool:
        """Whether the bot can load the knowledge base."""
        return not self.problems


def check_knowledge_base(directory: Path) -> CheckResult:
    """Validate the files in `directory` and report what to fix."""
    result = CheckResult()
    try:
        kb = load_knowledge_base(directory)
    except KnowledgeBaseError as err:
        result.problems = list(err.problems)
        return result
    answers = kb.answers()
    covered = {topic for entry in answers for topic in entry.topics}
    missing = sorted(TOPIC_CODES - covered)
    if missing:
        result.warnings.append(f"topics without an entry: {', '.join(missing)}")
    for entry in answers:
        for lang in Lang:
            text = entry.text(lang)
            if len(text.alternatives) < 3:
                result.warnings.append(
                    f"{entry.file}: entry '{entry.id}': only {len(text.alternatives)} "
                    f"{lang.value} alternatives (more phrasings match more questions)"
                )
            if len(text.answer) > 1200:
                result.warnings.append(
                    f"{entry.file}: entry '{entry.id}': {lang.value} answer is "
                    f"{len(text.answer)} characters; keep answers short"
                )
    lexicon = Lexicon.load()
    for lang in (Lang.FI, Lang.SV):
        table = lexicon.lemmas[lang]
        unknown = {
            word
            for entry in kb.entries
            for phrasing in entry.text(lang).phrasings()
            for word in words(phrasing)
            if "-" not in word and word not in table and not word.isdigit()
        }
        if len(unknown) > 20:
            result.warnings.append(
                f"lemma table ({lang.value}) misses {len(unknown)} words of the content; "
                "run `sote-bot faq build` to rebuild it"
            )
    counts = ", ".join(f"{lang.value} {len(answers)}" for lang in Lang)
    result.summary = (
        f"OK: {len(answers)} entries ({counts}) and {len(kb.entries) - len(answers)} "
        f"out-of-scope intents in {directory}; topics covered: {len(covered & TOPIC_CODES)}/51"
    )
    return result

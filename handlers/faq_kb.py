"""The knowledge base: YAML files a non-developer can edit, loaded and validated once."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import yaml

from handlers.messages import Lang

DEFAULT_FAQ_DIR = Path(__file__).resolve().parent.parent / "storage" / "data" / "faq"
TOPIC_CODES = frozenset(f"T{n:02d}" for n in range(1, 52))
# libyaml's loader when PyYAML has it (ten times faster on the whole knowledge base).
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_ID = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
_URL = re.compile(r"^https://[A-Za-z0-9.-]+\.[A-Za-z]{2,}(?:[/?#][^\s…]*)?$")


class KnowledgeBaseError(ValueError):
    """The knowledge base has problems; `problems` lists each with its file and entry."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


@dataclass(frozen=True, slots=True)
class EntryText:
    """One entry in one language."""

    question: str
    answer: str
    alternatives: tuple[str, ...]

    def phrasings(self) -> tuple[str, ...]:
        """The canonical question and every alternative."""
        return (self.question, *self.alternatives)


@dataclass(frozen=True, slots=True)
class Entry:
    """One knowledge-base entry: a question in three languages, its answer and sources."""

    id: str
    topics: tuple[str, ...]
    reviewed: date
    sources: tuple[str, ...]
    texts: dict[Lang, EntryText]
    file: str
    kind: str = "answer"

    def text(self, lang: Lang) -> EntryText:
        """The entry in `lang` (every entry has all three)."""
        return self.texts[lang]


@dataclass(frozen=True, slots=True)
class KnowledgeBase:
    """Every entry, in file order."""

    entries: tuple[Entry, ...]
    directory: Path

    def by_id(self, entry_id: str) -> Entry | None:
        """The entry with this id."""
        for entry in self.entries:
            if entry.id == entry_id:
                return entry
        return None

    def answers(self) -> tuple[Entry, ...]:
        """Entries that answer a reform topic (not out-of-scope intents)."""
        return tuple(e for e in self.entries if e.kind == "answer")


def load_knowledge_base(directory: Path | None = None) -> KnowledgeBase:
    """Load and validate every `*.yaml` file in `directory`; raise with all problems found."""
    directory = directory or DEFAULT_FAQ_DIR
    problems: list[str] = []
    entries: list[Entry] = []
    files = sorted(directory.glob("*.yaml"))
    if not directory.is_dir():
        raise KnowledgeBaseError([f"{directory}: no such folder (FAQ_DIR)"])
    if not files:
        raise KnowledgeBaseError([f"{directory}: no *.yaml files"])
    seen: dict[str, str] = {}
    for path in files:
        try:
            data = yaml.load(path.read_text(encoding="utf-8"), Loader=_LOADER)
        except (yaml.YAMLError, UnicodeDecodeError) as err:
            problems.append(f"{path.name}: not valid YAML: {err}")
            continue
        raw_entries = data.get("entries") if isinstance(data, dict) else None
        if not isinstance(raw_entries, list):
            problems.append(f"{path.name}: expected a top-level 'entries:' list")
            continue
        kind = str(data.get("kind", "answer"))
        if kind not in {"answer", "out_of_scope"}:
            problems.append(f"{path.name}: kind must be 'answer' or 'out_of_scope', not {kind!r}")
            continue
        for index, raw in enumerate(raw_entries, start=1):
            entry = _entry(path.name, index, raw, kind, problems)
            if entry is None:
                continue
            if entry.id in seen:
                problems.append(
                    f"{path.name}: entry '{entry.id}': id already used in {seen[entry.id]}"
                )
                continue
            seen[entry.id] = path.name
            entries.append(entry)
    if problems:
        raise KnowledgeBaseError(problems)
    return KnowledgeBase(tuple(entries), directory)


def _entry(file: str, index: int, raw: Any, kind: str, problems: list[str]) -> Entry | None:
    if not isinstance(raw, dict):
        problems.append(f"{file}: entry #{index}: expected a mapping with id, topics, fi, sv, en")
        return None
    entry_id = str(raw.get("id", "")).strip()
    where = f"{file}: entry '{entry_id}'" if entry_id else f"{file}: entry #{index}"
    before = len(problems)
    if not _ID.match(entry_id):
        problems.append(f"{where}: id must be lowercase letters, digits and hyphens")
    topics = raw.get("topics") or []
    if kind == "answer":
        if not isinstance(topics, list) or not topics:
            problems.append(f"{where}: topics must list at least one code such as T05")
            topics = []
        unknown = [str(t) for t in topics if str(t) not in TOPIC_CODES]
        if unknown:
            problems.append(f"{where}: unknown topic codes {unknown} (T01–T51)")
    reviewed = raw.get("reviewed")
    if kind == "answer" and not isinstance(reviewed, date):
        problems.append(f"{where}: reviewed must be a date like 2026-11-22")
    sources = raw.get("sources") or []
    if kind == "answer" and (not isinstance(sources, list) or not sources):
        problems.append(f"{where}: sources must list at least one https:// link")
        sources = []
    for source in sources if isinstance(sources, list) else []:
        if not isinstance(source, str) or not _URL.match(source.strip()):
            problems.append(f"{where}: malformed source link {source!r}")
    texts: dict[Lang, EntryText] = {}
    for lang in Lang:
        block = raw.get(lang.value)
        if not isinstance(block, dict):
            problems.append(f"{where}: '{lang.value}' is missing")
            continue
        question = str(block.get("question") or "").strip()
        answer = str(block.get("answer") or "").strip()
        alternatives = block.get("alternatives") or []
        if not question:
            problems.append(f"{where}: {lang.value}.question is empty")
        if not answer:
            problems.append(f"{where}: {lang.value}.answer is empty")
        if not isinstance(alternatives, list) or not all(
            isinstance(a, str) and a.strip() for a in alternatives
        ):
            problems.append(f"{where}: {lang.value}.alternatives must be a list of phrasings")
            alternatives = []
        texts[lang] = EntryText(question, answer, tuple(a.strip() for a in alternatives))
    if len(problems) > before:
        return None
    return Entry(
        id=entry_id,
        topics=tuple(str(t) for t in topics),
        reviewed=reviewed if isinstance(reviewed, date) else date(1970, 1, 1),
        sources=tuple(s.strip() for s in sources),
        texts=texts,
        file=file,
        kind=kind,
    )

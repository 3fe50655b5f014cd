"""Answering questions: what a volunteer sees, and what staff learn from misses."""

from __future__ import annotations

import asyncio
import json
import os
import sys
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest

from bot.settings import Settings
from handlers.context import Services
from handlers.faq import FaqService
from handlers.router import Router
from storage.repositories import FaqQuestionRepository
from tests.chat import Chat, bot_services
from tests.fakes.clock import FakeClock

SOTE_BOT = [sys.executable, "-m", "bot"]


@pytest.fixture
async def app(
    make_settings: Callable[..., Settings], clock: FakeClock
) -> AsyncIterator[tuple[Services, Router]]:
    async with bot_services(make_settings(), clock) as pair:
        yield pair


async def test_confident_answer_has_source_and_feedback_buttons(
    app: tuple[Services, Router],
) -> None:
    chat = Chat(app[1])
    replies = await chat.say("Mikä STEA on?")
    assert "STEA" in replies[0].text
    assert "Lähde: https://" in replies[0].text
    assert replies[0].text.endswith("\n\nOliko tästä apua?")
    assert chat.buttons() == ["👍", "👎"]


async def test_answer_follows_the_questions_language(app: tuple[Services, Router]) -> None:
    chat = Chat(app[1], language_code="fi")
    replies = await chat.say("Vad är STEA och varifrån kommer pengarna?")
    assert "Källa: https://" in replies[0].text
    assert replies[0].text.endswith("Var det här till hjälp?")


async def test_unsure_question_offers_suggestions(app: tuple[Services, Router]) -> None:
    chat = Chat(app[1])
    replies = await chat.say("avustus")
    assert replies[0].text.startswith("En ole aivan varma")
    labels = chat.buttons()
    assert 2 <= len(labels) <= 4
    assert labels[-1] == "Ei mikään näistä"
    await chat.press(labels[0])
    assert "Lähde:" in chat.text()


async def test_off_topic_is_declined_politely_with_expert_option(
    app: tuple[Services, Router],
) -> None:
    chat = Chat(app[1])
    await chat.say("kerro joku hyvä pullaresepti")
    assert "en valitettavasti osaa vastata" in chat.text()
    assert chat.buttons() == ["Kysy asiantuntijalta"]


async def test_health_emergency_points_to_112(app: tuple[Services, Router]) -> None:
    chat = Chat(app[1], language_code="en")
    await chat.say("my father has chest pain and can't breathe")
    assert "112" in chat.text()


@pytest.mark.parametrize(
    ("text", "expected"),
    [("moi!", "Hei!"), ("kiitos paljon", "Ole hyvä"), ("tack!", "Varsågod"), ("hello", "Hi!")],
)
async def test_greetings_and_thanks_get_a_short_reply(
    app: tuple[Services, Router], text: str, expected: str
) -> None:
    chat = Chat(app[1])
    await chat.say(text)
    assert chat.text().startswith(expected)
    assert chat.buttons() == []


async def test_thumbs_down_and_misses_are_stored_for_staff(
    app: tuple[Services, Router],
) -> None:
    services, router = app
    chat = Chat(router)
    await chat.say("Mikä STEA on?")
    await chat.press("👎")
    assert "asiantuntijalta" in chat.text()
    for _ in range(2):
        await chat.say("miten yhdistyksen vuosikokous kutsutaan koolle")
    async with services.db.session() as session:
        misses = await FaqQuestionRepository(session).misses()
    assert [m.count for m in misses] == [2, 1]
    assert misses[0].text == "miten yhdistyksen vuosikokous kutsutaan koolle"
    assert misses[1].kinds == ("thumbs_down",)


async def _run(args: list[str], stdin: bytes, tmp_path: Path) -> tuple[int, str, str]:
    env = {**os.environ, "DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'cli.db'}"}
    process = await asyncio.create_subprocess_exec(
        *SOTE_BOT,
        *args,
        env=env,
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(process.communicate(stdin), 60)
    assert process.returncode is not None
    return process.returncode, out.decode(), err.decode()


async def test_ask_json_reads_questions_line_by_line(tmp_path: Path) -> None:
    code, out, err = await _run(
        ["ask", "--json", "-"], "Mikä STEA on?\nkerro vitsi\nmoi\n".encode(), tmp_path
    )
    assert code == 0, err
    rows = [json.loads(line) for line in out.splitlines()]
    assert [r["kind"] for r in rows] == ["answer", "off_topic", "smalltalk"]
    first = rows[0]
    assert set(first) >= {
        "text",
        "lang",
        "kind",
        "topics",
        "entry_id",
        "confidence",
        "answer",
        "suggestions",
    }
    assert first["text"] == "Mikä STEA on?" and first["lang"] == "fi"
    assert first["topics"] == ["T35"] and first["entry_id"]
    assert 0 <= first["confidence"] <= 1
    assert rows[1]["topics"] == [] and rows[1]["entry_id"] is None


async def test_ask_with_forced_language(tmp_path: Path) -> None:
    code, out, _ = await _run(
        ["ask", "--json", "--lang", "en", "Mikä", "STEA", "on?"], b"", tmp_path
    )
    assert code == 0
    row = json.loads(out)
    assert row["lang"] == "en" and row["text"] == "Mikä STEA on?"


async def test_faq_check_names_file_and_entry(tmp_path: Path) -> None:
    faq = tmp_path / "faq"
    faq.mkdir()
    (faq / "rikki.yaml").write_text(
        "entries:\n"
        "  - id: hyva-id\n"
        "    topics: [T99]\n"
        "    reviewed: 2026-11-22\n"
        "    sources: ['https://example.fi/…']\n"
        "    fi: {question: Q, answer: A}\n"
        "    sv: {question: Q, answer: A}\n",
        encoding="utf-8",
    )
    env_path = tmp_path / ".env"
    env_path.write_text(f"FAQ_DIR={faq}\n")
    process = await asyncio.create_subprocess_exec(
        *SOTE_BOT,
        "faq",
        "check",
        cwd=tmp_path,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    _out, err = await process.communicate()
    text = err.decode()
    assert process.returncode == 1
    assert "rikki.yaml: entry 'hyva-id': unknown topic codes ['T99']" in text
    assert "rikki.yaml: entry 'hyva-id': malformed source link" in text
    assert "rikki.yaml: entry 'hyva-id': 'en' is missing" in text


async def test_bundled_knowledge_base_passes_the_check(tmp_path: Path) -> None:
    code, out, err = await _run(["faq", "check"], b"", tmp_path)
    assert code == 0, err
    assert "topics covered: 51/51" in out


async def test_a_place_in_a_question_is_proposed_as_the_region(
    app: tuple[Services, Router],
) -> None:
    chat = Chat(app[1])
    await chat.say("Miten haemme avustusta hyvinvointialueelta? Toimimme Porissa.")
    assert "Pori kuuluu alueeseen Satakunta. Onko tämä alueesi?" in chat.text()
    await chat.press("Kyllä")
    assert "Alueeksesi on tallennettu Satakunta" in chat.text()
    await chat.say("Entä Tampereella?")
    assert "Onko tämä alueesi" not in chat.text()


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("miten terveydenhuolto toimii Norjassa", "off_topic"),
        ("Hur fungerar vården i Sverige?", "off_topic"),
        ("How does Germany organise social care?", "off_topic"),
        ("saako palveluja ruotsiksi hyvinvointialueella", "answer"),
        ("Får man service på svenska i välfärdsområdet?", "answer"),
    ],
)
def test_other_countries_systems_are_declined_but_swedish_services_are_not(
    text: str, kind: str
) -> None:
    match = FaqService.load().matcher.match(text)
    assert match.kind.value == kind


@pytest.mark.parametrize("text", ["en tiedä", "emmä tiiä", "haluan tietää", "I don't know"])
def test_a_reply_without_a_question_is_not_answered_with_a_random_topic(text: str) -> None:
    match = FaqService.load().matcher.match(text)
    assert match.kind.value != "answer", f"{text!r} → {match.entry.id if match.entry else None}"

"""Answering questions from the knowledge base, with feedback and the learning loop."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from handlers.context import Context
from handlers.faq_kb import Entry, KnowledgeBase, load_knowledge_base
from handlers.faq_lang import Lexicon
from handlers.faq_match import PLACE_TOKEN, Calibration, FaqMatcher, Match, MatchKind
from handlers.messages import Button, Incoming, Lang, Platform, Reply
from handlers.metrics import METRICS
from handlers.regions import RegionDirectory
from handlers.router import Command, Feature
from handlers.texts import Texts
from storage.models import FaqQuestion, User
from storage.repositories import FaqQuestionRepository, QuestionLog

ASK_EXPERT_PAYLOAD = "ask:new"

T = Texts(
    {
        "faq.source": {Lang.FI: "Lähde", Lang.SV: "Källa", Lang.EN: "Source"},
        "faq.helpful": {
            Lang.FI: "Oliko tästä apua?",
            Lang.SV: "Var det här till hjälp?",
            Lang.EN: "Was this helpful?",
        },
        "faq.did_you_mean": {
            Lang.FI: "En ole aivan varma, mitä tarkoitit. Tarkoititko jotakin näistä?",
            Lang.SV: "Jag är inte helt säker på vad du menar. Menade du något av de här?",
            Lang.EN: "I'm not quite sure what you mean. Did you mean one of these?",
        },
        "faq.none_of_these": {
            Lang.FI: "Ei mikään näistä",
            Lang.SV: "Ingen av dessa",
            Lang.EN: "None of these",
        },
        "faq.off_topic": {
            Lang.FI: (
                "Tähän en valitettavasti osaa vastata. Vastaan kysymyksiin sote-uudistuksesta "
                "ja järjestöjen yhteistyöstä hyvinvointialueiden kanssa. Voin myös välittää "
                "kysymyksesi oman alueesi järjestöasiantuntijalle."
            ),
            Lang.SV: (
                "Det kan jag tyvärr inte svara på. Jag svarar på frågor om vårdreformen och "
                "om föreningarnas samarbete med välfärdsområdena. Jag kan också skicka din "
                "fråga vidare till organisationsexperten i ditt område."
            ),
            Lang.EN: (
                "I'm afraid I can't answer that. I answer questions about the health and "
                "social services reform and about associations' cooperation with the "
                "wellbeing services counties. I can also pass your question to your "
                "region's expert."
            ),
        },
        "faq.ask_expert": {
            Lang.FI: "Kysy asiantuntijalta",
            Lang.SV: "Fråga en expert",
            Lang.EN: "Ask an expert",
        },
        "faq.emergency": {
            Lang.FI: (
                "Jos kyseessä on hätätilanne, soita heti hätänumeroon 112. En pysty antamaan "
                "terveysneuvoja: ota muissa terveysasioissa yhteyttä omaan terveysasemaasi."
            ),
            Lang.SV: (
                "Om det är en nödsituation, ring genast nödnumret 112. Jag kan inte ge "
                "hälsoråd: kontakta din egen hälsostation i andra hälsofrågor."
            ),
            Lang.EN: (
                "If this is an emergency, call the emergency number 112 now. I can't give "
                "health advice: for other health matters, contact your own health centre."
            ),
        },
        "faq.greeting": {
            Lang.FI: "Hei! 😊 Kysy minulta sote-uudistuksesta, niin autan parhaani mukaan.",
            Lang.SV: "Hej! 😊 Fråga mig om vårdreformen så hjälper jag så gott jag kan.",
            Lang.EN: "Hi! 😊 Ask me about the health and social services reform and I'll help.",
        },
        "faq.thanks": {
            Lang.FI: "Ole hyvä! Kysy vain, jos tulee muuta mieleen.",
            Lang.SV: "Varsågod! Fråga gärna om du undrar något mer.",
            Lang.EN: "You're welcome! Just ask if anything else comes to mind.",
        },
        "faq.bye": {
            Lang.FI: "Kiitos juttuseurasta ja mukavaa päivänjatkoa! 👋",
            Lang.SV: "Tack för pratstunden och ha en fin dag! 👋",
            Lang.EN: "Thanks for the chat, have a nice day! 👋",
        },
        "faq.thanks_feedback": {
            Lang.FI: "Kiitos palautteesta! 🙏",
            Lang.SV: "Tack för responsen! 🙏",
            Lang.EN: "Thanks for the feedback! 🙏",
        },
        "faq.sorry_feedback": {
            Lang.FI: (
                "Kiitos, että kerroit. Välitän tiedon tiimille, jotta vastausta voidaan "
                "parantaa. Haluatko kysyä asiasta asiantuntijalta?"
            ),
            Lang.SV: (
                "Tack för att du sa till. Jag berättar för teamet så att svaret kan bli "
                "bättre. Vill du fråga en expert?"
            ),
            Lang.EN: (
                "Thanks for telling me. I'll let the team know so the answer can be improved. "
                "Would you like to ask an expert?"
            ),
        },
        "faq.staff_usage": {
            Lang.FI: "Kirjoita kysymys komennon perään, esim. `/sote kysy mikä on STEA`.",
            Lang.SV: "Skriv frågan efter kommandot, t.ex. `/sote kysy vad är STEA`.",
            Lang.EN: "Write the question after the command, e.g. `/sote kysy what is STEA`.",
        },
    }
)


@dataclass
class FaqService:
    """The knowledge base and its matcher, loaded once at start-up."""

    kb: KnowledgeBase
    matcher: FaqMatcher

    @classmethod
    def load(
        cls, directory: Path | None = None, regions: RegionDirectory | None = None
    ) -> FaqService:
        """Load and index the knowledge base (FAQ_DIR or the bundled one)."""
        kb = load_knowledge_base(directory)
        lexicon = Lexicon.load(tables=directory)
        matcher = FaqMatcher(
            kb,
            lexicon,
            calibration=Calibration.load(directory),
            places=place_masker(regions or RegionDirectory.load()),
        )
        matcher.match("hyvinvointialue")  # warm the caches: no slow first question
        return cls(kb, matcher)

    def reply_text(self, match: Match) -> str:
        """The text the bot answers with for a match."""
        lang = match.lang
        if match.kind is MatchKind.ANSWER and match.entry is not None:
            return answer_text(match.entry, lang)
        if match.kind is MatchKind.SUGGESTIONS:
            return T("faq.did_you_mean", lang)
        if match.kind is MatchKind.EMERGENCY:
            return T("faq.emergency", lang)
        if match.kind is MatchKind.SMALLTALK:
            return T(f"faq.{match.smalltalk or 'greeting'}", lang)
        if match.out_of_scope is not None:
            return match.out_of_scope.text(lang).answer
        return T("faq.off_topic", lang)

    def as_json(self, text: str, match: Match) -> dict[str, Any]:
        """The `sote-bot ask --json` object (PRODUCT.md §3)."""
        entry = match.entry
        return {
            "text": text,
            "lang": match.lang.value,
            "kind": match.kind.value,
            "topics": list(entry.topics) if entry else [],
            "entry_id": entry.id if entry else None,
            "confidence": round(match.confidence, 3),
            "answer": self.reply_text(match),
            "suggestions": [e.id for e in match.suggestions],
            "sources": list(entry.sources) if entry else [],
        }


def place_masker(regions: RegionDirectory) -> Callable[[str], str]:
    """Text with place names (except Helsinki, a topic of its own) as one token."""
    keep = frozenset({"90"})

    def mask(text: str) -> str:
        return regions.mask_places(text, PLACE_TOKEN, keep)

    return mask


def answer_text(entry: Entry, lang: Lang) -> str:
    """An entry's answer with its source link."""
    return f"{entry.text(lang).answer}\n\n{T('faq.source', lang)}: {entry.sources[0]}"


def _question_lang(row: FaqQuestion, fallback: Lang) -> Lang:
    try:
        return Lang(row.lang)
    except ValueError:
        return fallback


PlaceHint = Callable[[Context, str], list[Reply]]


def build_faq_features(
    faq: FaqService, place_hint: PlaceHint | None = None, questions: QuestionLog | None = None
) -> list[Feature]:
    """Free-text questions with suggestion and feedback buttons; `/sote kysy` for staff.
    `place_hint` proposes a region found in a question; `questions` writes them in groups."""

    async def log(
        session: AsyncSession, user: User | None, text: str, match: Match, now: Any
    ) -> int:
        entry = match.entry
        values = {
            "user_id": user.id if user else None,
            "text": text[:4000],
            "lang": match.lang.value,
            "kind": match.kind.value,
            "entry_id": entry.id if entry else None,
            "confidence": match.confidence,
            "suggested": [e.id for e in match.suggestions],
            "created_at": now,
        }
        if questions is not None:
            return await questions.record(session, values)
        return await FaqQuestionRepository(session).record(**values)

    def with_feedback(answer: str, lang: Lang, question_id: int) -> Reply:
        """The answer with "Was this helpful? 👍 👎" under it, in one message."""
        return Reply.with_buttons(
            f"{answer}\n\n{T('faq.helpful', lang)}",
            [
                Button("👍", payload=f"fq:up:{question_id}"),
                Button("👎", payload=f"fq:dn:{question_id}"),
            ],
        )

    def replies_for(match: Match, question_id: int) -> list[Reply]:
        lang = match.lang
        ask = Button(T("faq.ask_expert", lang), payload=f"{ASK_EXPERT_PAYLOAD}:{question_id}")
        if match.kind is MatchKind.ANSWER:
            return [with_feedback(faq.reply_text(match), lang, question_id)]
        if match.kind is MatchKind.SUGGESTIONS:
            rows: list[list[Button]] = [
                [Button(entry.text(lang).question, payload=f"fq:s:{question_id}:{n}")]
                for n, entry in enumerate(match.suggestions)
            ]
            rows.append([Button(T("faq.none_of_these", lang), payload=f"fq:no:{question_id}")])
            return [Reply.with_buttons(faq.reply_text(match), *rows)]
        if match.kind is MatchKind.EMERGENCY:
            return [Reply(faq.reply_text(match))]
        return [Reply.with_buttons(faq.reply_text(match), [ask])]

    async def on_text(msg: Incoming, ctx: Context) -> list[Reply]:
        match = faq.matcher.match(msg.text, default=ctx.lang)
        METRICS.inc(
            "sotebot_faq_questions_total",
            "Questions to the knowledge base, by outcome and language.",
            kind=match.kind.value,
            lang=match.lang.value,
        )
        if match.kind is MatchKind.SMALLTALK:
            return [Reply(faq.reply_text(match))]  # "kiitos", "moi": nothing worth keeping
        question_id = await log(ctx.session, ctx.user, msg.text, match, ctx.now)
        replies = replies_for(match, question_id)
        if place_hint is not None and match.kind in {MatchKind.ANSWER, MatchKind.SUGGESTIONS}:
            replies += place_hint(ctx, msg.text)
        return replies

    async def on_button(msg: Incoming, ctx: Context) -> list[Reply]:
        assert msg.callback is not None
        parts = msg.callback.split(":")
        questions = FaqQuestionRepository(ctx.session)
        row = await questions.get(int(parts[2])) if len(parts) > 2 and parts[2].isdigit() else None
        if row is None or row.user_id != ctx.user.id:
            return [Reply(T("faq.thanks_feedback", ctx.lang))]
        lang = _question_lang(row, ctx.lang)
        action = parts[1]
        if action == "up":
            row.feedback = 1
            return [Reply(T("faq.thanks_feedback", lang))]
        if action == "dn":
            row.feedback = -1
            ask = Button(T("faq.ask_expert", lang), payload=f"{ASK_EXPERT_PAYLOAD}:{row.id}")
            return [Reply.with_buttons(T("faq.sorry_feedback", lang), [ask])]
        if action == "s" and len(parts) == 4 and parts[3].isdigit():
            index = int(parts[3])
            if index < len(row.suggested):
                entry = faq.kb.by_id(row.suggested[index])
                if entry is not None:
                    row.chosen_entry_id = entry.id
                    return [with_feedback(answer_text(entry, lang), lang, row.id)]
        if action == "no":
            row.feedback = -1
            ask = Button(T("faq.ask_expert", lang), payload=f"{ASK_EXPERT_PAYLOAD}:{row.id}")
            return [Reply.with_buttons(T("faq.off_topic", lang), [ask])]
        return [Reply(T("faq.thanks_feedback", lang))]

    async def staff_ask(msg: Incoming, ctx: Context) -> list[Reply]:
        question = msg.args.strip()
        if not question:
            return [Reply(T("faq.staff_usage", ctx.lang))]
        match = faq.matcher.match(question, default=ctx.lang)
        await log(ctx.session, None, question, match, ctx.now)
        entry = match.entry
        summary = (
            f"*{match.kind.value}* · {match.lang.value} · luottamus {match.confidence:.2f}"
            + (f" · `{entry.id}` ({', '.join(entry.topics)})" if entry else "")
        )
        lines = [summary, "", faq.reply_text(match)]
        if match.suggestions:
            lines += [""] + [
                f"• {e.text(match.lang).question} (`{e.id}`)" for e in match.suggestions
            ]
        return [Reply("\n".join(lines))]

    return [
        Feature(
            name="faq",
            callbacks={"fq": on_button},
            on_text=on_text,
            platforms=frozenset({Platform.TELEGRAM, Platform.CONSOLE}),
        ),
        Feature(
            name="faq-staff",
            commands=(
                Command(
                    "kysy",
                    staff_ask,
                    {
                        Lang.FI: "kokeile botin vastausta",
                        Lang.SV: "testa botens svar",
                        Lang.EN: "try the bot's answer",
                    },
                    aliases=("ask",),
                ),
            ),
            platforms=frozenset({Platform.SLACK}),
        ),
    ]

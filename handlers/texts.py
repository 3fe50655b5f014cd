"""Texts the bot says, in Finnish first, then Swedish and English."""

from __future__ import annotations

from handlers.messages import Lang

_TEXTS: dict[str, dict[Lang, str]] = {
    "start.greeting": {
        Lang.FI: (
            "Hei{name}! 👋 Olen Järjestöjen sote-muutostuen botti. Autan yhdistyksiä "
            "sote-uudistuksessa: vastaan yleisimpiin kysymyksiin, välitän kysymyksesi oman "
            "alueesi järjestöasiantuntijalle ja muistutan tulevista tapahtumista."
        ),
        Lang.SV: (
            "Hej{name}! 👋 Jag är chattboten för Järjestöjen sote-muutostuki. Jag hjälper "
            "föreningar med vårdreformen: jag svarar på vanliga frågor, förmedlar din fråga "
            "till organisationsexperten i ditt område och påminner om kommande evenemang."
        ),
        Lang.EN: (
            "Hi{name}! 👋 I'm the bot of the outreach team Järjestöjen sote-muutostuki. I help "
            "associations with the health and social services reform: I answer common "
            "questions, pass your question to your region's expert and remind you of "
            "upcoming events."
        ),
    },
    "start.privacy": {
        Lang.FI: (
            "🔒 Tietosuoja: tallennan Telegram-tunnuksesi, etunimesi, kielesi ja alueesi sekä "
            "asiantuntijalle lähettämäsi kysymykset. Asiantuntija näkee vain etunimesi ja "
            "viestisi, ei koskaan puhelinnumeroasi. Näet tietosi komennolla /omattiedot ja "
            "voit poistaa ne komennolla /poista."
        ),
        Lang.SV: (
            "🔒 Dataskydd: jag sparar ditt Telegram-id, ditt förnamn, ditt språk och ditt område "
            "samt de frågor du skickar till en expert. Experten ser bara ditt förnamn och ditt "
            "meddelande, aldrig ditt telefonnummer. Du ser dina uppgifter med /mydata och kan "
            "radera dem med /delete."
        ),
        Lang.EN: (
            "🔒 Privacy: I store your Telegram id, first name, language and region, and the "
            "questions you send to an expert. The expert sees only your first name and your "
            "message, never your phone number. See your data with /mydata and delete it "
            "with /delete."
        ),
    },
    "start.ask_prompt": {
        Lang.FI: (
            "Kirjoita kysymyksesi omin sanoin, esimerkiksi: Mistä yhdistys voi hakea avustusta?"
        ),
        Lang.SV: "Skriv din fråga med egna ord, till exempel: Var kan en förening söka bidrag?",
        Lang.EN: (
            "Type your question in your own words, for example: Where can an association apply "
            "for a grant?"
        ),
    },
    "help": {
        Lang.FI: (
            "Näin voin auttaa:\n• Kirjoita kysymys sote-uudistuksesta, niin vastaan.\n{commands}"
        ),
        Lang.SV: (
            "Så här kan jag hjälpa:\n• Skriv en fråga om vårdreformen så svarar jag.\n{commands}"
        ),
        Lang.EN: (
            "Here's how I can help:\n"
            "• Type a question about the reform and I'll answer.\n"
            "{commands}"
        ),
    },
    "language.choose": {
        Lang.FI: "Valitse kieli / Välj språk / Choose a language:",
        Lang.SV: "Välj språk / Valitse kieli / Choose a language:",
        Lang.EN: "Choose a language / Valitse kieli / Välj språk:",
    },
    "language.set": {
        Lang.FI: "Selvä, puhutaan suomea.",
        Lang.SV: "Okej, vi talar svenska.",
        Lang.EN: "OK, let's talk in English.",
    },
    "unsupported": {
        Lang.FI: (
            "Ymmärrän vain tekstiviestejä (ja jaetun sijainnin). Kirjoita kysymyksesi tekstinä, "
            "kiitos."
        ),
        Lang.SV: (
            "Jag förstår bara textmeddelanden (och delad plats). Skriv din fråga som text, tack."
        ),
        Lang.EN: (
            "I can only read text messages (and a shared location). Please type your question."
        ),
    },
    "too_long": {
        Lang.FI: (
            "Viestisi on melko pitkä ({length} merkkiä). Luin siitä alun; jos kysymys jäi "
            "kesken, kirjoita se lyhyemmin."
        ),
        Lang.SV: (
            "Ditt meddelande är ganska långt ({length} tecken). Jag läste början; om frågan "
            "blev ofullständig, skriv den kortare."
        ),
        Lang.EN: (
            "Your message is quite long ({length} characters). I read the beginning; if your "
            "question got cut, please write it more briefly."
        ),
    },
    "unknown_command": {
        Lang.FI: "En tunne komentoa /{command}. Katso komennot: /apua",
        Lang.SV: "Jag känner inte till kommandot /{command}. Se kommandona: /help",
        Lang.EN: "I don't know the command /{command}. See the commands: /help",
    },
    "unknown_command.staff": {
        Lang.FI: "En tunne komentoa `/sote {command}`. Katso `/sote help`.",
        Lang.SV: "Jag känner inte till `/sote {command}`. Se `/sote help`.",
        Lang.EN: "I don't know `/sote {command}`. See `/sote help`.",
    },
    "error": {
        Lang.FI: "Pahoittelut, jokin meni vikaan. Yritä hetken päästä uudelleen.",
        Lang.SV: "Förlåt, något gick fel. Försök igen om en stund.",
        Lang.EN: "Sorry, something went wrong. Please try again in a moment.",
    },
    "stale_button": {
        Lang.FI: "Tämä painike ei ole enää voimassa.",
        Lang.SV: "Den här knappen gäller inte längre.",
        Lang.EN: "This button is no longer valid.",
    },
    "fallback": {
        Lang.FI: "Kirjoita kysymyksesi, niin yritän auttaa. Komennot: /apua",
        Lang.SV: "Skriv din fråga så försöker jag hjälpa. Kommandon: /help",
        Lang.EN: "Type your question and I'll try to help. Commands: /help",
    },
    "mydata.header": {
        Lang.FI: "Tässä kaikki, mitä sinusta on tallennettu:",
        Lang.SV: "Här är allt som sparats om dig:",
        Lang.EN: "Here is everything stored about you:",
    },
    "delete.confirm": {
        Lang.FI: (
            "Haluatko varmasti poistaa kaikki tietosi? Poistan profiilisi, kysymyksesi, "
            "tilauksesi ja muistutuksesi. Tätä ei voi perua."
        ),
        Lang.SV: (
            "Vill du verkligen radera alla dina uppgifter? Jag raderar din profil, dina frågor, "
            "prenumerationer och påminnelser. Det går inte att ångra."
        ),
        Lang.EN: (
            "Do you really want to delete all your data? I will delete your profile, your "
            "questions, subscriptions and reminders. This cannot be undone."
        ),
    },
    "delete.yes": {Lang.FI: "Kyllä, poista", Lang.SV: "Ja, radera", Lang.EN: "Yes, delete"},
    "delete.no": {Lang.FI: "Peruuta", Lang.SV: "Avbryt", Lang.EN: "Cancel"},
    "delete.done": {
        Lang.FI: (
            "Tietosi on poistettu. Kiitos, kun käytit palvelua! Voit aloittaa alusta komennolla "
            "/start."
        ),
        Lang.SV: (
            "Dina uppgifter har raderats. Tack för att du använde tjänsten! Börja om med /start."
        ),
        Lang.EN: (
            "Your data has been deleted. Thank you for using the service! Start again with /start."
        ),
    },
    "delete.cancelled": {
        Lang.FI: "Selvä, mitään ei poistettu.",
        Lang.SV: "Okej, ingenting raderades.",
        Lang.EN: "OK, nothing was deleted.",
    },
    "group.private_only": {
        Lang.FI: (
            "Hei! Vastaan kysymyksiin vain yksityisviesteissä, jotta kenenkään tiedot eivät näy "
            "ryhmässä. Kirjoita minulle: https://t.me/{bot}"
        ),
        Lang.SV: (
            "Hej! Jag svarar bara i privata meddelanden så att ingens uppgifter syns i gruppen. "
            "Skriv till mig: https://t.me/{bot}"
        ),
        Lang.EN: (
            "Hi! I only answer in private messages so that nobody's details show in the group. "
            "Write to me: https://t.me/{bot}"
        ),
    },
}


class Texts:
    """A table of texts by key and language; every key must have all three languages."""

    def __init__(self, table: dict[str, dict[Lang, str]]) -> None:
        missing = sorted(k for k, v in table.items() if set(v) != set(Lang))
        if missing:
            raise ValueError(f"texts missing a language: {missing}")
        self._table = table

    def __call__(self, key: str, lang: Lang, **values: object) -> str:
        """The text `key` in `lang`, with `{placeholders}` filled in."""
        template = self._table[key][lang]
        return template.format(**values) if values else template

    def keys(self) -> list[str]:
        """Every key in this table."""
        return sorted(self._table)

    def variants(self, key: str) -> dict[Lang, str]:
        """The text `key` in every language."""
        return dict(self._table[key])


text = Texts(_TEXTS)

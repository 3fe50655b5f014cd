"""The user's region: `/alue` buttons grouped by collaborative area, a shared location, or a
place found in a message, always confirmed by the user ("Satakunta, oikein?")."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from handlers.context import Context
from handlers.messages import Button, Incoming, Lang, Platform, Reply
from handlers.regions import County, RegionDirectory, RegionMatch, RegionStatus
from handlers.router import Command, Feature
from handlers.states import ConvState
from handlers.texts import Texts

T = Texts(
    {
        "region.choose_area": {
            Lang.FI: "Valitse ensin yhteistyöalue, sitten hyvinvointialue. Voit myös jakaa "
            "sijaintisi tai kirjoittaa kuntasi nimen.",
            Lang.SV: "Välj först samarbetsområde och sedan välfärdsområde. Du kan också dela "
            "din plats eller skriva namnet på din kommun.",
            Lang.EN: "First choose a collaborative area, then your wellbeing services county. "
            "You can also share your location or type the name of your municipality.",
        },
        "region.current": {
            Lang.FI: "Alueesi on nyt {county}.",
            Lang.SV: "Ditt område är nu {county}.",
            Lang.EN: "Your region is now {county}.",
        },
        "region.start_prompt": {
            Lang.FI: "Mistä päin yhdistyksesi on? Kun tiedän alueesi, ohjaan kysymyksesi oikealle "
            "asiantuntijalle ja kerron alueesi tapahtumista.",
            Lang.SV: "Var finns din förening? När jag vet ditt område skickar jag dina frågor till "
            "rätt expert och berättar om evenemang i området.",
            Lang.EN: "Where is your association? Once I know your region, I'll pass your questions "
            "to the right expert and tell you about events there.",
        },
        "region.choose_county": {
            Lang.FI: "Valitse hyvinvointialue:",
            Lang.SV: "Välj välfärdsområde:",
            Lang.EN: "Choose the wellbeing services county:",
        },
        "region.saved": {
            Lang.FI: "Selvä! Alueeksesi on tallennettu {county}. Voit vaihtaa sen komennolla "
            "/alue.",
            Lang.SV: "Klart! {county} är sparat som ditt område. Du kan byta det med /region.",
            Lang.EN: "Done! {county} is saved as your region. You can change it with /region.",
        },
        "region.confirm": {
            Lang.FI: "{county}, oikein?",
            Lang.SV: "{county}, stämmer det?",
            Lang.EN: "{county}, is that right?",
        },
        "region.confirm_place": {
            Lang.FI: "{place} kuuluu alueeseen {county}. Onko tämä alueesi?",
            Lang.SV: "{place} hör till {county}. Är det här ditt område?",
            Lang.EN: "{place} belongs to {county}. Is this your region?",
        },
        "region.yes": {Lang.FI: "Kyllä", Lang.SV: "Ja", Lang.EN: "Yes"},
        "region.change": {Lang.FI: "Vaihda", Lang.SV: "Byt", Lang.EN: "Change"},
        "region.share_location": {
            Lang.FI: "📍 Jaa sijainti",
            Lang.SV: "📍 Dela plats",
            Lang.EN: "📍 Share location",
        },
        "region.ambiguous": {
            Lang.FI: "{place} voi tarkoittaa useampaa aluetta. Kumpi niistä?",
            Lang.SV: "{place} kan betyda flera områden. Vilket av dem?",
            Lang.EN: "{place} could mean more than one region. Which one?",
        },
        "region.outside": {
            Lang.FI: "Ahvenanmaa ei kuulu sote-uudistukseen, joten sillä ei ole "
            "hyvinvointialuetta. Valitse toinen alue, jos toimitte myös muualla.",
            Lang.SV: "Åland omfattas inte av vårdreformen och har inget välfärdsområde. Välj "
            "ett annat område om ni också verkar någon annanstans.",
            Lang.EN: "Åland is outside the reform and has no wellbeing services county. Choose "
            "another region if you also work elsewhere.",
        },
        "region.unknown": {
            Lang.FI: "En tunnistanut paikkaa. Valitse alue painikkeista:",
            Lang.SV: "Jag kände inte igen platsen. Välj område med knapparna:",
            Lang.EN: "I didn't recognise the place. Choose your region with the buttons:",
        },
        "region.location_unknown": {
            Lang.FI: "Sijainti ei osu mihinkään Manner-Suomen kuntaan. Valitse alue painikkeista:",
            Lang.SV: "Platsen ligger inte i någon kommun på fastlandet. Välj område med knapparna:",
            Lang.EN: "That location is not in a mainland Finnish municipality. Choose with "
            "the buttons:",
        },
    }
)

AfterRegion = Callable[[Context], Awaitable[list[Reply]]]


def county_label(county: County, lang: Lang) -> str:
    """A county's short name in the user's language (Helsinki, Pirkanmaa, Birkaland …)."""
    return county.short_name(lang.value)


class RegionProfile:
    """Choosing and confirming the user's region; other features continue after it is set."""

    def __init__(self, regions: RegionDirectory) -> None:
        self.regions = regions
        self._after: list[AfterRegion] = []

    def after_region_set(self, continuation: AfterRegion) -> None:
        """Run `continuation` once the user has saved a region (it returns [] if not its turn)."""
        self._after.append(continuation)

    def area_buttons(self, lang: Lang) -> list[list[Button]]:
        """One button per collaborative area, plus location sharing."""
        rows = [
            [Button(area.short_name(lang.value), payload=f"rg:a:{area.code}")]
            for area, _ in self.regions.counties_by_area()
        ]
        return rows

    def menu(self, ctx: Context, intro: str | None = None) -> list[Reply]:
        """The region menu: areas first, or share a location, or type a place."""
        text = T("region.choose_area", ctx.lang)
        if intro:
            text = f"{intro}\n\n{text}"
        return [
            Reply(
                text,
                buttons=tuple(tuple(row) for row in self.area_buttons(ctx.lang)),
                request_location=T("region.share_location", ctx.lang),
            )
        ]

    def start_prompt(self, ctx: Context) -> list[Reply]:
        """The region menu for /start, if the user has no region yet."""
        if ctx.user.county_code:
            return []
        return self.menu(ctx, T("region.start_prompt", ctx.lang))

    def hint_from_text(self, ctx: Context, message: str) -> list[Reply]:
        """Propose the region a question mentions, if the user has none saved yet."""
        if ctx.user.county_code:
            return []
        match = self.regions.resolve(message)
        if match.status is not RegionStatus.RESOLVED:
            return []
        return self.propose(ctx, match)

    def propose(self, ctx: Context, match: RegionMatch) -> list[Reply]:
        """Ask the user to confirm a region found in text or from a location."""
        lang = ctx.lang
        if match.status is RegionStatus.RESOLVED and match.county is not None:
            county = county_label(match.county, lang)
            yes = Button(T("region.yes", lang), payload=f"rg:y:{match.county.code}")
            change = Button(T("region.change", lang), payload="rg:menu")
            if match.municipality is not None:
                place = match.municipality.name(lang.value)
                question = T("region.confirm_place", lang, place=place, county=county)
            else:
                question = T("region.confirm", lang, county=county)
            return [Reply.with_buttons(question, [yes, change])]
        if match.status is RegionStatus.AMBIGUOUS and match.candidates:
            place = match.matched or "?"
            rows = [
                [Button(county_label(c, lang), payload=f"rg:c:{c.code}")]
                for c in match.candidates
                if c.in_reform
            ]
            rows.append([Button(T("region.change", lang), payload="rg:menu")])
            return [Reply.with_buttons(T("region.ambiguous", lang, place=place), *rows)]
        if match.status is RegionStatus.OUTSIDE:
            return self.menu(ctx, T("region.outside", lang))
        return self.menu(ctx, T("region.unknown", lang))

    async def save(self, ctx: Context, code: str) -> list[Reply]:
        """Save the county and run whatever was waiting for it."""
        if not self.regions.has_county(code) or not self.regions.county(code).in_reform:
            return self.menu(ctx)
        county = self.regions.county(code)
        ctx.user.county_code = code
        replies = [Reply(T("region.saved", ctx.lang, county=county_label(county, ctx.lang)))]
        for continuation in self._after:
            replies.extend(await continuation(ctx))
        return replies

    def feature(self) -> Feature:
        """The `/alue` command, region buttons and shared locations."""

        async def region_command(msg: Incoming, ctx: Context) -> list[Reply]:
            if msg.args.strip():
                return self.propose(ctx, self.regions.resolve(msg.args))
            intro = None
            if ctx.user.county_code and self.regions.has_county(ctx.user.county_code):
                county = self.regions.county(ctx.user.county_code)
                intro = T("region.current", ctx.lang, county=county_label(county, ctx.lang))
            return self.menu(ctx, intro)

        async def on_button(msg: Incoming, ctx: Context) -> list[Reply]:
            assert msg.callback is not None
            parts = msg.callback.split(":")
            action = parts[1] if len(parts) > 1 else ""
            if action == "a" and len(parts) == 3:
                for area, counties in self.regions.counties_by_area():
                    if area.code == parts[2]:
                        rows = [
                            [Button(county_label(c, ctx.lang), payload=f"rg:c:{c.code}")]
                            for c in counties
                        ]
                        rows.append([Button("↩", payload="rg:menu")])
                        return [Reply.with_buttons(T("region.choose_county", ctx.lang), *rows)]
            if action in {"c", "y"} and len(parts) == 3:
                return await self.save(ctx, parts[2])
            return self.menu(ctx)

        async def on_location(msg: Incoming, ctx: Context) -> list[Reply]:
            assert msg.location is not None
            match = self.regions.locate(msg.location.latitude, msg.location.longitude)
            if match.status is RegionStatus.UNKNOWN:
                return self.menu(ctx, T("region.location_unknown", ctx.lang))
            return self.propose(ctx, match)

        async def on_typed_place(msg: Incoming, ctx: Context) -> list[Reply]:
            match = self.regions.resolve(msg.text)
            if match.status is RegionStatus.UNKNOWN:
                data = dict(ctx.user.state_data or {})
                if data.get("place_misses"):
                    # Twice no place: they have moved on (a new question, say). Leave the
                    # region question and let the text be handled as any other message.
                    ctx.user.state, ctx.user.state_data = None, {}
                    return []
                ctx.user.state_data = {**data, "place_misses": 1}
            return self.propose(ctx, match)

        return Feature(
            name="region",
            commands=(
                Command(
                    "alue",
                    region_command,
                    {
                        Lang.FI: "aseta tai vaihda alueesi",
                        Lang.SV: "välj eller byt område",
                        Lang.EN: "set or change your region",
                    },
                    aliases=("region",),
                ),
            ),
            callbacks={"rg": on_button},
            states={ConvState.ASK_REGION: on_typed_place},
            on_location=on_location,
            platforms=frozenset({Platform.TELEGRAM, Platform.CONSOLE}),
        )

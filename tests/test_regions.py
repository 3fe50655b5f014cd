"""Tests for handlers.textnorm and handlers.regions (free-text and location resolution)."""

from __future__ import annotations

import csv
import json
import time
from pathlib import Path

import pytest

from handlers.regions import (
    County,
    RegionDirectory,
    RegionMatch,
    RegionStatus,
    finnish_forms,
)
from handlers.textnorm import fold_diacritics, normalize, tokenize

DATA_DIR = Path(__file__).resolve().parents[1] / "storage" / "data" / "regions"
DEV_SET = Path(__file__).resolve().parent / "eval" / "routing_dev.jsonl"

ASK = "ASK"
OUTSIDE = "OUTSIDE"

# Our own phrasings (not from the dev set): (message, county code | ASK | OUTSIDE).
OWN_CASES: list[tuple[str, str]] = [
    # every county at least once, Finnish inflection, Swedish and English names
    ("Porvoossa toimiva eläkeläisyhdistys", "01"),
    ("Vi håller till i Borgå", "01"),
    ("Itä-Uudellamaalla on paljon pieniä yhdistyksiä", "01"),
    ("Järvenpään yhdistys kysyy", "02"),
    ("Keski-Uudenmaan hyvinvointialue", "02"),
    ("Tuusulassa asun", "02"),
    ("Espoossa toimimme", "03"),
    ("Vi finns i Esbo", "03"),
    ("Lohjalla asun", "03"),
    ("Västra Nylands välfärdsområde", "03"),
    ("Keravalla toimiva yhdistys", "04"),
    ("Vantaan ja Keravan hyvinvointialueella toimimme", "04"),
    ("Uudessakaupungissa asun", "05"),
    ("Uudenkaupungin eläkeläiset", "05"),
    ("Paraisilla toimiva yhdistys", "05"),
    ("Paraisten seurakunta", "05"),
    ("Vi bor i Pargas", "05"),
    ("Varsinais-Suomessa toimiva järjestö", "05"),
    ("Egentliga Finland", "05"),
    ("We are based in Southwest Finland", "05"),
    ("Porin yhdistys", "06"),
    ("Porissa asun", "06"),
    ("Satakunnassa toimiva yhdistys", "06"),
    ("Raumalla toimimme", "06"),
    ("Hämeenlinnassa asun", "07"),
    ("Forssan seudulla toimiva yhdistys", "07"),
    ("Riihimäellä asun", "07"),
    ("Kanta-Hämeessä toimimme", "07"),
    ("Tampereella toimiva yhdistys", "08"),
    ("Vi bor i Tammerfors", "08"),
    ("Birkalands välfärdsområde", "08"),
    ("Pirkanmaalla asun", "08"),
    ("Lahdessa toimiva yhdistys", "09"),
    ("Lahden seudulla asun", "09"),
    ("Päijät-Hämeessä toimimme", "09"),
    ("Kotkassa asun", "10"),
    ("Kouvolan yhdistys", "10"),
    ("Haminassa toimimme", "10"),
    ("Lappeenrannassa asun", "11"),
    ("Imatralla toimiva yhdistys", "11"),
    ("Etelä-Karjalassa toimimme", "11"),
    ("Mikkelissä asun", "12"),
    ("Savonlinnassa toimiva yhdistys", "12"),
    ("South Savo", "12"),
    ("Pertunmaan yhdistys", "12"),
    ("Kuopiossa asun", "13"),
    ("Varkaudessa toimiva yhdistys", "13"),
    ("Pohjois-Savossa toimimme", "13"),
    ("We are in North Savo", "13"),
    ("Joensuussa asun", "14"),
    ("Lieksassa toimiva yhdistys", "14"),
    ("Jyväskylässä asun", "15"),
    ("Keski-Suomen alueella toimimme", "15"),
    ("Jämsässä toimiva yhdistys", "15"),
    ("Seinäjoella asun", "16"),
    ("Seinäjoelta kotoisin", "16"),
    ("Lapualla toimiva yhdistys", "16"),
    ("Vaasassa asun", "17"),
    ("Vi kommer från Vasa", "17"),
    ("Vasas förening", "17"),
    ("Jag bor i Jakobstad", "17"),
    ("Kokkolassa toimimme", "18"),
    ("Vi bor i Karleby", "18"),
    ("Oulussa asun", "19"),
    ("Raahessa toimiva yhdistys", "19"),
    ("Ylivieskan yhdistys", "19"),
    ("Kajaanissa asun", "20"),
    ("Kainuussa toimimme", "20"),
    ("Rovaniemellä asun", "21"),
    ("Lapissa toimiva yhdistys", "21"),
    ("We are in Lapland", "21"),
    ("Torniossa asun", "21"),
    ("Helsingissä toimimme", "90"),
    ("Vi bor i Helsingfors", "90"),
    ("Our association is based in Helsinki", "90"),
    # cases and consonant gradation
    ("Turussa asun", "05"),
    ("Turun seudulla", "05"),
    ("Turkuun muutin", "05"),
    ("Lahdesta kotoisin", "09"),
    ("Nurmeksesta", "14"),
    ("Outokummun yhdistys", "14"),
    ("Kaustisen kansanmusiikki", "18"),
    ("Mustasaaren kunta", "17"),
    ("Hangon yhdistys", "03"),
    ("Vihdin eläkeläiset", "03"),
    ("Kangasalan yhdistys", "08"),
    ("Ähtärin seudulla", "16"),
    ("Loimaan seudun yhdistys", "05"),
    ("Kuusamon yhdistys", "19"),
    ("Kemijärven yhdistys", "21"),
    ("Kiteen seudulla", "14"),
    ("Seinäjoen yhdistys", "16"),
    # missing diacritics
    ("Jyvaskylassa asun", "15"),
    ("Hameenlinnassa toimimme", "07"),
    ("Seinajoella toimiva yhdistys", "16"),
    ("Paijat-Hameessa", "09"),
    ("Mantyharjulla asun", "12"),
    # typos (one edit, long names only)
    ("Jyväskylässsä asun", "15"),
    ("Rovaniemelä asun", "21"),
    ("Tamperella asun", "08"),
    ("Helsingisä toimimme", "90"),
    ("Lappeenrannasa asun", "11"),
    # spoken forms, clitics, demonyms, abbreviations
    ("Turus asun", "05"),
    ("Tampereel asun", "08"),
    ("Helsingissäkin toimimme", "90"),
    ("Olemme tamperelainen yhdistys", "08"),
    ("oululaiset eläkeläiset", "19"),
    ("Hki:ssa toimimme", "90"),
    ("Hesassa asun", "90"),
    # common words that must not match
    ("Pelto on kynnetty ja virta katkesi", ASK),
    ("Kävimme koskella ja luodolla", ASK),
    ("Koski kuohuu keväällä", ASK),
    ("Virta katkesi", ASK),
    ("Kävelimme salossa koko päivän", ASK),
    ("Kaarle II oli kuningas", ASK),
    ("Aura oli rikki", ASK),
    ("Soitin eilen, parasta palvelua", ASK),
    ("Terveisin Liisa Salo", ASK),
    ("Kysyn palkan maksusta", ASK),
    ("lahdessa ui joutsenia", ASK),
    ("Tässä on kotka ja pelto", ASK),
    ("Saammeko avustusta uuteen hankkeeseen?", ASK),
    # names that are also common words, with a cue or in a place-only form
    ("Asun Salossa", "05"),
    ("Toimimme Salossa ja lähialueella", "05"),
    ("asun salossa", "05"),
    ("Salon yhdistys", "05"),
    ("Iissä toimiva yhdistys", "19"),
    ("Kemissä asun", "21"),
    ("Pellon kunnassa", "21"),
    ("Olen Kolarista", "21"),
    ("Virroilla toimiva yhdistys", "08"),
    ("Koski Tl", "05"),
    ("Lahti", "09"),
    ("Luoto", "17"),
    ("Aurassa toimimme", "05"),
    ("Asun Koski Tl:n alueella", "05"),
    ("Vaasasa asun", "17"),
    # names that are also first names, surnames or brands
    ("Soitin Inarin kanssa eilen", ASK),
    ("Tapasin Kaarinan kokouksessa", ASK),
    ("Ostin uuden Nokian puhelimen", ASK),
    ("Nokialla järjestettävä tapahtuma", "08"),
    ("Kangasniemellä toimiva yhdistys", "12"),
    ("Auto ajoi kolariin eilen illalla", ASK),
    # ambiguous regions and conflicting mentions
    ("Uudellamaalla toimiva yhdistys", ASK),
    ("Vi verkar i Nyland", ASK),
    ("Savossa asun", ASK),
    ("Karjalassa toimimme", ASK),
    ("Hämeessä asun", ASK),
    ("Pohjois-Suomessa toimimme", ASK),
    ("Olen Turusta mutta asun Tampereella", ASK),
    ("Pirkanmaalla, Jämsässä", ASK),
    # consistent multiple mentions
    ("Espoossa, Uudellamaalla", "03"),
    ("Kuopio, Pohjois-Savo", "13"),
    ("Pohjanmaalla, Vaasassa", "17"),
    ("Pohjanmaa", "17"),
    # Åland is outside the reform
    ("Maarianhaminassa asun", OUTSIDE),
    ("Ahvenanmaalla toimiva yhdistys", OUTSIDE),
    ("Vi bor i Mariehamn", OUTSIDE),
    ("Vi finns på Åland", OUTSIDE),
    ("Jomalassa", OUTSIDE),
    # no place at all
    ("Tarvitsemme apua hakemuksen kanssa", ASK),
    ("Miten hyvinvointialue tukee järjestöjä?", ASK),
]


@pytest.fixture(scope="module")
def regions() -> RegionDirectory:
    return RegionDirectory.load()


def _satisfies(match: RegionMatch, expect: str) -> bool:
    if expect == ASK:
        return match.status in (RegionStatus.AMBIGUOUS, RegionStatus.UNKNOWN)
    if expect == OUTSIDE:
        return match.status is RegionStatus.OUTSIDE
    return (
        match.status is RegionStatus.RESOLVED
        and match.county is not None
        and match.county.code == expect
    )


def _describe(match: RegionMatch) -> str:
    county = match.county.code if match.county else None
    municipality = match.municipality.name_fi if match.municipality else None
    candidates = [c.code for c in match.candidates]
    return f"{match.status.value} county={county} muni={municipality} cand={candidates}"


# --- textnorm ------------------------------------------------------------------------------


def test_fold_diacritics() -> None:
    assert fold_diacritics("Äänekoski Åbo Närpiö café") == "Aanekoski Abo Narpio cafe"


def test_normalize_unifies_dashes_quotes_and_spaces() -> None:
    assert normalize("  Päijät–Häme  ja ”Kanta—Häme”\u00a0! ") == 'päijät-häme ja "kanta-häme" !'


def test_tokenize_splits_compounds_and_keeps_digits() -> None:
    tokens = tokenize("Sote-uudistus 2023: Etelä-Savo, 1.1.2025")
    assert tokens == [
        "sote-uudistus",
        "sote",
        "uudistus",
        "2023",
        "etelä-savo",
        "etelä",
        "savo",
        "1",
        "1",
        "2025",
    ]


# --- loading and reference data ------------------------------------------------------------


def test_load_counts_and_time() -> None:
    start = time.perf_counter()
    directory = RegionDirectory.load(DATA_DIR)
    assert time.perf_counter() - start < 1.0
    assert len(directory.municipalities) == 308
    assert len(directory.counties) == 23
    assert len(directory.reform_counties()) == 22
    assert len(directory.areas) == 5


def test_county_short_names(regions: RegionDirectory) -> None:
    pirkanmaa = regions.county("08")
    assert (pirkanmaa.short_name("fi"), pirkanmaa.short_name("sv")) == ("Pirkanmaa", "Birkaland")
    assert pirkanmaa.short_name("en") == "Pirkanmaa"
    helsinki = regions.county("90")
    assert [helsinki.short_name(lang) for lang in ("fi", "sv", "en")] == [
        "Helsinki",
        "Helsingfors",
        "Helsinki",
    ]
    assert regions.county("91").in_reform is False
    with pytest.raises(KeyError):
        regions.county("99")


def test_counties_by_area_covers_reform_counties_once(regions: RegionDirectory) -> None:
    grouped = regions.counties_by_area()
    codes = [county.code for _, counties in grouped for county in counties]
    assert sorted(codes) == sorted(c.code for c in regions.reform_counties())
    south = dict((area.code, [c.code for c in counties]) for area, counties in grouped)["1"]
    assert "90" in south


# --- inflection ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "forms"),
    [
        ("Turku", {"turussa", "turusta", "turkuun", "turun"}),
        ("Lahti", {"lahdessa", "lahden"}),
        ("Varkaus", {"varkaudessa"}),
        ("Uusikaupunki", {"uudessakaupungissa", "uudenkaupungin"}),
        ("Parainen", {"paraisilla", "paraisten"}),
        ("Seinäjoki", {"seinäjoella", "seinäjoelta"}),
        ("Pori", {"porissa", "porin"}),
        ("Hämeenlinna", {"hämeenlinnassa"}),
        ("Kemijärvi", {"kemijärvellä"}),
        ("Kitee", {"kiteellä"}),
        ("Nurmes", {"nurmeksessa"}),
        ("Outokumpu", {"outokummussa"}),
        ("Kaustinen", {"kaustisella"}),
        ("Mustasaari", {"mustasaaressa"}),
        ("Hanko", {"hangossa"}),
        ("Vihti", {"vihdissä"}),
        ("Ähtäri", {"ähtärissä"}),
        ("Oulu", {"oulun"}),
        ("Loimaa", {"loimaalla"}),
        ("Kuusamo", {"kuusamossa"}),
        ("Rovaniemi", {"rovaniemellä"}),
        ("Haapavesi", {"haapavedellä"}),
        ("Itä-Uusimaa", {"itä-uudellamaalla", "itä-uudenmaan"}),
        ("Vantaa ja Kerava", {"vantaan ja keravan"}),
    ],
)
def test_finnish_forms(name: str, forms: set[str]) -> None:
    assert forms <= set(finnish_forms(name))


def test_kangasala_contracted_form(regions: RegionDirectory) -> None:
    match = regions.resolve("Kangasalla on kerhomme")
    assert match.municipality is not None and match.municipality.name_fi == "Kangasala"


# --- free-text resolution --------------------------------------------------------------------


@pytest.mark.parametrize(
    "name",
    # routing_unseen*: held out at first (153/157 and 116/120 on the first run); the general
    # fixes they prompted are now guarded here like the dev set.
    ["routing_dev.jsonl", "routing_unseen.jsonl", "routing_unseen2.jsonl"],
)
def test_evaluation_set_is_fully_correct(regions: RegionDirectory, name: str) -> None:
    failures = []
    for line in (DEV_SET.parent / name).read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        case = json.loads(line)
        match = regions.resolve(case["text"])
        if not _satisfies(match, case["expect"]):
            failures.append(f"{case['text']!r}: expected {case['expect']}, {_describe(match)}")
    assert not failures, "\n".join(failures)


@pytest.mark.parametrize(("text", "expect"), OWN_CASES)
def test_own_phrasings(regions: RegionDirectory, text: str, expect: str) -> None:
    match = regions.resolve(text)
    assert _satisfies(match, expect), f"{text!r}: expected {expect}, got {_describe(match)}"


def test_own_phrasings_cover_every_reform_county(regions: RegionDirectory) -> None:
    covered = {expect for _, expect in OWN_CASES}
    assert {c.code for c in regions.reform_counties()} <= covered


def test_resolved_match_details(regions: RegionDirectory) -> None:
    match = regions.resolve("Olen Turusta ja haluaisin kysyä avustuksista")
    assert match.status is RegionStatus.RESOLVED
    assert match.county is not None and match.county.code == "05"
    assert match.municipality is not None and match.municipality.code == "853"
    assert match.matched == "Turusta"


def test_helsinki_is_both_city_and_county(regions: RegionDirectory) -> None:
    match = regions.resolve("Helsingissä")
    assert match.county is not None and match.county.code == "90"
    assert match.municipality is not None and match.municipality.code == "091"


def test_county_mention_without_municipality(regions: RegionDirectory) -> None:
    match = regions.resolve("Satakunnan hyvinvointialueella")
    assert match.status is RegionStatus.RESOLVED
    assert match.county is not None and match.county.code == "06"
    assert match.municipality is None
    assert match.matched == "Satakunnan"


def test_pertunmaa_maps_to_mantyharju(regions: RegionDirectory) -> None:
    for text in ("Pertunmaa", "Pertunmaalla asun", "Pertunmaan yhdistys"):
        match = regions.resolve(text)
        assert match.municipality is not None and match.municipality.code == "507", text
        assert match.county is not None and match.county.code == "12", text


def _candidates(match: RegionMatch) -> set[str]:
    return {county.code for county in match.candidates}


@pytest.mark.parametrize(
    ("text", "codes"),
    [
        ("Uusimaa", {"01", "02", "03", "04", "90"}),
        ("Uudellamaalla", {"01", "02", "03", "04", "90"}),
        ("Nyland", {"01", "02", "03", "04", "90"}),
        ("Savossa", {"12", "13"}),
        ("Karjalassa", {"11", "14"}),
        ("Hämeessä", {"07", "09"}),
        ("Pohjois-Suomen yhdistykset", {"18", "19", "20", "21"}),
        ("Olen Turusta, asun Tampereella", {"05", "08"}),
        ("Turussa ja Pirkanmaalla", {"05", "08"}),
    ],
)
def test_ambiguous_candidates(regions: RegionDirectory, text: str, codes: set[str]) -> None:
    match = regions.resolve(text)
    assert match.status is RegionStatus.AMBIGUOUS
    assert _candidates(match) == codes


def test_consistent_group_and_municipality_resolve(regions: RegionDirectory) -> None:
    match = regions.resolve("Uudellamaalla, tarkemmin Porvoossa")
    assert match.status is RegionStatus.RESOLVED
    assert match.county is not None and match.county.code == "01"


def test_lappi_is_the_county(regions: RegionDirectory) -> None:
    match = regions.resolve("Lappi")
    assert match.status is RegionStatus.RESOLVED
    assert match.county is not None and match.county.code == "21"


def test_ii_needs_exact_capitalisation(regions: RegionDirectory) -> None:
    assert regions.resolve("Iissä asun").status is RegionStatus.RESOLVED
    assert regions.resolve("Asun Ii:ssä").status is RegionStatus.RESOLVED
    assert regions.resolve("Paavali II").status is RegionStatus.UNKNOWN
    assert regions.resolve("IISSÄ ASUN").status is RegionStatus.UNKNOWN
    assert regions.resolve("asun iissä").status is RegionStatus.UNKNOWN


def test_common_word_at_sentence_start_is_only_offered(regions: RegionDirectory) -> None:
    match = regions.resolve("Salo on kaunis")
    assert match.status is RegionStatus.AMBIGUOUS
    assert _candidates(match) == {"05"}


def test_aland_is_outside(regions: RegionDirectory) -> None:
    match = regions.resolve("Vi verkar på Åland")
    assert match.status is RegionStatus.OUTSIDE
    assert match.county is not None and match.county.code == "91"
    municipal = regions.resolve("Asun Maarianhaminassa")
    assert municipal.status is RegionStatus.OUTSIDE
    assert municipal.municipality is not None and municipal.municipality.code == "478"


def test_unknown_without_place(regions: RegionDirectory) -> None:
    assert regions.resolve("").status is RegionStatus.UNKNOWN
    assert regions.resolve("Voinko saada apua?") == RegionMatch(RegionStatus.UNKNOWN)


def test_every_municipality_resolves_by_name(regions: RegionDirectory) -> None:
    failures = []
    for municipality in regions.municipalities:
        for name in filter(None, (municipality.name_fi, municipality.name_sv)):
            match = regions.resolve(f"Asun: {name}")
            ok = match.county is not None and match.county.code == municipality.county_code
            if not ok:
                failures.append(f"{name}: {_describe(match)}")
    assert not failures, "\n".join(failures)


def test_every_county_resolves_by_short_name(regions: RegionDirectory) -> None:
    for county in regions.counties:
        for lang in ("fi", "sv", "en"):
            match = regions.resolve(county.short_name(lang))
            assert match.county is not None and match.county.code == county.code, (
                county.short_name(lang),
                _describe(match),
            )


# --- location --------------------------------------------------------------------------------


def _admin_centres() -> dict[str, tuple[float, float]]:
    with (DATA_DIR / "municipalities_extra.csv").open(encoding="utf-8", newline="") as handle:
        return {
            row["code"]: (float(row["admin_centre_lat"]), float(row["admin_centre_lon"]))
            for row in csv.DictReader(handle)
        }


@pytest.mark.parametrize(
    "code",
    ["853", "091", "564", "698", "837", "179", "297", "905", "851", "507"],
)
def test_locate_admin_centres(regions: RegionDirectory, code: str) -> None:
    lat, lon = _admin_centres()[code]
    match = regions.locate(lat, lon)
    assert match.status is RegionStatus.RESOLVED
    expected = regions.municipality(code)
    assert match.municipality == expected
    assert isinstance(match.county, County) and match.county.code == expected.county_code


def test_locate_every_admin_centre_in_the_right_county(regions: RegionDirectory) -> None:
    wrong = []
    for code, (lat, lon) in _admin_centres().items():
        match = regions.locate(lat, lon)
        if match.county is None or match.county.code != regions.municipality(code).county_code:
            wrong.append(code)
    assert not wrong


def test_locate_at_sea_near_turku_uses_nearest(regions: RegionDirectory) -> None:
    match = regions.locate(60.35, 22.10)
    assert match.status is RegionStatus.RESOLVED
    assert match.county is not None and match.county.code == "05"


def test_locate_aland_is_outside(regions: RegionDirectory) -> None:
    lat, lon = _admin_centres()["478"]
    assert regions.locate(lat, lon).status is RegionStatus.OUTSIDE


@pytest.mark.parametrize(
    ("lat", "lon"),
    [(59.3293, 18.0686), (59.4370, 24.7536), (55.6761, 12.5683)],  # Stockholm, Tallinn, Copenhagen
)
def test_locate_abroad_is_unknown(regions: RegionDirectory, lat: float, lon: float) -> None:
    assert regions.locate(lat, lon).status is RegionStatus.UNKNOWN


# --- performance -----------------------------------------------------------------------------


def test_resolve_is_fast(regions: RegionDirectory) -> None:
    texts = [text for text, _ in OWN_CASES]
    samples = []
    for _ in range(5):
        for text in texts:
            start = time.perf_counter()
            regions.resolve(text)
            samples.append(time.perf_counter() - start)
    samples.sort()
    # The target is p99 < 2 ms; the bound here is loose so a slow CI machine does not flake.
    assert samples[int(len(samples) * 0.99)] < 0.02


@pytest.mark.parametrize(
    ("text", "status", "codes"),
    [
        # Elided compounds name two counties.
        ("Toimimme Etelä- ja Pohjois-Karjalassa", RegionStatus.AMBIGUOUS, {"11", "14"}),
        ("Keski- ja Etelä-Pohjanmaan yhdistykset", RegionStatus.AMBIGUOUS, {"16", "18"}),
        # Letters typed three times.
        ("Kuopiossss on meidän kerho", RegionStatus.RESOLVED, {"13"}),
        # A place that is also a first name or a surname: local cases mean the place …
        ("Terkkuja Kaarinasta", RegionStatus.RESOLVED, {"05"}),
        ("Muutimme Heinolaan viime vuonna", RegionStatus.RESOLVED, {"09"}),
        # … but "to/at/from someone" only offers the place for confirmation.
        ("Lähetin viestin Kaarinalle", RegionStatus.AMBIGUOUS, {"05"}),
    ],
)
def test_elisions_repeated_letters_and_names_in_local_cases(
    regions: RegionDirectory, text: str, status: RegionStatus, codes: set[str]
) -> None:
    match = regions.resolve(text)
    assert match.status is status
    found = {match.county.code} if match.county else {c.code for c in match.candidates}
    assert found == codes

"""Resolve free text or a shared location to a wellbeing services county.

Pure and synchronous. All reference data comes from ``storage/data/regions``; at load time
every place name is expanded into its inflected surface forms (Finnish case endings with
consonant gradation, Swedish genitive, demonym stems) and indexed, so resolving a message is a
scan over its word n-grams with dictionary look-ups. Fuzzy matching (one edit) is a fallback
for long names only.
"""

from __future__ import annotations

import csv
import json
import math
import re
from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from enum import IntEnum, StrEnum
from pathlib import Path

from rapidfuzz.distance import OSA

from handlers.textnorm import fold_diacritics, has_diacritics, iter_words, unify_punctuation

# ---------------------------------------------------------------------------------------------
# Public data types


class RegionStatus(StrEnum):
    """Outcome of a region look-up."""

    RESOLVED = "resolved"
    AMBIGUOUS = "ambiguous"
    UNKNOWN = "unknown"
    OUTSIDE = "outside"


def _pick(lang: str, fi: str, sv: str, en: str) -> str:
    if lang.startswith("sv") and sv:
        return sv
    if lang.startswith("en") and en:
        return en
    return fi


@dataclass(frozen=True, slots=True)
class CollaborativeArea:
    """A social- and health-care collaborative area (yhteistyöalue)."""

    code: str
    name_fi: str
    name_sv: str
    name_en: str
    short_fi: str = ""
    short_sv: str = ""
    short_en: str = ""

    def name(self, lang: str = "fi") -> str:
        """Official name in the given language (fi, sv, en; Finnish otherwise)."""
        return _pick(lang, self.name_fi, self.name_sv, self.name_en)

    def short_name(self, lang: str = "fi") -> str:
        """Short display name such as 'Etelä-Suomi' / 'Södra Finland' / 'Southern Finland'."""
        return _pick(lang, self.short_fi, self.short_sv, self.short_en) or self.name(lang)


@dataclass(frozen=True, slots=True)
class County:
    """A wellbeing services county, Helsinki (90) or Åland (91, outside the reform)."""

    code: str
    name_fi: str
    name_sv: str
    name_en: str
    area_code: str | None
    short_fi: str = ""
    short_sv: str = ""
    short_en: str = ""

    @property
    def in_reform(self) -> bool:
        """True for the 21 counties and Helsinki, False for Åland."""
        return self.area_code is not None

    def name(self, lang: str = "fi") -> str:
        """Official name in the given language (fi, sv, en; Finnish otherwise)."""
        return _pick(lang, self.name_fi, self.name_sv, self.name_en)

    def short_name(self, lang: str = "fi") -> str:
        """Short display name such as 'Pirkanmaa' / 'Birkaland' / 'Pirkanmaa'."""
        return _pick(lang, self.short_fi, self.short_sv, self.short_en) or self.name(lang)


@dataclass(frozen=True, slots=True)
class Municipality:
    """A municipality in force on 1 January 2025."""

    code: str
    name_fi: str
    name_sv: str | None
    county_code: str
    lat: float
    lon: float

    def name(self, lang: str = "fi") -> str:
        """Name in the given language; the Finnish name when there is no Swedish one."""
        if lang.startswith("sv") and self.name_sv:
            return self.name_sv
        return self.name_fi


@dataclass(frozen=True, slots=True)
class RegionMatch:
    """Result of resolving a message or a location."""

    status: RegionStatus
    county: County | None = None
    municipality: Municipality | None = None
    candidates: tuple[County, ...] = ()
    matched: str | None = None


# ---------------------------------------------------------------------------------------------
# Finnish nominal inflection (generation of surface forms for recognition only)

_CASES = ("nom", "gen", "ine", "ela", "ill", "ade", "abl", "all", "ess", "par", "tra")
_VOWELS = frozenset("aeiouyäö")
_TO_FRONT = str.maketrans("aou", "äöy")

# Strong → weak consonant gradation of the consonants before a stem's final vowel.
_GRADATION_CLUSTERS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("kk", ("k",)),
    ("pp", ("p",)),
    ("tt", ("t",)),
    ("nk", ("ng",)),
    ("mp", ("mm",)),
    ("lt", ("ll",)),
    ("nt", ("nn",)),
    ("rt", ("rr",)),
    ("ht", ("hd",)),
    ("lk", ("l", "lj")),
    ("rk", ("r", "rj")),
    ("hk", ("h", "hj")),
)
_GRADATION_SINGLE = {"k": ("",), "p": ("v",), "t": ("d",)}

# Last compound parts whose stems the rules do not produce: (weak stem, strong stem, partitive).
_IRREGULAR_LAST_PARTS = {"vesi": ("vede", "vete", "vettä")}
# Last compound parts ending in -i that inflect with an e-stem (Lahti → Lahdessa); other
# -i words keep the i (Pori → Porissa, Helsinki → Helsingissä).
_E_STEM_LAST_PARTS = (
    "joki", "järvi", "lahti", "niemi", "saari", "salmi", "lampi", "kivi", "suomi", "nummi",
    "koski", "mäki", "vuori", "loppi",
)  # fmt: skip

# First parts of compounds that inflect together with the last part (Uudessakaupungissa).
_INFLECTING_FIRST_PARTS: dict[str, dict[str, str]] = {
    "uusi": {
        "nom": "uusi",
        "gen": "uuden",
        "ine": "uudessa",
        "ela": "uudesta",
        "ill": "uuteen",
        "ade": "uudella",
        "abl": "uudelta",
        "all": "uudelle",
        "ess": "uutena",
        "par": "uutta",
        "tra": "uudeksi",
    },
    "vähä": {
        "nom": "vähä",
        "gen": "vähän",
        "ine": "vähässä",
        "ela": "vähästä",
        "ill": "vähään",
        "ade": "vähällä",
        "abl": "vähältä",
        "all": "vähälle",
        "ess": "vähänä",
        "par": "vähää",
        "tra": "vähäksi",
    },
    "iso": {
        "nom": "iso",
        "gen": "ison",
        "ine": "isossa",
        "ela": "isosta",
        "ill": "isoon",
        "ade": "isolla",
        "abl": "isolta",
        "all": "isolle",
        "ess": "isona",
        "par": "isoa",
        "tra": "isoksi",
    },
}

# Quality of a generated form: forms of a higher level win over lower ones for the same key.
_LEVEL_VARIANT = 0  # deliberately non-standard (ungraded, colloquial, possessive -s)
_LEVEL_RULE = 1  # produced by the inflection rules
_LEVEL_NAME = 2  # the name itself or a listed irregular form


def _is_back(word: str) -> bool:
    """Vowel harmony of a (compound) word: decided by its last component when it is known."""
    for part in (*_E_STEM_LAST_PARTS, *_IRREGULAR_LAST_PARTS):
        if word.endswith(part) and len(word) > len(part):
            word = part  # Rovaniemi → niemi → front (Rovaniemellä)
            break
    for ch in reversed(word):
        if ch in "aou":
            return True
        if ch in "äöy":
            return False
    return False


def _weak_stems(stem: str) -> tuple[str, ...]:
    """Weak-grade variants of a vowel-final stem (the stem itself when it has no gradation)."""
    body, vowel = stem[:-1], stem[-1]
    for strong, weaks in _GRADATION_CLUSTERS:
        if body.endswith(strong):
            return tuple(body[: -len(strong)] + weak + vowel for weak in weaks)
    if len(body) >= 2 and body[-1] in _GRADATION_SINGLE and body[-2] in _VOWELS:
        out = [body[:-1] + weak + vowel for weak in _GRADATION_SINGLE[body[-1]]]
        if body[-1] == "k" and body[-2] in "uy" and vowel == body[-2]:
            out.append(body[:-1] + "v" + vowel)  # puku → puvun
        return tuple(out)
    return (stem,)


# Weak → strong gradation, for stems that are strong where the nominative is weak
# (Haukipudas → Haukiputaalla, kangas → kankaalla).
_REVERSE_GRADATION: tuple[tuple[str, str], ...] = (
    ("ng", "nk"),
    ("mm", "mp"),
    ("ll", "lt"),
    ("nn", "nt"),
    ("rr", "rt"),
    ("hd", "ht"),
    ("d", "t"),
    ("v", "p"),
)


def _strong_grade(stem: str) -> tuple[str, ...]:
    """Strong-grade variants of a vowel-final stem whose nominative is in the weak grade."""
    body, vowel = stem[:-1], stem[-1]
    for weak, strong in _REVERSE_GRADATION:
        if body.endswith(weak):
            return (body[: -len(weak)] + strong + vowel,)
    if len(body) >= 2 and body[-1] in "kpt" and body[-2] in _VOWELS:
        return (body + body[-1] + vowel,)  # rapas → rappaa
    return (stem,)


class _Forms:
    """Collects inflected forms of one word by case, with a quality level per form."""

    __slots__ = ("back", "by_case", "level")

    def __init__(self, back: bool) -> None:
        self.back = back
        self.by_case: dict[str, set[str]] = defaultdict(set)
        self.level: dict[str, int] = {}

    def add(self, case: str, form: str, level: int = _LEVEL_RULE) -> None:
        self.by_case[case].add(form)
        if self.level.get(form, -1) < level:
            self.level[form] = level

    def ending(self, text: str) -> str:
        return text if self.back else text.translate(_TO_FRONT)

    def add_weak(self, stems: Iterable[str], level: int = _LEVEL_RULE) -> None:
        for stem in stems:
            for case, end in (
                ("gen", "n"),
                ("ine", "ssa"),
                ("ela", "sta"),
                ("ade", "lla"),
                ("abl", "lta"),
                ("all", "lle"),
                ("tra", "ksi"),
            ):
                self.add(case, stem + self.ending(end), level)
            # Spoken forms: Turus, Tampereel.
            for case, end in (("ine", "s"), ("ade", "l")):
                self.add(case, stem + end, _LEVEL_VARIANT)

    def add_ungraded(self, stem: str, weak: Sequence[str]) -> None:
        if stem not in weak:
            self.add_weak((stem,), _LEVEL_VARIANT)


def _inflect_word(word: str) -> _Forms:
    """Generate forms of a single Finnish word (lowercase) in the common cases."""
    forms = _Forms(_is_back(word))
    end = forms.ending
    forms.add("nom", word, _LEVEL_NAME)

    for part, (weak_part, strong_part, partitive) in _IRREGULAR_LAST_PARTS.items():
        if word.endswith(part):
            prefix = word[: -len(part)]
            forms.add_weak((prefix + weak_part,))
            forms.add("ill", prefix + strong_part + "en")
            forms.add("ess", prefix + strong_part + end("na"))
            forms.add("par", prefix + partitive)
            return forms

    last = word[-1]
    if word.endswith("nen") and len(word) > 4:
        base = word[:-3]
        forms.add_weak((base + "se",))
        forms.add("ill", base + "seen")
        forms.add("ess", base + "sena" if forms.back else base + "senä")
        forms.add("par", base + end("sta"))
        # Plural, used by many -nen place names (Paraisilla, Ikaalisissa, Paraisten).
        forms.add_weak((base + "si",))
        forms.add("ill", base + "siin")
        forms.add("gen", base + "sten")
        forms.add("gen", base + "sien")
        forms.add("nom", base + "set")
        forms.add("par", base + "si" + end("a"))
        forms.add("ess", base + "sin" + end("a"))
    elif len(word) >= 2 and word[-1] in _VOWELS and word[-1] == word[-2]:
        # Long vowel: Vantaa, Espoo, Keuruu, Kitee, Ii.
        forms.add_weak((word,))
        forms.add("ill", word + "seen")
        forms.add("ill", word + "h" + last + "n")
        forms.add("ess", word + end("na"))
        forms.add("par", word + end("ta"))
    elif last == "i" and not word.endswith(_E_STEM_LAST_PARTS):
        # i-stem: Pori → Porissa, Vihti → Vihdissä, Helsinki → Helsingissä.
        weak_i = _weak_stems(word)
        forms.add_weak(weak_i)
        forms.add_ungraded(word, weak_i)
        forms.add("ill", word + "in")
        forms.add("ess", word + end("na"))
        forms.add("par", word + end("a"))
    elif last == "i":
        # e-stem: Lahti → Lahdessa, Seinäjoki → Seinäjoella; the i-stem variant
        # (Seinäjoissa) is kept at the lowest level for learners' forms.
        weak_i = _weak_stems(word)
        forms.add_weak(weak_i, _LEVEL_VARIANT)
        forms.add("ill", word + "in", _LEVEL_VARIANT)
        e_stem = word[:-1] + "e"
        weak_e = _weak_stems(e_stem)
        forms.add_weak(weak_e)
        forms.add_ungraded(e_stem, weak_e)
        forms.add("ill", e_stem + "en")
        forms.add("ess", e_stem + end("na"))
        forms.add("par", e_stem + end("a"))
    elif last == "e":
        # Tampere → Tampereella, Raahe → Raahessa, Häme → Hämeessä.
        long_stem = word + "e"
        forms.add_weak((long_stem, word))
        forms.add("ill", long_stem + "seen")
        forms.add("ill", word + "en")
        forms.add("ess", long_stem + end("na"))
        forms.add("par", word + end("tta"))
    elif last in _VOWELS:
        weak = _weak_stems(word)
        forms.add_weak(weak)
        forms.add_ungraded(word, weak)
        forms.add("ill", word + last + "n")
        forms.add("ess", word + end("na"))
        forms.add("par", word + end("a"))
    elif last == "s":
        # Nurmes → Nurmeksessa, Varkaus → Varkaudessa, Korsnäs → Korsnäsissä.
        base = word[:-1]
        forms.add_weak((base + "kse",))
        forms.add("ill", base + "kseen")
        forms.add("ess", base + "ksen" + end("a"))
        forms.add("par", word + end("ta"))
        if len(base) >= 2 and base[-1] in "aäe":
            # Haukipudas → Haukiputaalla, kangas → kankaan.
            for strong in _strong_grade(base):
                long_stem = strong + strong[-1]
                forms.add_weak((long_stem,))
                forms.add("ill", long_stem + "seen")
                forms.add("ess", long_stem + end("na"))
        if len(base) >= 2 and base[-1] in _VOWELS:
            forms.add_weak((base + "de",))
            forms.add("ill", base + "teen")
            forms.add("ess", base + "ten" + end("a"))
            forms.add("par", base + end("tta"))
        forms.add_weak((word + "i",))
        forms.add("ill", word + "iin")
        forms.add("par", word + "i" + end("a"))
    else:
        # Other consonant-final names (mostly Swedish): Kökar → Kökarissa.
        forms.add_weak((word + "i",))
        forms.add("ill", word + "iin")
        forms.add("ess", word + "in" + end("a"))
        forms.add("par", word + "i" + end("a"))
    return forms


def _inflect_compound(word: str) -> _Forms:
    """Forms of one word, handling hyphenated compounds and Uusikaupunki-type compounds."""
    if "-" in word:
        head, _, tail = word.rpartition("-")
        inner = _inflect_compound(tail)
        forms = _Forms(inner.back)
        for case, items in inner.by_case.items():
            for item in items:
                forms.add(case, f"{head}-{item}", inner.level[item])
        return forms
    forms = _inflect_word(word)
    for first, first_forms in _INFLECTING_FIRST_PARTS.items():
        rest = word[len(first) :]
        if word.startswith(first) and len(rest) >= 3:
            rest_forms = _inflect_word(rest)
            for case in _CASES:
                for item in rest_forms.by_case.get(case, ()):
                    forms.add(case, first_forms[case] + item, rest_forms.level[item])
    return forms


_CONJUNCTIONS = frozenset({"ja", "och", "and"})


def finnish_forms(name: str) -> dict[str, int]:
    """All recognisable Finnish surface forms of a place name (lowercase) with quality level."""
    words = name.lower().split()
    result: dict[str, int] = {}
    if len(words) == 1:
        forms = _inflect_compound(words[0])
        result.update(forms.level)
        return result
    if any(w in _CONJUNCTIONS for w in words):
        # "Vantaa ja Kerava": the conjuncts inflect in parallel.
        per_word = [None if w in _CONJUNCTIONS else _inflect_compound(w) for w in words]
        for case in _CASES:
            parts: list[tuple[str, ...]] = []
            for w, f in zip(words, per_word, strict=True):
                parts.append((w,) if f is None else tuple(sorted(f.by_case.get(case, ()))))
            for combo in _product(parts):
                result.setdefault(" ".join(combo), _LEVEL_RULE)
        result[" ".join(words)] = _LEVEL_NAME
        return result
    last = words[-1]
    head = " ".join(words[:-1])
    if len(last) <= 2 or not last.isalpha():
        # An abbreviation at the end (Koski Tl): only the name itself.
        result[" ".join(words)] = _LEVEL_NAME
        return result
    forms = _inflect_compound(last)
    for item, level in forms.level.items():
        result[f"{head} {item}"] = level
    return result


def finnish_forms_by_case(name: str) -> dict[str, set[str]]:
    """Forms of a one-word Finnish name grouped by case (nom, gen, ine, ela, ill, ade, …)."""
    forms = _inflect_compound(name.lower())
    return {case: set(items) for case, items in forms.by_case.items()}


def _product(parts: Sequence[tuple[str, ...]]) -> Iterator[tuple[str, ...]]:
    if not parts:
        yield ()
        return
    for first in parts[0]:
        for rest in _product(parts[1:]):
            yield (first, *rest)


def _demonym_stems(name: str) -> set[str]:
    """Stems that take -lainen/-läinen: turku, lahte, seinäjoke, parais."""
    word = name.lower()
    if " " in word:
        return set()
    if word.endswith("nen"):
        return {word[:-3] + "s"}
    stems = {word}
    if word.endswith("i"):
        stems.add(word[:-1] + "e")
    return stems


# ---------------------------------------------------------------------------------------------
# Index types


class _Kind(IntEnum):
    MUNICIPALITY = 0
    COUNTY = 1
    GROUP = 2


@dataclass(frozen=True, slots=True)
class _Target:
    kind: _Kind
    code: str  # municipality code, county code, or a label for a group
    counties: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class _Entry:
    target: _Target
    level: int
    guarded: bool  # this surface form is also a common word
    exact_case: bool  # the original must be spelled with exactly one leading capital
    name: str
    nominative: bool = False  # the bare name, not an inflected form
    name_like: bool = False  # also a person's name or a brand (see _Guard)


@dataclass(frozen=True, slots=True)
class _Guard:
    """How a place name that is also an ordinary word or a person's name is matched."""

    exact_case: bool  # only the exact spelling with one leading capital (Ii, not II)
    name_like: bool  # also a person's name or a brand: capitals prove nothing
    common_forms: frozenset[str]  # inflected forms shared with the ordinary word
    place_forms: frozenset[str]  # forms only the place takes (Sallassa)


class _Strength(IntEnum):
    WEAK = 1
    STRONG = 2


@dataclass(frozen=True, slots=True)
class _Hit:
    target: _Target
    strength: _Strength
    start: int  # character span in the unified text
    end: int


@dataclass(slots=True)
class _Word:
    text: str  # as written
    lower: str
    folded: str
    start: int
    end: int
    sentence_initial: bool
    capitalised: bool
    accented: bool = field(default=False)


# Cue words around a place name that make a common-word name count as a place (folded).
_CUES_BEFORE = frozenset(
    {
        "asun", "asumme", "asuu", "asuvat", "asuin", "asuimme", "asunut", "asuneet", "asuva",
        "olen", "olemme", "ollaan", "oon", "olin", "olimme",
        "toimin", "toimimme", "toimii", "toimivat", "toimitaan", "toimia", "sijaitsee",
        "sijaitsemme", "kotoisin", "kunta", "kaupunki", "muutin", "muutimme", "muutan",
        "kotikunta", "kotikuntani", "kotikuntamme", "kotikaupunki", "kotikaupunkini",
        "kotipaikkakunta", "paikkakunta", "paikkakuntani", "paikkakuntamme", "kotipaikka",
        "kotipaikkamme", "kotipaikkana", "lahella", "i", "in", "from", "at", "near", "pa",
        "fran", "till", "bor", "verkar", "finns", "kommun", "stad", "city", "town",
        "municipality", "of",
    }
)  # fmt: skip
_CUES_AFTER = frozenset(
    {
        "kunta", "kunnan", "kunnassa", "kunnasta", "kunnalla", "kunnalta", "kunnalle",
        "kaupunki", "kaupungin", "kaupungissa", "kaupungista", "kaupunkiin",
        "toimiva", "toimivan", "toimivat", "toimivia", "toimiville", "asuva", "asuvan",
        "asuvat", "asuvia", "asun", "asumme", "asuu", "toimimme", "toimin", "toimii",
        "sijaitseva", "sijaitsevan", "seudulla", "seudun", "seudulta", "seudulle", "seutu",
        "seutukunta", "alueella", "alueen", "alueelta", "alueelle", "kotoisin", "lahistolla",
        "lahella", "keskustassa", "keskusta", "kommun", "stad", "region", "area", "city",
        "town", "municipality", "tl",
    }
)  # fmt: skip
_LOCATIVE_ENDINGS = ("ssa", "sta", "lla", "lta")  # folded
_PARTICIPLE_RE = re.compile(r"^[a-z]{3,}(?:va|van|vat|via|ville|vassa|valla)$")  # folded
_FILLERS = frozenset(
    {"nyt", "myos", "taalla", "siella", "nykyaan", "edelleen", "jo", "kylla", "on", "ar", "is"}
)
# A capitalised common-word name right after these is a person's name (a signature).
_NAME_CUES = frozenset({"terveisin", "t", "mvh", "regards", "halsningar", "halsn", "terv"})
# Clitics and possessive suffixes stripped when a word is not found as such (Turussakin).
_CLITICS = ("kaan", "kään", "kin", "han", "hän", "ko", "kö", "pa", "pä", "mme", "si")
_DEMONYM_RE = re.compile(r"^(?P<stem>[a-z][a-z-]+?)lai(?:nen|s[a-z]*)$")
_SWEDISH_DEMONYM_RE = re.compile(r"^(?P<stem>[a-z][a-z-]+?)s?bo(?:r|rna|n)?$")
_SENTENCE_END = frozenset(".!?…;:\n")
_OPENERS = frozenset("\"'([{*-•")

_FUZZY_MIN_FORM = 8  # only surface forms at least this long are matched with one edit
_FUZZY_MIN_WORD = _FUZZY_MIN_FORM - 1
_FUZZY_MIN_LOWERCASE_WORD = 8
_MAX_NGRAM = 4
_EARTH_RADIUS_KM = 6371.0
_DEFAULT_MAX_SEA_KM = 20.0


def _default_data_dir() -> Path:
    import storage

    return Path(storage.__file__).resolve().parent / "data" / "regions"


def _read_csv(path: Path) -> list[dict[str, str]]:
    rows: list[dict[str, str]] = []
    with path.open(encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle)
        for row in reader:
            if None in row:
                raise ValueError(f"{path}:{reader.line_num}: more fields than in the header")
            rows.append({key: (value or "").strip() for key, value in row.items()})
    return rows


def _read_word_list(path: Path) -> list[str]:
    with path.open(encoding="utf-8") as handle:
        return [word for line in handle if (word := line.split("#", 1)[0].strip().lower())]


def _key_tokens(form: str) -> list[str]:
    return [m.group() for m in iter_words(form)]


# ---------------------------------------------------------------------------------------------
# Geometry

_Ring = tuple[tuple[float, float], ...]  # (lon, lat) pairs


@dataclass(frozen=True, slots=True)
class _Shape:
    code: str
    bbox: tuple[float, float, float, float]  # min lon, min lat, max lon, max lat
    polygons: tuple[tuple[_Ring, ...], ...]  # each polygon: outer ring then holes


def _ring_contains(ring: _Ring, lon: float, lat: float) -> bool:
    inside = False
    x1, y1 = ring[-1]
    for x2, y2 in ring:
        if (y1 > lat) != (y2 > lat):
            cross = x1 + (lat - y1) * (x2 - x1) / (y2 - y1)
            if lon < cross:
                inside = not inside
        x1, y1 = x2, y2
    return inside


def _shape_contains(shape: _Shape, lon: float, lat: float) -> bool:
    min_lon, min_lat, max_lon, max_lat = shape.bbox
    if not (min_lon <= lon <= max_lon and min_lat <= lat <= max_lat):
        return False
    for polygon in shape.polygons:
        if _ring_contains(polygon[0], lon, lat) and not any(
            _ring_contains(hole, lon, lat) for hole in polygon[1:]
        ):
            return True
    return False


def _distance_to_shape_km(shape: _Shape, lon: float, lat: float) -> float:
    """Distance from a point to the nearest polygon edge (local equirectangular projection)."""
    kx = math.cos(math.radians(lat)) * math.pi / 180 * _EARTH_RADIUS_KM
    ky = math.pi / 180 * _EARTH_RADIUS_KM
    best = math.inf
    for polygon in shape.polygons:
        for ring in polygon:
            ax, ay = (ring[-1][0] - lon) * kx, (ring[-1][1] - lat) * ky
            for x, y in ring:
                bx, by = (x - lon) * kx, (y - lat) * ky
                dx, dy = bx - ax, by - ay
                length2 = dx * dx + dy * dy
                t = 0.0 if length2 == 0 else max(0.0, min(1.0, -(ax * dx + ay * dy) / length2))
                px, py = ax + t * dx, ay + t * dy
                best = min(best, px * px + py * py)
                ax, ay = bx, by
    return math.sqrt(best)


def _haversine_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * _EARTH_RADIUS_KM * math.asin(math.sqrt(a))


def _load_shapes(path: Path) -> tuple[_Shape, ...]:
    with path.open(encoding="utf-8") as handle:
        collection = json.load(handle)
    shapes: list[_Shape] = []
    for feature in collection.get("features", []):
        geometry = feature.get("geometry") or {}
        coords = geometry.get("coordinates") or []
        raw = [coords] if geometry.get("type") == "Polygon" else coords
        polygons = tuple(
            tuple(tuple((float(p[0]), float(p[1])) for p in ring) for ring in polygon)
            for polygon in raw
        )
        points = [p for polygon in polygons for p in polygon[0]]
        if not points:
            continue
        lons = [p[0] for p in points]
        lats = [p[1] for p in points]
        shapes.append(
            _Shape(
                code=str(feature["properties"]["code"]),
                bbox=(min(lons), min(lats), max(lons), max(lats)),
                polygons=polygons,
            )
        )
    return tuple(shapes)


# ---------------------------------------------------------------------------------------------
# Directory


_PLAIN_WORD = re.compile(r"[a-z0-9]+(?:[-:][a-z0-9]+)*")


class RegionDirectory:
    """Counties, collaborative areas and municipalities with a free-text resolver."""

    def __init__(
        self,
        counties: Sequence[County],
        areas: Sequence[CollaborativeArea],
        municipalities: Sequence[Municipality],
        shapes: Sequence[_Shape] = (),
        name_variants: Sequence[dict[str, str]] = (),
        common_word_names: Sequence[dict[str, str]] = (),
        fuzzy_stopwords: Iterable[str] = (),
        former_municipalities: Sequence[dict[str, str]] = (),
    ) -> None:
        self.counties: tuple[County, ...] = tuple(counties)
        self.areas: tuple[CollaborativeArea, ...] = tuple(areas)
        self.municipalities: tuple[Municipality, ...] = tuple(municipalities)
        self._county_by_code = {c.code: c for c in self.counties}
        self._area_by_code = {a.code: a for a in self.areas}
        self._municipality_by_code = {m.code: m for m in self.municipalities}
        self._county_order = {c.code: i for i, c in enumerate(self.counties)}
        self._shapes = tuple(shapes)
        self._exact: dict[str, list[_Entry]] = defaultdict(list)
        self._folded: dict[str, list[_Entry]] = defaultdict(list)
        self._first_words: frozenset[str] | None = None
        self._demonyms: dict[str, list[_Entry]] = defaultdict(list)
        self._swedish_stems: dict[str, list[_Entry]] = defaultdict(list)
        self._fuzzy_exact: dict[tuple[str, int], list[str]] = defaultdict(list)
        self._fuzzy_folded: dict[tuple[str, int], list[str]] = defaultdict(list)
        self._max_ngram = 1
        self._fuzzy_stopwords = frozenset(fuzzy_stopwords)
        self._build_index(name_variants, common_word_names, former_municipalities)

    # -- loading ------------------------------------------------------------------------------

    @classmethod
    def load(cls, data_dir: Path | None = None) -> RegionDirectory:
        """Load the bundled (or given) regions data directory and build the indexes."""
        root = data_dir or _default_data_dir()
        area_short = {r["code"]: r for r in _read_csv(root / "collaborative_area_short_names.csv")}
        county_short = {r["code"]: r for r in _read_csv(root / "county_short_names.csv")}
        areas = [
            CollaborativeArea(
                code=r["code"],
                name_fi=r["name_fi"],
                name_sv=r["name_sv"],
                name_en=r["name_en"],
                short_fi=area_short.get(r["code"], {}).get("short_fi", ""),
                short_sv=area_short.get(r["code"], {}).get("short_sv", ""),
                short_en=area_short.get(r["code"], {}).get("short_en", ""),
            )
            for r in _read_csv(root / "collaborative_areas.csv")
        ]
        counties = [
            County(
                code=r["code"],
                name_fi=r["name_fi"],
                name_sv=r["name_sv"],
                name_en=r["name_en"],
                area_code=r["collaborative_area"] or None,
                short_fi=county_short.get(r["code"], {}).get("short_fi", ""),
                short_sv=county_short.get(r["code"], {}).get("short_sv", ""),
                short_en=county_short.get(r["code"], {}).get("short_en", ""),
            )
            for r in _read_csv(root / "wellbeing_counties.csv")
        ]
        municipalities = [
            Municipality(
                code=r["code"],
                name_fi=r["name_fi"],
                name_sv=r["name_sv"] or None,
                county_code=r["county_code"],
                lat=float(r["lat"]),
                lon=float(r["lon"]),
            )
            for r in _read_csv(root / "municipalities.csv")
        ]
        geojson = root / "municipalities_2025.geojson"
        shapes = _load_shapes(geojson) if geojson.exists() else ()
        variants_path = root / "name_variants.csv"
        variants = _read_csv(variants_path) if variants_path.exists() else []
        common_path = root / "common_word_names.csv"
        common = _read_csv(common_path) if common_path.exists() else []
        stopwords_path = root / "fuzzy_stopwords.csv"
        stopwords = _read_word_list(stopwords_path) if stopwords_path.exists() else []
        former_path = root / "former_municipalities.csv"
        former = _read_csv(former_path) if former_path.exists() else []
        return cls(counties, areas, municipalities, shapes, variants, common, stopwords, former)

    def _build_index(
        self,
        name_variants: Sequence[dict[str, str]],
        common_word_names: Sequence[dict[str, str]],
        former_municipalities: Sequence[dict[str, str]],
    ) -> None:
        guards: dict[str, _Guard] = {}
        for row in common_word_names:
            name_like = row.get("kind", "word") == "name"
            homonym_forms: set[str] = set()
            for homonym in row.get("homonyms", "").split():
                homonym_forms.update(finnish_forms(homonym))
            place_forms: set[str] = set()
            if name_like:
                # A person's name inflects exactly like the place.
                by_case = finnish_forms_by_case(row["name"])
                homonym_forms.update(form for forms in by_case.values() for form in forms)
                for case in row.get("place_only_cases", "").split():
                    place_forms.update(by_case.get(case, ()))
            guards[row["name"].lower()] = _Guard(
                exact_case=row.get("exact_case", "").lower() in {"yes", "true", "1"},
                name_like=name_like,
                common_forms=frozenset(homonym_forms - place_forms),
                place_forms=frozenset(place_forms),
            )

        def add(target: _Target, name: str, lang: str, extra: str = "", stems: str = "") -> None:
            lowered = name.lower()
            if lang == "fi":
                forms = finnish_forms(lowered)
            elif lang == "abbr":
                forms = {lowered: _LEVEL_NAME}  # Hki; "Hki:ssa" is handled at match time
            else:
                forms = {lowered: _LEVEL_NAME}
                if lowered[-1] not in "sxz":
                    forms[lowered + "s"] = _LEVEL_RULE  # Swedish genitive: Vasas
            guard = guards.get(lowered)
            for form, level in forms.items():
                self._add_form(target, name, form, level, guard)
            for form in extra.split():
                # Irregular forms of a name that is also a common word are common words too.
                self._add_form(
                    target,
                    name,
                    form.lower(),
                    _LEVEL_NAME,
                    guard,
                    bool(guard and guard.common_forms),
                )
            if lang == "fi":
                # Demonyms are written in lower case (a capitalised one is a surname).
                for stem in _demonym_stems(lowered) | set(stems.split()):
                    self._demonyms[fold_diacritics(stem.lower())].append(
                        _Entry(target, _LEVEL_RULE, False, False, name)
                    )
            if lang == "sv":
                self._swedish_stems[fold_diacritics(lowered)].append(
                    _Entry(target, _LEVEL_RULE, guard is not None, False, name)
                )

        for row in former_municipalities:
            # Merged municipalities (Nastola → Lahti) still name where people live.
            current = self._municipality_by_code[row["current_code"]]
            target = _Target(_Kind.MUNICIPALITY, current.code, (current.county_code,))
            add(target, row["name_fi"], "fi")
            if row.get("name_sv") and row["name_sv"] != row["name_fi"]:
                add(target, row["name_sv"], "sv")
        county_of = {c.code: c for c in self.counties}
        for municipality in self.municipalities:
            target = _Target(_Kind.MUNICIPALITY, municipality.code, (municipality.county_code,))
            add(target, municipality.name_fi, "fi")
            if municipality.name_sv and municipality.name_sv != municipality.name_fi:
                add(target, municipality.name_sv, "sv")
        for county in self.counties:
            target = _Target(_Kind.COUNTY, county.code, (county.code,))
            if county.short_fi:
                add(target, county.short_fi, "fi")
            if county.short_sv and county.short_sv != county.short_fi:
                add(target, county.short_sv, "sv")
            if county.short_en and county.short_en not in (county.short_fi, county.short_sv):
                add(target, county.short_en, "en")
        for area in self.areas:
            members = tuple(c.code for c in self.counties if c.area_code == area.code)
            target = _Target(_Kind.GROUP, f"area:{area.code}", members)
            for name, lang in ((area.short_fi, "fi"), (area.short_sv, "sv"), (area.short_en, "en")):
                if name:
                    add(target, name, lang)
        for row in name_variants:
            kind_code, _, value = row["target"].partition(":")
            if kind_code == "m":
                municipality = self._municipality_by_code[value]
                target = _Target(_Kind.MUNICIPALITY, value, (municipality.county_code,))
            elif kind_code == "c":
                target = _Target(_Kind.COUNTY, county_of[value].code, (value,))
            elif kind_code == "a":
                members = tuple(c.code for c in self.counties if c.area_code == value)
                target = _Target(_Kind.GROUP, f"area:{value}", members)
            elif kind_code == "g":
                codes = tuple(value.split())
                unknown = [code for code in codes if code not in county_of]
                if unknown:
                    raise ValueError(f"name_variants.csv: unknown county codes {unknown}")
                target = _Target(_Kind.GROUP, row["name"], codes)
            else:
                raise ValueError(f"name_variants.csv: unknown target {row['target']!r}")
            lang = row.get("lang") or "fi"
            add(target, row["name"], lang, row.get("extra_forms", ""), row.get("demonym_stems", ""))

    def _add_form(
        self,
        target: _Target,
        name: str,
        form: str,
        level: int,
        guard: _Guard | None,
        force_guard: bool = False,
    ) -> None:
        tokens = _key_tokens(form)
        if not tokens:
            return
        nominative = form == name.lower()
        guarded = guard is not None and (force_guard or nominative or form in guard.common_forms)
        if guard is not None and form in guard.place_forms:
            guarded = False
        entry = _Entry(
            target,
            level,
            guarded,
            exact_case=guard is not None and guard.exact_case,
            name=name,
            nominative=nominative,
            name_like=guard is not None and guard.name_like,
        )
        variants = {" ".join(tokens)}
        if len(tokens) == 1 and "-" in tokens[0]:
            variants.add(tokens[0].replace("-", " "))  # Pohjois Savossa
            variants.add(tokens[0].replace("-", ""))  # Pohjoissavossa
        for variant in variants:
            self._max_ngram = min(_MAX_NGRAM, max(self._max_ngram, variant.count(" ") + 1))
            folded = fold_diacritics(variant)
            _append_unique(self._exact[variant], entry)
            _append_unique(self._folded[folded], entry)
            if (
                guard is None
                and level >= _LEVEL_RULE
                and " " not in variant
                and len(variant) >= _FUZZY_MIN_FORM
            ):
                self._fuzzy_exact[(variant[0], len(variant))].append(variant)
                self._fuzzy_folded[(folded[0], len(folded))].append(folded)

    # -- look-ups -----------------------------------------------------------------------------

    def county(self, code: str) -> County:
        """County by code ('01'–'21', '90' Helsinki, '91' Åland); KeyError if unknown."""
        try:
            return self._county_by_code[code]
        except KeyError:
            raise KeyError(f"unknown county code {code!r}") from None

    def has_county(self, code: str) -> bool:
        """Tell whether the code is a known county code."""
        return code in self._county_by_code

    def area(self, code: str) -> CollaborativeArea:
        """Collaborative area by code ('1'–'5'); KeyError if unknown."""
        try:
            return self._area_by_code[code]
        except KeyError:
            raise KeyError(f"unknown collaborative area code {code!r}") from None

    def municipality(self, code: str) -> Municipality:
        """Municipality by its three-digit code; KeyError if unknown."""
        try:
            return self._municipality_by_code[code]
        except KeyError:
            raise KeyError(f"unknown municipality code {code!r}") from None

    def reform_counties(self) -> tuple[County, ...]:
        """The 21 wellbeing services counties and Helsinki (everything but Åland)."""
        return tuple(c for c in self.counties if c.in_reform)

    def counties_by_area(self) -> list[tuple[CollaborativeArea, list[County]]]:
        """Counties grouped by collaborative area, for the region button menu."""
        return [
            (area, [c for c in self.counties if c.area_code == area.code]) for area in self.areas
        ]

    # -- location -----------------------------------------------------------------------------

    def locate(
        self, lat: float, lon: float, max_distance_km: float = _DEFAULT_MAX_SEA_KM
    ) -> RegionMatch:
        """Map a shared location to a municipality: polygon first, then the nearest one."""
        for shape in self._shapes:
            if _shape_contains(shape, lon, lat):
                return self._match_municipality(self._municipality_by_code[shape.code])
        best_code: str | None = None
        best = math.inf
        if self._shapes:
            margin_lat = max_distance_km / 111.0
            margin_lon = margin_lat / max(0.1, math.cos(math.radians(lat)))
            for shape in self._shapes:
                min_lon, min_lat, max_lon, max_lat = shape.bbox
                if not (
                    min_lon - margin_lon <= lon <= max_lon + margin_lon
                    and min_lat - margin_lat <= lat <= max_lat + margin_lat
                ):
                    continue
                distance = _distance_to_shape_km(shape, lon, lat)
                if distance < best:
                    best, best_code = distance, shape.code
        else:
            for municipality in self.municipalities:
                distance = _haversine_km(lat, lon, municipality.lat, municipality.lon)
                if distance < best:
                    best, best_code = distance, municipality.code
        if best_code is None or best > max_distance_km:
            return RegionMatch(RegionStatus.UNKNOWN)
        return self._match_municipality(self._municipality_by_code[best_code])

    def _match_municipality(self, municipality: Municipality) -> RegionMatch:
        county = self._county_by_code[municipality.county_code]
        status = RegionStatus.RESOLVED if county.in_reform else RegionStatus.OUTSIDE
        return RegionMatch(status, county, municipality, matched=municipality.name_fi)

    # -- free text ----------------------------------------------------------------------------

    def mask_places(self, text: str, token: str, keep: frozenset[str] = frozenset()) -> str:
        """Replace every place name found with certainty by `token` (for matching questions
        about "my municipality" whatever its name); places in counties `keep` stay.

        Only surface forms in the name index count (not the compound and demonym fallbacks
        of `resolve`), which lets most texts be skipped after a cheap word check.
        """
        if self._first_words is None:
            self._first_words = frozenset(key.split(" ", 1)[0] for key in self._folded)
        folded_words = _PLAIN_WORD.findall(fold_diacritics(text.lower()))
        if not any(word in self._first_words for word in folded_words):
            return text
        unified = _prepare(text)
        words = _split_words(unified)
        if not words:
            return text
        hits, _ = self._exact_hits(words)
        spans = sorted(
            (h.start, h.end)
            for h in hits
            if h.strength is _Strength.STRONG and not set(h.target.counties) & keep
        )
        if not spans:
            return text
        pieces: list[str] = []
        position = 0
        for start, end in spans:
            if start < position:
                continue
            pieces += [unified[position:start], token]
            position = end
        pieces.append(unified[position:])
        return "".join(pieces)

    def resolve(self, text: str) -> RegionMatch:
        """Resolve a free-text message to a county (or ask, or say it is outside)."""
        unified = _prepare(text)
        words = _split_words(unified)
        if not words:
            return RegionMatch(RegionStatus.UNKNOWN)
        hits, covered = self._exact_hits(words)
        strong = [h for h in hits if h.strength is _Strength.STRONG]
        if strong:
            return self._decide(strong, unified, confident=True)
        fuzzy = self._fuzzy_hits(words, covered)
        # Weak evidence alone (a common word capitalised at the start of a sentence) is
        # offered for confirmation rather than taken as an answer.
        return self._decide(hits + fuzzy, unified, confident=bool(fuzzy))

    def _lookup(self, words: Sequence[_Word]) -> list[_Entry]:
        entries = self._lookup_key(words)
        last = words[-1].lower
        if not entries and ":" in last and len(words) > 1:
            # A case ending after a colon on an abbreviation: "Koski Tl:ssä".
            stem = last.split(":", 1)[0]
            stripped = replace(words[-1], lower=stem, folded=fold_diacritics(stem))
            entries = self._lookup_key([*words[:-1], stripped])
        if not entries:
            return []
        best = max(e.level for e in entries)
        return [e for e in entries if e.level == best]

    def _lookup_key(self, words: Sequence[_Word]) -> list[_Entry] | None:
        if any(w.accented for w in words):
            return self._exact.get(" ".join(w.lower for w in words))
        return self._folded.get(" ".join(w.folded for w in words))

    def _exact_hits(self, words: list[_Word]) -> tuple[list[_Hit], set[int]]:
        hits: list[_Hit] = []
        covered: set[int] = set()
        i = 0
        count = len(words)
        while i < count:
            consumed = 0
            for n in range(min(self._max_ngram, count - i), 0, -1):
                entries = self._lookup(words[i : i + n])
                accepted = self._accept(entries, words, i, n)
                if accepted:
                    hits.extend(accepted)
                    consumed = n
                    break
            if not consumed:
                extra = self._word_fallbacks(words, i)
                if extra:
                    hits.extend(extra)
                    consumed = 1
            if consumed:
                covered.update(range(i, i + consumed))
                i += consumed
            else:
                i += 1
        return hits, covered

    def _word_fallbacks(self, words: list[_Word], i: int) -> list[_Hit]:
        """Single-word fallbacks: compound parts, 'Hki:ssa', clitics, demonyms."""
        word = words[i]
        lowered = word.lower
        if "-" in lowered or ":" in lowered:
            parts = [p for p in re.split(r"[-:]", lowered) if p]
            if ":" in lowered:
                parts = parts[:1]
            sub_hits: list[_Hit] = []
            offset = word.start
            for part in parts:
                pos = word.text.lower().find(part, offset - word.start) + word.start
                sub = _Word(
                    text=word.text[pos - word.start : pos - word.start + len(part)],
                    lower=part,
                    folded=fold_diacritics(part),
                    start=pos,
                    end=pos + len(part),
                    sentence_initial=word.sentence_initial and pos == word.start,
                    capitalised=word.text[pos - word.start].isupper(),
                    accented=has_diacritics(part),
                )
                sub_words = [*words[:i], sub, *words[i + 1 :]]
                sub_hits.extend(self._accept(self._lookup([sub]), sub_words, i, 1))
                offset = pos + len(part)
            return sub_hits
        for clitic in _CLITICS:
            if lowered.endswith(clitic) and len(lowered) - len(clitic) >= 3:
                stripped = lowered[: -len(clitic)]
                sub = _Word(
                    text=word.text[: len(stripped)],
                    lower=stripped,
                    folded=fold_diacritics(stripped),
                    start=word.start,
                    end=word.end,
                    sentence_initial=word.sentence_initial,
                    capitalised=word.capitalised,
                    accented=has_diacritics(stripped),
                )
                sub_words = [*words[:i], sub, *words[i + 1 :]]
                found = self._accept(self._lookup([sub]), sub_words, i, 1)
                if found:
                    return found
        if word.capitalised and not word.sentence_initial:
            return []  # Hämäläinen, Karjalainen: surnames, not demonyms
        demonym = _DEMONYM_RE.match(word.folded)
        if demonym:
            entries = self._demonyms.get(demonym.group("stem"))
            if entries:
                return [_Hit(e.target, _Strength.STRONG, word.start, word.end) for e in entries]
        swedish = _SWEDISH_DEMONYM_RE.match(word.folded)
        if swedish:
            stem = swedish.group("stem")
            entries = self._swedish_stems.get(stem) or self._swedish_stems.get(stem + "s")
            if entries:
                return [
                    _Hit(e.target, _Strength.STRONG, word.start, word.end)
                    for e in entries
                    if not e.guarded
                ]
        return []

    def _accept(self, entries: list[_Entry], words: list[_Word], i: int, n: int) -> list[_Hit]:
        """Apply capitalisation and context rules to the entries found for words[i:i+n]."""
        if not entries:
            return []
        first = words[i]
        start, end = first.start, words[i + n - 1].end
        hits: list[_Hit] = []
        for entry in entries:
            if entry.exact_case and not _is_titlecase(first.text):
                continue
            if not entry.guarded:
                hits.append(_Hit(entry.target, _Strength.STRONG, start, end))
                continue
            if _has_cue(words, i, n):
                hits.append(_Hit(entry.target, _Strength.STRONG, start, end))
            elif entry.name_like:
                # Salla, Nokia: a person's name or a brand is capitalised too, so without a
                # cue the place is only offered for confirmation.
                if first.capitalised:
                    hits.append(_Hit(entry.target, _Strength.WEAK, start, end))
            elif first.capitalised and not _looks_like_person(words, i, n):
                # At the start of a sentence every word is capitalised: an inflected form
                # (Salossa, Salon) still reads as the place, the bare word (Koski ...) not.
                weak = first.sentence_initial and entry.nominative
                strength = _Strength.WEAK if weak else _Strength.STRONG
                hits.append(_Hit(entry.target, strength, start, end))
        return hits

    def _fuzzy_hits(self, words: list[_Word], covered: set[int]) -> list[_Hit]:
        hits: list[_Hit] = []
        for index, word in enumerate(words):
            if index in covered or len(word.lower) < _FUZZY_MIN_WORD:
                continue
            if not word.lower.replace("-", "").isalpha() or word.lower in self._fuzzy_stopwords:
                continue
            if not word.capitalised and len(word.lower) < _FUZZY_MIN_LOWERCASE_WORD:
                continue  # place names are proper nouns: short lowercase words are not tried
            if word.accented:
                key, buckets, table = word.lower, self._fuzzy_exact, self._exact
            else:
                key, buckets, table = word.folded, self._fuzzy_folded, self._folded
            if key in table:
                continue  # a known form turned down by the context rules (kolariin) stays so
            found: set[str] = set()
            for length in (len(key) - 1, len(key), len(key) + 1):
                for candidate in buckets.get((key[0], length), ()):
                    if OSA.distance(key, candidate, score_cutoff=1) <= 1:
                        found.add(candidate)
            targets: dict[_Target, None] = {}
            for candidate in sorted(found):
                for entry in table.get(candidate, ()):
                    if not entry.guarded:
                        targets[entry.target] = None
            hits.extend(_Hit(t, _Strength.WEAK, word.start, word.end) for t in targets)
        return hits

    def _decide(self, hits: list[_Hit], text: str, *, confident: bool) -> RegionMatch:
        if not hits:
            return RegionMatch(RegionStatus.UNKNOWN)
        specific: dict[str, _Hit] = {}
        municipalities: dict[str, _Hit] = {}
        groups: list[_Hit] = []
        for hit in hits:
            if hit.target.kind is _Kind.GROUP:
                groups.append(hit)
                continue
            specific.setdefault(hit.target.counties[0], hit)
            if hit.target.kind is _Kind.MUNICIPALITY:
                municipalities.setdefault(hit.target.code, hit)
        loose = [g for g in groups if not set(g.target.counties) & specific.keys()]
        extra_codes = sorted(
            {code for g in loose for code in g.target.counties},
            key=lambda code: self._county_order.get(code, 999),
        )
        codes = list(specific) + [code for code in extra_codes if code not in specific]
        first = hits[0]
        if len(codes) == 1 and confident:
            county = self._county_by_code[codes[0]]
            municipality: Municipality | None = None
            decisive = specific.get(county.code, first)
            if len(municipalities) == 1:
                code, decisive = next(iter(municipalities.items()))
                municipality = self._municipality_by_code[code]
            status = RegionStatus.RESOLVED if county.in_reform else RegionStatus.OUTSIDE
            return RegionMatch(
                status, county, municipality, matched=text[decisive.start : decisive.end]
            )
        if codes and all(not self._county_by_code[c].in_reform for c in codes):
            county = self._county_by_code[codes[0]]
            return RegionMatch(RegionStatus.OUTSIDE, county, matched=text[first.start : first.end])
        candidates = tuple(self._county_by_code[code] for code in codes)
        anchor = loose[0] if not specific and loose else first
        return RegionMatch(
            RegionStatus.AMBIGUOUS,
            candidates=candidates,
            matched=text[anchor.start : anchor.end],
        )


# ---------------------------------------------------------------------------------------------
# Helpers for the resolver


def _append_unique(entries: list[_Entry], entry: _Entry) -> None:
    for index, existing in enumerate(entries):
        if existing.target == entry.target:
            if entry.level > existing.level or (
                entry.level == existing.level and existing.guarded and not entry.guarded
            ):
                entries[index] = entry
            return
    entries.append(entry)


_ELIDED = re.compile(
    r"\b([^\W\d_]+)- +(ja|tai|sekä|och|eller|and|or) +([^\W\d_]+)-([^\W\d_]+)", re.IGNORECASE
)
_TRIPLED = re.compile(r"([^\W\d_])\1{2,}")


def _prepare(text: str) -> str:
    """Unify punctuation, spell out elided compounds ("Pohjois- ja Etelä-Savo" → "Pohjois-Savo
    ja Etelä-Savo") and shorten letters typed three times or more (no Finnish or Swedish
    word has them: "Oulusssa" → "Oulussa")."""
    unified = _TRIPLED.sub(r"\1\1", unify_punctuation(text))
    return _ELIDED.sub(r"\1-\4 \2 \3-\4", unified)


def _split_words(text: str) -> list[_Word]:
    words: list[_Word] = []
    for match in iter_words(text):
        raw = match.group()
        lower = raw.lower()
        words.append(
            _Word(
                text=raw,
                lower=lower,
                folded=fold_diacritics(lower),
                start=match.start(),
                end=match.end(),
                sentence_initial=_starts_sentence(text, match.start()),
                capitalised=raw[0].isupper(),
                accented=has_diacritics(lower),
            )
        )
    return words


def _starts_sentence(text: str, position: int) -> bool:
    index = position - 1
    while index >= 0 and (text[index] in " \t\r" or text[index] in _OPENERS):
        index -= 1
    return index < 0 or text[index] in _SENTENCE_END


def _is_titlecase(word: str) -> bool:
    return word[:1].isupper() and (len(word) == 1 or word[1:2].islower())


def _has_cue(words: list[_Word], i: int, n: int) -> bool:
    if n == len(words):
        return True  # the whole message is the name: an answer to "where?"
    if i >= 1:
        before = words[i - 1].folded
        if before in _CUES_BEFORE:
            return True
        if before in _FILLERS and i >= 2 and words[i - 2].folded in _CUES_BEFORE:
            return True
    if i + n >= len(words):
        return False
    after = words[i + n].folded
    if after in _CUES_AFTER:
        return True
    # "Nokialla kokoontuva ryhmä": a locative followed by a present participle.
    return words[i + n - 1].folded.endswith(_LOCATIVE_ENDINGS) and bool(_PARTICIPLE_RE.match(after))


def _looks_like_person(words: list[_Word], i: int, n: int) -> bool:
    """A capitalised common-word name next to another capitalised word: 'Liisa Salo'."""
    if i >= 1:
        before = words[i - 1]
        if before.folded in _NAME_CUES:
            return True
        if before.capitalised and not before.sentence_initial and before.folded not in _CUES_BEFORE:
            return True
        if before.capitalised and i >= 2 and words[i - 2].folded in _NAME_CUES:
            return True
    if i + n < len(words):
        after = words[i + n]
        if after.capitalised and not after.sentence_initial and after.folded not in _CUES_AFTER:
            return True
    return False

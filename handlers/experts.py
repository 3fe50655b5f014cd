"""Directory of regional experts: which expert area (and Slack channel) covers which county."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from handlers.regions import RegionDirectory, RegionMatch, RegionStatus

_AREA_KEYS = frozenset({"id", "names", "counties", "slack_channel", "experts", "deputy"})
_PERSON_KEYS = frozenset({"name", "slack_user_id"})
_LANGS = ("fi", "sv", "en")
_AREA_ID_RE = re.compile(r"^[a-z0-9][a-z0-9_-]*$")
_CHANNEL_ID_RE = re.compile(r"^[CG][A-Z0-9]{2,}$")
_USER_ID_RE = re.compile(r"^[UW][A-Z0-9]{2,}$")


class ExpertsFileError(ValueError):
    """The experts file is missing, is not valid YAML, or does not cover the counties."""


@dataclass(frozen=True, slots=True)
class Expert:
    """A person who answers questions for an expert area."""

    name: str
    slack_user_id: str


@dataclass(frozen=True, slots=True)
class ExpertArea:
    """An expert area: a set of counties served by the same experts and Slack channel."""

    id: str
    name_fi: str
    name_sv: str
    name_en: str
    counties: tuple[str, ...]
    slack_channel: str
    experts: tuple[Expert, ...]
    deputy: Expert | None = None

    def name(self, lang: str = "fi") -> str:
        """Display name in the given language (fi, sv, en; Finnish otherwise)."""
        if lang.startswith("sv"):
            return self.name_sv
        if lang.startswith("en"):
            return self.name_en
        return self.name_fi


def default_experts_path() -> Path:
    """Path of the bundled example experts file (storage/data/experts.yaml)."""
    import storage

    return Path(storage.__file__).resolve().parent / "data" / "experts.yaml"


class ExpertDirectory:
    """Expert areas loaded from YAML, validated against the county list."""

    def __init__(self, areas: tuple[ExpertArea, ...], source: Path | None = None) -> None:
        self.areas = areas
        self.source = source
        self._by_id = {area.id: area for area in areas}
        self._by_county = {code: area for area in areas for code in area.counties}

    @classmethod
    def load(cls, path: Path | str | None, regions: RegionDirectory) -> ExpertDirectory:
        """Read and validate an experts file; None means the bundled example file."""
        source = Path(path) if path is not None else default_experts_path()
        try:
            raw = yaml.safe_load(source.read_text(encoding="utf-8"))
        except OSError as exc:
            raise ExpertsFileError(f"{source}: cannot read the experts file: {exc}") from exc
        except yaml.YAMLError as exc:
            raise ExpertsFileError(f"{source}: invalid YAML: {exc}") from exc
        return cls(_parse(raw, source, regions), source)

    def area(self, area_id: str) -> ExpertArea:
        """Expert area by id; KeyError if there is none."""
        try:
            return self._by_id[area_id]
        except KeyError:
            raise KeyError(f"unknown expert area {area_id!r}") from None

    def area_for_county(self, code: str) -> ExpertArea:
        """Expert area covering the county code; KeyError for Åland or unknown codes."""
        try:
            return self._by_county[code]
        except KeyError:
            raise KeyError(f"no expert area covers county {code!r}") from None


def route_result(match: RegionMatch, experts: ExpertDirectory, text: str) -> dict[str, Any]:
    """The JSON object printed by `sote-bot route --json` for one message."""
    county = match.county
    area: ExpertArea | None = None
    if match.status is RegionStatus.RESOLVED and county is not None:
        area = experts.area_for_county(county.code)
    return {
        "text": text,
        "status": match.status.value,
        "municipality_code": match.municipality.code if match.municipality else None,
        "county_code": county.code if county is not None else None,
        "area_code": area.id if area else None,
        "expert_id": area.experts[0].slack_user_id if area and area.experts else None,
        "candidates": [candidate.code for candidate in match.candidates],
    }


# ---------------------------------------------------------------------------------------------
# Validation


def _parse(raw: object, source: Path, regions: RegionDirectory) -> tuple[ExpertArea, ...]:
    if not isinstance(raw, Mapping) or "areas" not in raw:
        raise ExpertsFileError(f"{source}: expected a mapping with a top-level 'areas' list")
    items = raw["areas"]
    if not isinstance(items, list) or not items:
        raise ExpertsFileError(f"{source}: 'areas' must be a non-empty list")
    areas: list[ExpertArea] = []
    owner: dict[str, str] = {}
    for index, item in enumerate(items, start=1):
        area = _parse_area(item, index, source, regions)
        if any(existing.id == area.id for existing in areas):
            raise ExpertsFileError(f"{source}: area {area.id!r}: duplicate area id")
        for code in area.counties:
            if code in owner:
                raise ExpertsFileError(
                    f"{source}: area {area.id!r}: counties: county {code} is already covered "
                    f"by area {owner[code]!r} (each county must be in exactly one area)"
                )
            owner[code] = area.id
        areas.append(area)
    missing = [c.code for c in regions.reform_counties() if c.code not in owner]
    if missing:
        names = ", ".join(f"{code} {regions.county(code).short_name('fi')}" for code in missing)
        raise ExpertsFileError(f"{source}: counties not covered by any area: {names}")
    return tuple(areas)


def _parse_area(item: object, index: int, source: Path, regions: RegionDirectory) -> ExpertArea:
    where = f"{source}: area #{index}"
    if not isinstance(item, Mapping):
        raise ExpertsFileError(f"{where}: expected a mapping")
    area_id = item.get("id")
    if not isinstance(area_id, str) or not _AREA_ID_RE.match(area_id):
        raise ExpertsFileError(f"{where}: id: expected a lowercase id such as 'etela-uusimaa'")
    where = f"{source}: area {area_id!r}"
    unknown = sorted(str(key) for key in item if key not in _AREA_KEYS)
    if unknown:
        raise ExpertsFileError(f"{where}: unknown field(s): {', '.join(unknown)}")

    names = item.get("names")
    if not isinstance(names, Mapping):
        raise ExpertsFileError(f"{where}: names: expected a mapping with fi, sv and en")
    for lang in _LANGS:
        value = names.get(lang)
        if not isinstance(value, str) or not value.strip():
            raise ExpertsFileError(f"{where}: names.{lang}: missing or empty")

    counties = item.get("counties")
    if not isinstance(counties, list) or not counties:
        raise ExpertsFileError(f"{where}: counties: expected a non-empty list of county codes")
    codes: list[str] = []
    for code in counties:
        if not isinstance(code, str):
            raise ExpertsFileError(
                f'{where}: counties: {code!r} must be a quoted string such as "05"'
            )
        if not regions.has_county(code):
            raise ExpertsFileError(f"{where}: counties: unknown county code {code!r}")
        if not regions.county(code).in_reform:
            raise ExpertsFileError(
                f"{where}: counties: {code} ({regions.county(code).short_name('fi')}) is "
                "outside the reform and cannot have an expert area"
            )
        if code in codes:
            raise ExpertsFileError(f"{where}: counties: county {code} listed twice")
        codes.append(code)

    channel = item.get("slack_channel")
    if not isinstance(channel, str) or not _CHANNEL_ID_RE.match(channel):
        raise ExpertsFileError(
            f"{where}: slack_channel: missing or not a Slack channel id (e.g. C0123ABCD)"
        )

    experts_raw = item.get("experts")
    if not isinstance(experts_raw, list) or not experts_raw:
        raise ExpertsFileError(f"{where}: experts: expected a non-empty list")
    experts = tuple(
        _parse_person(person, f"{where}: experts[{n}]") for n, person in enumerate(experts_raw)
    )
    deputy_raw = item.get("deputy")
    deputy = None if deputy_raw is None else _parse_person(deputy_raw, f"{where}: deputy")

    return ExpertArea(
        id=area_id,
        name_fi=names["fi"].strip(),
        name_sv=names["sv"].strip(),
        name_en=names["en"].strip(),
        counties=tuple(codes),
        slack_channel=channel,
        experts=experts,
        deputy=deputy,
    )


def _parse_person(raw: object, where: str) -> Expert:
    if not isinstance(raw, Mapping):
        raise ExpertsFileError(f"{where}: expected a mapping with name and slack_user_id")
    unknown = sorted(str(key) for key in raw if key not in _PERSON_KEYS)
    if unknown:
        raise ExpertsFileError(f"{where}: unknown field(s): {', '.join(unknown)}")
    name = raw.get("name")
    if not isinstance(name, str) or not name.strip():
        raise ExpertsFileError(f"{where}: name: missing or empty")
    user_id = raw.get("slack_user_id")
    if not isinstance(user_id, str) or not _USER_ID_RE.match(user_id):
        raise ExpertsFileError(
            f"{where}: slack_user_id: missing or not a Slack user id (e.g. U0123ABCD)"
        )
    return Expert(name=name.strip(), slack_user_id=user_id)

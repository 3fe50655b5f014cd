"""Tests for handlers.experts: the experts YAML file and the route result object."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from handlers.experts import (
    ExpertDirectory,
    ExpertsFileError,
    default_experts_path,
    route_result,
)
from handlers.regions import RegionDirectory


@pytest.fixture(scope="module")
def regions() -> RegionDirectory:
    return RegionDirectory.load()


@pytest.fixture(scope="module")
def experts(regions: RegionDirectory) -> ExpertDirectory:
    return ExpertDirectory.load(None, regions)


def _bundled() -> Any:
    data = yaml.safe_load(default_experts_path().read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


def _write(tmp_path: Path, data: object) -> Path:
    path = tmp_path / "experts.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


def _load_broken(tmp_path: Path, regions: RegionDirectory, data: object) -> str:
    path = _write(tmp_path, data)
    with pytest.raises(ExpertsFileError) as info:
        ExpertDirectory.load(path, regions)
    message = str(info.value)
    assert str(path) in message
    return message


def _areas(data: Any) -> list[Any]:
    areas = data["areas"]
    assert isinstance(areas, list)
    return areas


# --- the bundled file ------------------------------------------------------------------------


def test_bundled_file_covers_every_county_once(
    regions: RegionDirectory, experts: ExpertDirectory
) -> None:
    codes = [code for area in experts.areas for code in area.counties]
    assert sorted(codes) == sorted(c.code for c in regions.reform_counties())
    assert len(codes) == len(set(codes)) == 22
    assert "91" not in codes
    assert len(experts.areas) == 7
    for county in regions.reform_counties():
        assert county.code in experts.area_for_county(county.code).counties


def test_bundled_file_is_marked_as_example() -> None:
    text = default_experts_path().read_text(encoding="utf-8")
    assert "EXAMPLE DATA" in text.split("areas:")[0]


def test_lookups(experts: ExpertDirectory) -> None:
    area = experts.area_for_county("90")
    assert area is experts.area(area.id)
    assert area.name("sv") and area.name("en") and area.name("fi")
    assert area.experts and area.experts[0].slack_user_id.startswith("U")
    with pytest.raises(KeyError):
        experts.area_for_county("91")
    with pytest.raises(KeyError):
        experts.area("no-such-area")


def test_path_may_be_a_string(regions: RegionDirectory) -> None:
    loaded = ExpertDirectory.load(str(default_experts_path()), regions)
    assert len(loaded.areas) == 7


# --- broken files ----------------------------------------------------------------------------


def test_missing_county(tmp_path: Path, regions: RegionDirectory) -> None:
    data = _bundled()
    area = _areas(data)[0]
    area["counties"] = [c for c in area["counties"] if c != "02"]
    message = _load_broken(tmp_path, regions, data)
    assert "not covered" in message and "02" in message and "Keski-Uusimaa" in message


def test_county_twice(tmp_path: Path, regions: RegionDirectory) -> None:
    data = _bundled()
    areas = _areas(data)
    areas[1]["counties"] = [*areas[1]["counties"], "05"]
    message = _load_broken(tmp_path, regions, data)
    assert "05" in message and "already covered" in message
    assert str(areas[1]["id"]) in message


def test_county_twice_in_one_area(tmp_path: Path, regions: RegionDirectory) -> None:
    data = _bundled()
    areas = _areas(data)
    areas[0]["counties"] = [*areas[0]["counties"], "01"]
    assert "listed twice" in _load_broken(tmp_path, regions, data)


def test_unknown_county_code(tmp_path: Path, regions: RegionDirectory) -> None:
    data = _bundled()
    areas = _areas(data)
    areas[0]["counties"] = [*areas[0]["counties"], "42"]
    message = _load_broken(tmp_path, regions, data)
    assert "unknown county code '42'" in message and str(areas[0]["id"]) in message


def test_unquoted_county_code(tmp_path: Path, regions: RegionDirectory) -> None:
    path = tmp_path / "experts.yaml"
    text = default_experts_path().read_text(encoding="utf-8").replace('"21"', "21")
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ExpertsFileError, match="quoted string"):
        ExpertDirectory.load(path, regions)


def test_aland_cannot_be_covered(tmp_path: Path, regions: RegionDirectory) -> None:
    data = _bundled()
    areas = _areas(data)
    areas[0]["counties"] = [*areas[0]["counties"], "91"]
    assert "outside the reform" in _load_broken(tmp_path, regions, data)


def test_duplicate_area_id(tmp_path: Path, regions: RegionDirectory) -> None:
    data = _bundled()
    areas = _areas(data)
    areas[1]["id"] = areas[0]["id"]
    message = _load_broken(tmp_path, regions, data)
    assert "duplicate area id" in message and str(areas[0]["id"]) in message


@pytest.mark.parametrize(
    ("field", "expected"),
    [
        ("names", "names"),
        ("slack_channel", "slack_channel"),
        ("experts", "experts"),
        ("counties", "counties"),
    ],
)
def test_missing_field(tmp_path: Path, regions: RegionDirectory, field: str, expected: str) -> None:
    data = _bundled()
    area = _areas(data)[2]
    del area[field]
    message = _load_broken(tmp_path, regions, data)
    assert expected in message and str(area["id"]) in message


def test_missing_name_language(tmp_path: Path, regions: RegionDirectory) -> None:
    data = _bundled()
    area = _areas(data)[3]
    area["names"] = {"fi": "Sisä-Suomi", "en": "Inland Finland"}
    assert "names.sv" in _load_broken(tmp_path, regions, data)


def test_bad_expert_entry(tmp_path: Path, regions: RegionDirectory) -> None:
    data = _bundled()
    area = _areas(data)[4]
    area["experts"] = [{"name": "Esimerkki", "slack_user_id": ""}]
    message = _load_broken(tmp_path, regions, data)
    assert "experts[0]" in message and "slack_user_id" in message


def test_unknown_field_is_reported(tmp_path: Path, regions: RegionDirectory) -> None:
    data = _bundled()
    area = _areas(data)[0]
    area["slack_chanel"] = area.pop("slack_channel")
    message = _load_broken(tmp_path, regions, data)
    assert "slack_chanel" in message


def test_bad_yaml(tmp_path: Path, regions: RegionDirectory) -> None:
    path = tmp_path / "experts.yaml"
    path.write_text('areas:\n  - id: x\n    counties: ["01"\n', encoding="utf-8")
    with pytest.raises(ExpertsFileError, match="invalid YAML") as info:
        ExpertDirectory.load(path, regions)
    assert str(path) in str(info.value)


def test_not_a_mapping(tmp_path: Path, regions: RegionDirectory) -> None:
    assert "areas" in _load_broken(tmp_path, regions, ["just", "a", "list"])


def test_missing_file(tmp_path: Path, regions: RegionDirectory) -> None:
    with pytest.raises(ExpertsFileError, match="cannot read"):
        ExpertDirectory.load(tmp_path / "nope.yaml", regions)


def test_error_is_a_value_error() -> None:
    assert issubclass(ExpertsFileError, ValueError)


# --- route result ----------------------------------------------------------------------------

_KEYS = {
    "text",
    "status",
    "municipality_code",
    "county_code",
    "area_code",
    "expert_id",
    "candidates",
}


def test_route_result_resolved(regions: RegionDirectory, experts: ExpertDirectory) -> None:
    text = "Olen Turusta"
    result = route_result(regions.resolve(text), experts, text)
    area = experts.area_for_county("05")
    assert result == {
        "text": text,
        "status": "resolved",
        "municipality_code": "853",
        "county_code": "05",
        "area_code": area.id,
        "expert_id": area.experts[0].slack_user_id,
        "candidates": [],
    }


def test_route_result_helsinki(regions: RegionDirectory, experts: ExpertDirectory) -> None:
    result = route_result(regions.resolve("Helsingissä"), experts, "Helsingissä")
    assert result["county_code"] == "90" and result["municipality_code"] == "091"
    assert result["area_code"] == experts.area_for_county("90").id


def test_route_result_ambiguous(regions: RegionDirectory, experts: ExpertDirectory) -> None:
    result = route_result(regions.resolve("Savossa"), experts, "Savossa")
    assert set(result) == _KEYS
    assert result["status"] == "ambiguous"
    assert result["candidates"] == ["12", "13"]
    assert result["county_code"] is None and result["area_code"] is None
    assert result["expert_id"] is None


def test_route_result_outside(regions: RegionDirectory, experts: ExpertDirectory) -> None:
    result = route_result(regions.resolve("på Åland"), experts, "på Åland")
    assert result["status"] == "outside"
    assert result["county_code"] == "91"
    assert result["area_code"] is None and result["expert_id"] is None


def test_route_result_unknown(regions: RegionDirectory, experts: ExpertDirectory) -> None:
    result = route_result(regions.resolve("Hei"), experts, "Hei")
    assert result == {
        "text": "Hei",
        "status": "unknown",
        "municipality_code": None,
        "county_code": None,
        "area_code": None,
        "expert_id": None,
        "candidates": [],
    }

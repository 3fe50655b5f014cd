"""Adapters translate, handlers decide: the core never imports a platform SDK."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FORBIDDEN = {"telegram", "slack_bolt", "slack_sdk"}


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module.split(".")[0])
    return found


def test_core_packages_do_not_import_platform_sdks() -> None:
    offenders = []
    for package in ("handlers", "storage", "schedules"):
        for path in sorted((ROOT / package).rglob("*.py")):
            leaked = _imports(path) & FORBIDDEN
            if leaked:
                offenders.append(f"{path.relative_to(ROOT)} imports {sorted(leaked)}")
    assert offenders == []


def test_the_check_would_notice_a_leak(tmp_path: Path) -> None:
    sample = tmp_path / "leak.py"
    sample.write_text("from telegram import Update\nimport slack_sdk.web\n")
    assert _imports(sample) & FORBIDDEN == {"telegram", "slack_sdk"}

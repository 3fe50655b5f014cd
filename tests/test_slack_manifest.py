"""The bundled Slack app manifest asks for what the bot uses, and points at its endpoint."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
MANIFEST = ROOT / "docs" / "slack-app-manifest.yaml"


def test_manifest_subscribes_to_the_events_the_bot_handles() -> None:
    manifest = yaml.safe_load(MANIFEST.read_text(encoding="utf-8"))
    settings = manifest["settings"]
    urls = [
        settings["event_subscriptions"]["request_url"],
        settings["interactivity"]["request_url"],
        *(c["url"] for c in manifest["features"]["slash_commands"]),
    ]
    assert all(url.endswith("/slack/events") for url in urls)
    assert [c["command"] for c in manifest["features"]["slash_commands"]] == ["/sote"]
    assert manifest["features"]["app_home"]["home_tab_enabled"] is True

    source = (ROOT / "bot" / "slack.py").read_text(encoding="utf-8")
    handled = set(re.findall(r'self\.app\.event\("(\w+)"\)', source))
    assert handled == {"message", "app_home_opened"}
    events = set(settings["event_subscriptions"]["bot_events"])
    assert {"message.channels", "message.groups", "app_home_opened"} <= events
    scopes = set(manifest["oauth_config"]["scopes"]["bot"])
    assert {"commands", "chat:write", "reactions:write", "channels:history"} <= scopes

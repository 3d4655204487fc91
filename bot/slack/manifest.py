"""The app manifest an admin pastes into api.slack.com: manifest.json as shipped (Socket Mode),
or its HTTP-mode variant with request URLs for a public host (`itaku manifest --url`)."""

from __future__ import annotations

import copy
import json
from typing import Any
from urllib.parse import urlsplit

from bot.config import project_file
from bot.slack.http import EVENTS_PATH


def load() -> dict[str, Any]:
    """manifest.json of the checkout (or of the working folder, in an installed image)."""
    data: dict[str, Any] = json.loads(project_file("manifest.json").read_text(encoding="utf-8"))
    return data


def for_http(base_url: str) -> dict[str, Any]:
    """The manifest for HTTP mode: every request URL points at POST {base}/slack/events."""
    parts = urlsplit(base_url)
    if parts.scheme != "https" or not parts.netloc:
        raise ValueError("the public URL must be https://host[:port] (Slack only calls HTTPS)")
    url = f"https://{parts.netloc}{parts.path.rstrip('/')}{EVENTS_PATH}"
    manifest = copy.deepcopy(load())
    settings = manifest["settings"]
    settings["socket_mode_enabled"] = False
    settings["event_subscriptions"]["request_url"] = url
    settings["interactivity"]["request_url"] = url
    for command in manifest["features"].get("slash_commands", []):
        command["url"] = url
    return manifest

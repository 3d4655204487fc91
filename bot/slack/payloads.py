"""Reading who acted from Slack's payloads (interactivity sends objects, slash commands ids)."""

from __future__ import annotations

from typing import Any


def team_user(body: dict[str, Any]) -> tuple[str, str]:
    """(team id or "-", user id or "") of the person behind a payload."""
    user = body.get("user") or {}
    team = body.get("team") or {}
    user_id = user.get("id") if isinstance(user, dict) else body.get("user_id")
    team_id = team.get("id") if isinstance(team, dict) else body.get("team_id")
    return str(team_id or body.get("team_id") or "-"), str(user_id or "")


def owner_of(team: object, user: object) -> str:
    """Whose a dialog is: the person, within their workspace."""
    return f"slack:{team or '-'}:{user}"


def user_of(owner: str) -> str:
    """The Slack user id in a dialog's owner (`owner_of`'s inverse)."""
    return owner.rsplit(":", 1)[-1]

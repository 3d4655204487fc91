"""Who is in a Slack user group (an approval stage may name one), for the approval policy."""

from __future__ import annotations

import logging
import threading
import time

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

log = logging.getLogger(__name__)


class GroupMembers:
    """Slack user group members (usergroups.users.list), cached for a few minutes."""

    def __init__(self, client: WebClient, ttl_s: float = 300.0) -> None:
        self.client = client
        self.ttl = ttl_s
        self._cache: dict[str, tuple[float, frozenset[str]]] = {}
        self._lock = threading.Lock()

    def __call__(self, group: str) -> frozenset[str]:
        with self._lock:
            hit = self._cache.get(group)
            if hit is not None and time.monotonic() - hit[0] < self.ttl:
                return hit[1]
        try:
            users = frozenset(self.client.usergroups_users_list(usergroup=group).get("users") or [])
        except SlackApiError as e:
            log.warning("usergroups.users.list failed: %s", e.response.get("error", "?"))
            users = frozenset()
        with self._lock:
            self._cache[group] = (time.monotonic(), users)
        return users

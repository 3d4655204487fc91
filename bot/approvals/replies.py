"""A reply in a request's thread that decides it: 承認 / 却下 理由 / 差戻し 理由 (and English).
The same words on every platform; the adapter says which request the thread belongs to."""

from __future__ import annotations

import re

from bot.approvals.service import OutcomeName

_REPLY = re.compile(
    r"^\s*(?P<word>承認|却下|差戻し|差し戻し|差戻|approve|approved|reject|rejected|changes|request changes)"
    r"(?:[\s、,:：]+(?P<reason>.*))?$",
    re.IGNORECASE | re.DOTALL,
)
_WORDS: dict[str, OutcomeName] = {
    "承認": "approved",
    "approve": "approved",
    "approved": "approved",
    "却下": "rejected",
    "reject": "rejected",
    "rejected": "rejected",
    "差戻し": "changes_requested",
    "差し戻し": "changes_requested",
    "差戻": "changes_requested",
    "changes": "changes_requested",
    "request changes": "changes_requested",
}


def parse_reply(text: str) -> tuple[OutcomeName, str | None] | None:
    """(outcome, reason) when the text decides a request, else None."""
    m = _REPLY.match(text)
    if m is None:
        return None
    outcome = _WORDS[m.group("word").lower()]
    reason = (m.group("reason") or "").strip() or None
    return outcome, reason

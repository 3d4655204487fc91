"""What the adapter sends back to Teams around a card: the invoke responses (task module
fetch/submit, adaptiveCard/action), built on the Teams SDK's own models (microsoft-teams-api),
and the file consent card for a document in a 1:1 chat."""

from __future__ import annotations

import re
from typing import Any

from microsoft_teams.api.models import Attachment
from microsoft_teams.api.models.adaptive_card import AdaptiveCardActionMessageResponse
from microsoft_teams.api.models.task_module import (
    CardTaskModuleTaskInfo,
    TaskModuleContinueResponse,
    TaskModuleMessageResponse,
    TaskModuleResponse,
)

from bot.teams.cards.base import Card, clean, plain
from bot.teams.cards.texts import lang_of, text

ADAPTIVE_CARD = "application/vnd.microsoft.card.adaptive"
ACTIVITY_MESSAGE = "application/vnd.microsoft.activity.message"
FILE_CONSENT = "application/vnd.microsoft.teams.card.file.consent"

TASK_SIZES = ("small", "medium", "large")
_UNSAFE_NAME = re.compile(r'[\\/:*?"<>|]')


def _task_size(size: str | int) -> str | int:
    if isinstance(size, int) and not isinstance(size, bool):
        return max(100, min(size, 2000))
    return size if size in TASK_SIZES else "large"


def task_continue(
    content: Card, title: str, *, height: str | int = "large", width: str | int = "large"
) -> dict[str, Any]:
    """The answer to task/fetch or task/submit that shows (or replaces) the task module's card."""
    info = CardTaskModuleTaskInfo(
        title=plain(title, 60),
        height=_task_size(height),
        width=_task_size(width),
        card=Attachment(content_type=ADAPTIVE_CARD, content=content),
    )
    return _wire(TaskModuleResponse(task=TaskModuleContinueResponse(value=info)))


def task_message(message: str) -> dict[str, Any]:
    """The answer to task/submit that closes the task module with a short message."""
    return _wire(TaskModuleResponse(task=TaskModuleMessageResponse(value=plain(message, 500))))


def card_response(content: Card) -> dict[str, Any]:
    """The answer to an adaptiveCard/action invoke: the card that replaces the one clicked (for
    the user who clicked; for a refresh, that user's own view). Written out here: the SDK's
    response model re-reads the card through its card models, which refuse the documented
    full-width setting ("msteams": {"width": "Full"})."""
    return {"statusCode": 200, "type": ADAPTIVE_CARD, "value": content}


def message_response(message: str) -> dict[str, Any]:
    """The answer to an adaptiveCard/action invoke that leaves the card as it is and tells the
    user something (a refusal, a stale card)."""
    return _wire(AdaptiveCardActionMessageResponse(value=plain(message, 500)))


def _wire(model: Any) -> dict[str, Any]:
    """The Teams SDK's model as the JSON Teams expects (camelCase, nothing unset)."""
    out: dict[str, Any] = model.model_dump(by_alias=True, exclude_none=True, mode="json")
    return out


def safe_filename(filename: str, default: str = "itaku.docx") -> str:
    """A file name with no folders, no characters Windows or OneDrive refuse, within 200."""
    name = _UNSAFE_NAME.sub("_", clean(filename).replace("\n", " ")).strip(" .")
    if len(name) > 200:
        stem, dot, ext = name.rpartition(".")
        name = stem[: 200 - len(ext) - 1] + dot + ext if dot and len(ext) <= 10 else name[:200]
    return name or default


def file_consent_card(
    filename: str,
    size_bytes: int,
    context: dict[str, Any],
    *,
    description: str | None = None,
    lang: str = "ja",
) -> dict[str, Any]:
    """The attachment that asks a user in a 1:1 chat to accept a file (the bot may upload to
    their OneDrive only then); `context` comes back in the fileConsent/invoke either way."""
    return {
        "contentType": FILE_CONSENT,
        "name": safe_filename(filename),
        "content": {
            "description": plain(description or text("file_description", lang_of(lang)), 500),
            "sizeInBytes": max(int(size_bytes), 0),
            "acceptContext": dict(context),
            "declineContext": dict(context),
        },
    }

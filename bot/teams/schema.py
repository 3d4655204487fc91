"""Bot Framework activities as the Teams adapter handles them: every inbound body is read into
these models (`read_activity`) once its token has been checked (bot/teams/auth.py), before any
handler sees it. A body that is too large, not UTF-8 JSON, nested too deep, or a handled kind whose
fields do not have the types the Bot Framework documents, is rejected (Rejected: kind and field,
never content; the adapter answers 400). A well-formed kind the app does not handle is returned
with `handled` False, to be acknowledged and dropped. Strings are cleaned first (no lone
surrogates, no control characters), as for Slack.

The models type what Itaku reads (camelCase on the wire, snake_case here: `from` is `from_`);
anything else an activity carries is kept as it came."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Annotated, Any, Literal, cast

from pydantic import ConfigDict, Field, StringConstraints, model_validator
from pydantic.alias_generators import to_camel

from bot.inbound.text import TooDeep, clean_tree
from bot.inbound.validation import Id, Name, Payload, Rejected, Text, Url, parse_as

# Teams ids are longer than Slack's: a user is "29:" and about 90 characters, a personal chat
# "a:" and up to about 200, a channel "19:…@thread.tacv2". GUIDs (tenants, AAD objects) are `Id`.
TeamsId = Annotated[str, StringConstraints(min_length=1, max_length=256)]
# where replies go (with the bot's token): an absolute http(s) URL, nothing else
ServiceUrl = Annotated[
    str, StringConstraints(max_length=2048, pattern=r"^https?://[A-Za-z0-9.\-:\[\]]+(/\S*)?$")
]
JsonObject = dict[str, Any]


class Model(Payload):
    """Strict typed fields, camelCase on the wire, everything else kept."""

    model_config = ConfigDict(alias_generator=to_camel)


# -- shared objects ------------------------------------------------------------------------------


class Account(Model):
    """A ChannelAccount: a user or the bot."""

    id: TeamsId
    name: Name | None = None
    aad_object_id: Id | None = None
    role: Name | None = None


class Conversation(Model):
    id: TeamsId
    conversation_type: Name | None = None  # personal, groupChat, channel
    tenant_id: Id | None = None
    is_group: bool | None = None
    name: Name | None = None


class TenantInfo(Model):
    id: Id


class TeamInfo(Model):
    id: TeamsId
    name: Name | None = None
    aad_group_id: Id | None = None


class ChannelInfo(Model):
    id: TeamsId
    name: Name | None = None


class ChannelData(Model):
    tenant: TenantInfo | None = None
    team: TeamInfo | None = None
    channel: ChannelInfo | None = None
    event_type: Name | None = None


class Entity(Model):
    """An entity of a message: a mention (`mentioned`, `text` "<at>name</at>"), clientInfo..."""

    type: Name
    mentioned: Account | None = None
    text: Text | None = None


class Attachment(Model):
    content_type: Name
    content_url: Url | None = None
    name: Name | None = None
    content: JsonObject | Text | None = None


class Reaction(Model):
    type: Name


class ActivityBase(Model):
    """What every activity carries, and what the token is checked against (channelId,
    serviceUrl, the tenant)."""

    type: Name
    id: TeamsId | None = None
    channel_id: Id
    service_url: ServiceUrl
    from_: Account = Field(alias="from")
    conversation: Conversation
    recipient: Account
    channel_data: ChannelData | None = None
    reply_to_id: TeamsId | None = None
    timestamp: Name | None = None
    local_timestamp: Name | None = None
    locale: Name | None = None

    @property
    def tenant_ids(self) -> tuple[str | None, str | None]:
        """The tenant as conversation.tenantId and as channelData.tenant.id (either may be
        absent; the token check refuses an activity where they differ)."""
        data = self.channel_data
        return (
            self.conversation.tenant_id,
            data.tenant.id if data is not None and data.tenant is not None else None,
        )

    @property
    def tenant_id(self) -> str | None:
        first, second = self.tenant_ids
        return first or second


# -- the kinds handled ------------------------------------------------------------------------------


class Message(ActivityBase):
    """A message to the bot; `value` is an Adaptive Card's Action.Submit data."""

    type: Literal["message"]
    text: Text | None = None
    text_format: Name | None = None
    attachments: list[Attachment] | None = Field(default=None, max_length=50)
    entities: list[Entity] | None = Field(default=None, max_length=100)
    value: JsonObject | None = None

    @property
    def mentions(self) -> list[Account]:
        return [
            e.mentioned
            for e in self.entities or []
            if e.type == "mention" and e.mentioned is not None
        ]


class ConversationUpdate(ActivityBase):
    type: Literal["conversationUpdate"]
    members_added: list[Account] | None = Field(default=None, max_length=1000)
    members_removed: list[Account] | None = Field(default=None, max_length=1000)
    topic_name: Name | None = None


class MessageReaction(ActivityBase):
    type: Literal["messageReaction"]
    reactions_added: list[Reaction] | None = Field(default=None, max_length=100)
    reactions_removed: list[Reaction] | None = Field(default=None, max_length=100)


class InstallationUpdate(ActivityBase):
    type: Literal["installationUpdate"]
    action: Name | None = None  # add, remove, add-upgrade, remove-upgrade


class InvokeBase(ActivityBase):
    type: Literal["invoke"]
    name: Name


class ExecuteAction(Model):
    type: Name | None = None  # Action.Execute
    verb: Name
    id: Name | None = None
    data: JsonObject | None = None


class CardActionValue(Model):
    action: ExecuteAction
    trigger: Name | None = None  # manual, automatic


class CardAction(InvokeBase):
    """An Adaptive Card Action.Execute (Universal Actions)."""

    name: Literal["adaptiveCard/action"]
    value: CardActionValue


class TaskValue(Model):
    data: JsonObject | None = None
    context: JsonObject | None = None


class TaskFetch(InvokeBase):
    """A dialog (task module) to open."""

    name: Literal["task/fetch"]
    value: TaskValue


class TaskSubmit(InvokeBase):
    """A dialog (task module) submitted."""

    name: Literal["task/submit"]
    value: TaskValue


class UploadInfo(Model):
    content_url: Url
    upload_url: Url
    name: Name
    unique_id: Name | None = None
    file_type: Name | None = None


class FileConsentValue(Model):
    type: Name | None = None  # fileUpload
    action: Literal["accept", "decline"]
    context: JsonObject | None = None
    upload_info: UploadInfo | None = None

    @model_validator(mode="after")
    def _accept_has_upload_info(self) -> FileConsentValue:
        if self.action == "accept" and self.upload_info is None:
            raise ValueError("an accepted file consent carries uploadInfo")
        return self


class FileConsent(InvokeBase):
    """The user's answer to a file consent card: accept (with where to upload) or decline."""

    name: Literal["fileConsent/invoke"]
    value: FileConsentValue


class OtherInvoke(InvokeBase):
    """An invoke the app does not handle (acknowledged, not dispatched)."""

    value: JsonObject | Text | None = None


class OtherActivity(ActivityBase):
    """An activity kind the app does not handle (typing, messageUpdate, event…)."""


Activity = (
    Message
    | ConversationUpdate
    | MessageReaction
    | InstallationUpdate
    | CardAction
    | TaskFetch
    | TaskSubmit
    | FileConsent
    | OtherInvoke
    | OtherActivity
)

_KINDS: dict[str, type[ActivityBase]] = {
    "message": Message,
    "conversationUpdate": ConversationUpdate,
    "messageReaction": MessageReaction,
    "installationUpdate": InstallationUpdate,
}
_INVOKES: dict[str, type[InvokeBase]] = {
    "adaptiveCard/action": CardAction,
    "task/fetch": TaskFetch,
    "task/submit": TaskSubmit,
    "fileConsent/invoke": FileConsent,
}
_KIND = re.compile(r"[A-Za-z/]{1,40}", re.ASCII)


# -- reading a body --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Inbound:
    """A validated activity: `kind` for logs (never content: "message", "invoke:task/fetch",
    "other:typing"), `handled` whether the app acts on it (otherwise acknowledge and drop)."""

    kind: str
    handled: bool
    activity: Activity


def read_activity(raw: bytes, max_bytes: int) -> Inbound:
    """Size-check, decode, clean and validate one request body; raises Rejected and nothing
    else."""
    if not isinstance(raw, bytes | bytearray):
        raise Rejected("activity", "body")
    if len(raw) > max_bytes:
        raise Rejected("activity", "size")
    try:
        text = bytes(raw).decode("utf-8")
    except UnicodeDecodeError:
        raise Rejected("activity", "encoding") from None
    try:
        data = clean_tree(json.loads(text))
    except (TooDeep, RecursionError):
        raise Rejected("activity", "depth") from None
    except ValueError:
        raise Rejected("json", "syntax") from None
    if not isinstance(data, dict):
        raise Rejected("json", "not an object")
    return check_activity(data)


def check_activity(data: dict[str, Any]) -> Inbound:
    """A cleaned, parsed activity as its model; raises Rejected."""
    kind = data.get("type")
    if not isinstance(kind, str):
        raise Rejected("activity", "type")
    if kind == "invoke":
        name = data.get("name")
        if not isinstance(name, str):
            raise Rejected("invoke", "name")
        invoke = _INVOKES.get(name)
        label = f"invoke:{_name(name)}"
        if invoke is None:
            return Inbound(label, False, parse_as(OtherInvoke, data, label))
        return Inbound(label, True, cast(Activity, parse_as(invoke, data, label)))
    model = _KINDS.get(kind)
    if model is None:
        label = f"other:{_name(kind)}"
        return Inbound(label, False, parse_as(OtherActivity, data, label))
    return Inbound(kind, True, cast(Activity, parse_as(model, data, kind)))


def _name(kind: str) -> str:
    """A kind as a log may show it (a forged kind is text, and logs hold no text)."""
    return kind if _KIND.fullmatch(kind) else "?"

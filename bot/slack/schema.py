"""Slack payloads as the app handles them: every inbound body is read into these models before
Bolt sees it (`read_inbound`). A body that is not JSON or a form, or a handled kind whose fields
do not have the types Slack documents, is rejected (400); a well-formed kind the app does not
handle is acknowledged quietly and never dispatched. Strings are cleaned first (no lone
surrogates, no control characters), so a job never meets text it cannot encode.

The models type what Bolt and the listeners read (Bolt indexes some of them without checking:
view.type, actions[0].action_id, callback_id…); anything else a payload carries is kept."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any, Literal
from urllib.parse import parse_qs, urlencode

from pydantic import Field

from bot.inbound.text import TooDeep, clean_tree
from bot.inbound.validation import Id, Name, Payload, Rejected, Text, Token, Url, parse_as

# -- shared objects --------------------------------------------------------------------------------


class IdObject(Payload):
    id: Id


class User(IdObject):
    team_id: Id | None = None
    name: Name | None = None
    username: Name | None = None


class Team(IdObject):
    domain: Name | None = None
    enterprise_id: Id | None = None


class Enterprise(IdObject):
    name: Name | None = None


class ResponseUrl(Payload):
    response_url: Url | None = None
    block_id: Name | None = None
    action_id: Name | None = None
    channel_id: Id | None = None


class Common(Payload):
    """The fields Bolt reads from any object of a payload before a listener runs (to learn
    who, where and which thread: slack_bolt.request.internals), at every level it looks:
    the body, its event, a message or previous message, an item, an assistant thread, the
    first authorization. Each may be absent; when present it has Slack's type."""

    user: Id | User | None = None
    user_id: Id | None = None
    team: Id | Team | None = None
    team_id: Id | None = None
    enterprise: Id | Enterprise | None = None
    enterprise_id: Id | None = None
    is_enterprise_install: bool | Name | None = None
    authorizations: list[Common] | None = None
    channel: Id | IdObject | None = None
    channel_id: Id | None = None
    thread_ts: Id | None = None
    user_team: Id | None = None
    message: Common | None = None
    previous_message: Common | None = None
    item: Common | None = None
    assistant_thread: Common | None = None
    view: View | None = None
    function_execution_id: Id | None = None
    function_data: dict[str, Any] | None = None
    bot_access_token: Token | None = None
    response_url: Url | None = None
    response_urls: list[ResponseUrl] | None = None
    is_ext_shared_channel: bool | None = None
    context_team_id: Id | None = None
    context_enterprise_id: Id | None = None


class Option(Payload):
    value: Token | None = None


class Container(Payload):
    type: Name | None = None
    channel_id: Id | None = None
    view_id: Id | None = None
    message_ts: Id | None = None
    thread_ts: Id | None = None
    is_ephemeral: bool | None = None


class StateElement(Payload):
    type: Name | None = None
    value: Text | None = None
    selected_option: Option | None = None
    selected_options: list[Option] | None = None
    selected_date: Name | None = None


class ViewState(Payload):
    values: dict[Name, dict[Name, StateElement]] = Field(default_factory=dict)


class View(Payload):
    id: Id
    type: Literal["modal", "home", "workflow_step"]
    callback_id: Name
    private_metadata: Text | None = None
    hash: Token | None = None
    state: ViewState | None = None
    team_id: Id | None = None
    app_installed_team_id: Id | None = None
    root_view_id: Id | None = None
    previous_view_id: Id | None = None
    external_id: Name | None = None


class Interaction(Common):
    """What every interactive payload carries."""

    team: Team | None = None
    user: User
    api_app_id: Id | None = None
    trigger_id: Token | None = None
    container: Container | None = None


class Action(Payload):
    action_id: Name
    block_id: Name | None = None
    type: Name | None = None
    value: Text | None = None
    selected_option: Option | None = None
    action_ts: Token | None = None


class BlockActions(Interaction):
    type: Literal["block_actions"]
    actions: list[Action] = Field(min_length=1, max_length=25)


class ViewSubmission(Interaction):
    type: Literal["view_submission", "view_closed"]
    view: View


class Shortcut(Interaction):
    type: Literal["shortcut", "message_action"]
    callback_id: Name


class BlockSuggestion(Interaction):
    type: Literal["block_suggestion"]
    action_id: Name
    block_id: Name | None = None
    value: Text = ""


class SlashCommand(Payload):
    command: Name = Field(pattern=r"^/")
    text: Text = ""
    user_id: Id
    team_id: Id | None = None
    enterprise_id: Id | None = None
    channel_id: Id | None = None
    trigger_id: Token | None = None
    response_url: Url | None = None
    api_app_id: Id | None = None
    user_name: Name | None = None
    channel_name: Name | None = None


# -- events ------------------------------------------------------------------------------------------


class MessageEvent(Common):
    type: Literal["message", "app_mention"]
    subtype: Name | None = None
    user: Id | None = None
    text: Text | None = None
    ts: Id
    event_ts: Id | None = None
    channel: Id | None = None
    channel_type: Name | None = None
    bot_id: Id | None = None
    bot_profile: dict[str, Any] | None = None
    edited: dict[str, Any] | None = None


class HomeOpened(Common):
    type: Literal["app_home_opened"]
    user: Id
    tab: Name | None = None
    channel: Id | None = None
    event_ts: Id | None = None


class AssistantThread(Common):
    channel_id: Id
    thread_ts: Id
    context: dict[str, Any] | None = None


class AssistantThreadEvent(Common):
    type: Literal["assistant_thread_started", "assistant_thread_context_changed"]
    assistant_thread: AssistantThread
    event_ts: Id | None = None


class AnyEvent(Payload):
    type: Name


class EventEnvelope(Common):
    type: Literal["event_callback"]
    event: dict[str, Any]
    api_app_id: Id | None = None
    event_id: Id | None = None
    event_time: int | None = None


class UrlVerification(Common):
    type: Literal["url_verification"]
    challenge: Token


Common.model_rebuild()
_KIND = re.compile(r"[a-z_]{1,40}")
_EVENTS: dict[str, type[Payload]] = {
    "message": MessageEvent,
    "app_mention": MessageEvent,
    "app_home_opened": HomeOpened,
    "assistant_thread_started": AssistantThreadEvent,
    "assistant_thread_context_changed": AssistantThreadEvent,
}
_INTERACTIONS: dict[str, type[Payload]] = {
    "block_actions": BlockActions,
    "view_submission": ViewSubmission,
    "view_closed": ViewSubmission,
    "shortcut": Shortcut,
    "message_action": Shortcut,
    "block_suggestion": BlockSuggestion,
}


# -- reading a body ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Checked:
    """A validated payload: `kind` for logs (never content), `dispatch` whether Bolt handles it
    (a well-formed kind the app does not handle is acknowledged and dropped), `data` cleaned."""

    kind: str
    dispatch: bool
    data: dict[str, Any]
    form: str = ""  # how it came: "" (JSON), "payload" (interactivity) or "command"

    def body(self) -> str:
        """The cleaned payload encoded as it came, for Bolt."""
        if self.form == "payload":
            return urlencode({"payload": json.dumps(self.data, ensure_ascii=False)})
        if self.form == "command":
            return urlencode(self.data)
        return json.dumps(self.data, ensure_ascii=False)


def read_inbound(raw: str, content_type: str) -> Checked:
    """Parse, clean and validate one HTTP request body; raises Rejected."""
    form = content_type.split(";")[0].strip().lower() == "application/x-www-form-urlencoded"
    try:
        return _read_form(raw) if form else _read_json(raw)
    except (TooDeep, RecursionError):
        raise Rejected("payload", "depth") from None


def check_socket(request_type: str, payload: object) -> Checked:
    """Clean and validate a Socket Mode request's payload (already parsed by the client)."""
    try:
        data = clean_tree(payload)
        if not isinstance(data, dict):
            raise Rejected(_name(request_type), "not an object")
        if request_type == "events_api":
            return check_envelope(data)
        if request_type == "interactive":
            return check_interaction(data)
        if request_type == "slash_commands":
            return check_command(data)
    except (TooDeep, RecursionError):
        raise Rejected("payload", "depth") from None
    return Checked(f"socket:{_name(request_type)}", False, {})


def check_envelope(data: dict[str, Any]) -> Checked:
    """An Events API body (url_verification, event_callback, or another kind, dropped)."""
    kind = data.get("type")
    if kind == "url_verification":
        parse_as(UrlVerification, data, "url_verification")
        return Checked("url_verification", True, data)
    if kind != "event_callback":
        if not isinstance(kind, str):
            raise Rejected("json", "type")
        return Checked(f"other:{_name(kind)}", False, data)
    envelope = parse_as(EventEnvelope, data, "event_callback")
    event_kind = envelope.event.get("type")
    if not isinstance(event_kind, str):
        raise Rejected("event", "event.type")
    model = _EVENTS.get(event_kind)
    if model is None:
        parse_as(AnyEvent, envelope.event, "event")
        return Checked(f"event:{_name(event_kind)}", False, data)
    parse_as(model, envelope.event, f"event:{event_kind}")
    return Checked(f"event:{event_kind}", True, data)


def check_interaction(data: dict[str, Any]) -> Checked:
    kind = data.get("type")
    if not isinstance(kind, str):
        raise Rejected("interaction", "type")
    model = _INTERACTIONS.get(kind)
    if model is None:
        return Checked(f"interaction:{_name(kind)}", False, data, "payload")
    parse_as(model, data, kind)
    return Checked(kind, True, data, "payload")


def check_command(data: dict[str, Any]) -> Checked:
    parse_as(SlashCommand, data, "command")
    return Checked("command", True, data, "command")


def _name(kind: str) -> str:
    """A payload's kind as a log may show it (a forged kind is text, and logs hold no text)."""
    return kind if _KIND.fullmatch(kind) else "?"


def _read_json(raw: str) -> Checked:
    try:
        data = clean_tree(json.loads(raw))
    except ValueError:
        raise Rejected("json", "syntax") from None
    if not isinstance(data, dict):
        raise Rejected("json", "not an object")
    return check_envelope(data)


def _read_form(raw: str) -> Checked:
    try:
        fields = parse_qs(raw, keep_blank_values=True, strict_parsing=bool(raw), max_num_fields=200)
    except ValueError:
        raise Rejected("form", "syntax") from None
    if any(len(values) != 1 for values in fields.values()):
        raise Rejected("form", "repeated field")
    flat = clean_tree({k: v[0] for k, v in fields.items()})
    if "payload" in flat:
        try:
            data = clean_tree(json.loads(flat["payload"]))
        except ValueError:
            raise Rejected("interaction", "syntax") from None
        if not isinstance(data, dict):
            raise Rejected("interaction", "not an object")
        return check_interaction(data)
    if "command" in flat:
        return check_command(flat)
    if "ssl_check" in flat:  # Slack checking the certificate of a slash command's URL
        return Checked("ssl_check", False, {})
    raise Rejected("form", "neither payload nor command")

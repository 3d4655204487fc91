"""Teams activities read into their models (bot/teams/schema.py): each kind Itaku handles, each
way a body can be wrong, and hostile bodies (hypothesis) that only ever get Rejected."""

from __future__ import annotations

import copy
import json
import os
import re
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.inbound.validation import Rejected
from bot.teams.schema import (
    CardAction,
    ConversationUpdate,
    FileConsent,
    Inbound,
    InstallationUpdate,
    Message,
    MessageReaction,
    OtherActivity,
    OtherInvoke,
    TaskFetch,
    TaskSubmit,
    read_activity,
)

EXAMPLES = int(os.environ.get("ITAKU_FUZZ_EXAMPLES", "100"))
MAX = 64 * 1024
TENANT = "72f988bf-86f1-41af-91ab-2d7cd011db47"
USER = "29:1GcS4EyB_oSI8A88XmWBN7NJFyMqe3QGnJdgLfFGkJnVelzRGos0bPbpsfJjcbAD22bmKc4GMbrY2g4JDrrA8vM06X1-cHHle4zOE6U4ttcc"
PERSONAL = "a:1pL6i0Ult2ygHf8hY7xZ-8w0mJGNsB9PX4OvZrGjlFA9KcbhJoFHwjvdPy7gqYq7gXqRXUVgj5TAXRkr1KHZp_2vFeXhRGQKv8_SYOfbdqzmNDbHPRrAghwEnkZ6ueSDD"
CHANNEL = "19:e4b1f7a3c0d94f3f8a6b5a3c2d1e0f9a@thread.tacv2;messageid=1481567603816"
BOT = "28:00000000-0000-4000-8000-0000000017a1"


def base(kind: str, **fields: Any) -> dict[str, Any]:
    activity: dict[str, Any] = {
        "type": kind,
        "id": "1481567603816",
        "timestamp": "2026-12-01T00:00:00.000Z",
        "localTimestamp": "2026-12-01T09:00:00.000+09:00",
        "channelId": "msteams",
        "serviceUrl": "https://smba.trafficmanager.net/apac/",
        "from": {
            "id": USER,
            "name": "委託 太郎",
            "aadObjectId": "6d1e9f58-5bb3-4c5b-9fb8-3f1b7d7c9a01",
        },
        "conversation": {"id": PERSONAL, "conversationType": "personal", "tenantId": TENANT},
        "recipient": {"id": BOT, "name": "Itaku"},
        "channelData": {"tenant": {"id": TENANT}},
        "locale": "ja-JP",
        "entities": [{"type": "clientInfo", "locale": "ja-JP", "platform": "Web"}],
    }
    activity.update(fields)
    return activity


def channel_message() -> dict[str, Any]:
    return base(
        "message",
        text="<at>Itaku</at> 再委託の条件は？",
        textFormat="plain",
        conversation={
            "id": CHANNEL,
            "conversationType": "channel",
            "tenantId": TENANT,
            "isGroup": True,
        },
        entities=[
            {"type": "mention", "mentioned": {"id": BOT, "name": "Itaku"}, "text": "<at>Itaku</at>"}
        ],
        channelData={
            "tenant": {"id": TENANT},
            "team": {"id": "19:team@thread.tacv2", "name": "法務", "aadGroupId": TENANT},
            "channel": {"id": "19:e4b1@thread.tacv2", "name": "General"},
            "teamsTeamId": "19:team@thread.tacv2",
        },
    )


SAMPLES: dict[str, tuple[dict[str, Any], type, bool]] = {
    "message": (base("message", text="再委託とは？", textFormat="plain"), Message, True),
    "channel_message": (channel_message(), Message, True),
    "card_submit": (
        base("message", value={"action": "approve", "requestId": "R-1"}, replyToId="1481567603000"),
        Message,
        True,
    ),
    "file_in_chat": (
        base(
            "message",
            text="",
            attachments=[
                {
                    "contentType": "application/vnd.microsoft.teams.file.download.info",
                    "name": "契約書.docx",
                    "content": {"downloadUrl": "https://x.example/d", "fileType": "docx"},
                },
                {"contentType": "text/html", "content": "<div>本文</div>"},
            ],
        ),
        Message,
        True,
    ),
    "members_added": (
        base("conversationUpdate", membersAdded=[{"id": BOT}, {"id": USER}]),
        ConversationUpdate,
        True,
    ),
    "channel_created": (
        base(
            "conversationUpdate",
            channelData={
                "tenant": {"id": TENANT},
                "eventType": "channelCreated",
                "channel": {"id": "19:new@thread.tacv2", "name": "新規"},
                "team": {"id": "19:team@thread.tacv2"},
            },
        ),
        ConversationUpdate,
        True,
    ),
    "card_action": (
        base(
            "invoke",
            name="adaptiveCard/action",
            value={
                "action": {"type": "Action.Execute", "verb": "approve", "data": {"id": "R-1"}},
                "trigger": "manual",
            },
        ),
        CardAction,
        True,
    ),
    "task_fetch": (
        base("invoke", name="task/fetch", value={"data": {"msteams": {"type": "task/fetch"}}}),
        TaskFetch,
        True,
    ),
    "task_submit": (
        base("invoke", name="task/submit", value={"data": {"company": "株式会社A"}}),
        TaskSubmit,
        True,
    ),
    "file_accept": (
        base(
            "invoke",
            name="fileConsent/invoke",
            value={
                "type": "fileUpload",
                "action": "accept",
                "context": {"draft": "nda-1"},
                "uploadInfo": {
                    "contentUrl": "https://contoso.sharepoint.com/a.docx",
                    "name": "NDA.docx",
                    "uploadUrl": "https://contoso.sharepoint.com/upload?x=1",
                    "uniqueId": "1150D938-8870-4044-9F2C-5BBDEBA70C9D",
                    "fileType": "docx",
                },
            },
        ),
        FileConsent,
        True,
    ),
    "file_decline": (
        base("invoke", name="fileConsent/invoke", value={"action": "decline", "context": {}}),
        FileConsent,
        True,
    ),
    "reaction": (
        base("messageReaction", reactionsAdded=[{"type": "like"}], replyToId="1481567603000"),
        MessageReaction,
        True,
    ),
    "installed": (base("installationUpdate", action="add"), InstallationUpdate, True),
    "typing": (base("typing"), OtherActivity, False),
    "other_invoke": (
        base("invoke", name="composeExtension/query", value={"commandId": "search"}),
        OtherInvoke,
        False,
    ),
}


def read(activity: object, max_bytes: int = MAX) -> Inbound:
    return read_activity(json.dumps(activity, ensure_ascii=False).encode("utf-8"), max_bytes)


def rejected(raw: bytes | object, max_bytes: int = MAX) -> tuple[str, str]:
    data = raw if isinstance(raw, bytes) else json.dumps(raw).encode("utf-8")
    with pytest.raises(Rejected) as caught:
        read_activity(data, max_bytes)
    return caught.value.kind, caught.value.field


# -- what is handled ----------------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(SAMPLES))
def test_each_kind_reads_into_its_model(name: str) -> None:
    activity, model, handled = SAMPLES[name]
    inbound = read(activity)
    assert type(inbound.activity) is model
    assert inbound.handled is handled
    assert inbound.activity.channel_id == "msteams"
    assert inbound.activity.tenant_id == TENANT
    assert inbound.activity.from_.id == USER


def test_fields_as_the_adapter_reads_them() -> None:
    message = read(channel_message()).activity
    assert isinstance(message, Message)
    assert message.conversation.is_group is True
    assert message.conversation.conversation_type == "channel"
    assert [m.id for m in message.mentions] == [BOT]
    assert message.channel_data is not None and message.channel_data.team is not None
    assert message.channel_data.team.name == "法務"
    assert message.model_extra == {}
    assert message.channel_data.model_extra == {"teamsTeamId": "19:team@thread.tacv2"}

    action = read(SAMPLES["card_action"][0])
    assert action.kind == "invoke:adaptiveCard/action"
    assert isinstance(action.activity, CardAction)
    assert action.activity.value.action.verb == "approve"
    assert action.activity.value.action.data == {"id": "R-1"}

    consent = read(SAMPLES["file_accept"][0]).activity
    assert isinstance(consent, FileConsent) and consent.value.upload_info is not None
    assert consent.value.upload_info.upload_url.startswith("https://")

    assert read(SAMPLES["typing"][0]).kind == "other:typing"
    assert read(SAMPLES["other_invoke"][0]).kind == "invoke:composeExtension/query"


def test_text_is_cleaned() -> None:
    dirty = base("message", text="再委託\u0000\u200bの条件\x1b[31m？\n次行")
    message = read(dirty).activity
    assert isinstance(message, Message)
    assert message.text == "再委託の条件[31m？\n次行"
    raw = json.dumps(base("message", text="x")).replace('"x"', '"\\udfff\\u0007"').encode()
    assert read_activity(raw, MAX).activity.text == ""  # type: ignore[union-attr]


# -- what is rejected, and where -----------------------------------------------------------------


def test_size_encoding_syntax_and_depth() -> None:
    good = json.dumps(SAMPLES["message"][0]).encode()
    assert rejected(good, max_bytes=len(good) - 1) == ("activity", "size")
    assert rejected(b"\xff\xfe\x00") == ("activity", "encoding")
    assert rejected(b"{not json") == ("json", "syntax")
    assert rejected(b"") == ("json", "syntax")
    assert rejected(b'"a string"') == ("json", "not an object")
    assert rejected(b"[]") == ("json", "not an object")
    assert rejected(b"[" * 50_000 + b"]" * 50_000, max_bytes=200_000) == ("activity", "depth")
    deep: Any = "x"
    for _ in range(40):
        deep = {"a": deep}
    assert rejected(base("message", value=deep)) == ("activity", "depth")
    assert rejected(b"1" * 5000) == ("json", "syntax")  # past Python's digit limit
    with pytest.raises(Rejected) as caught:
        read_activity(bytearray(b"{}"), MAX)
    assert (caught.value.kind, caught.value.field) == ("activity", "type")


def mutate(activity: dict[str, Any], path: str | tuple[str, ...], value: Any) -> dict[str, Any]:
    """`path`: keys from the top, as a tuple, or dotted (for readable fixed cases)."""
    out = copy.deepcopy(activity)
    *parents, last = path.split(".") if isinstance(path, str) else path
    node = out
    for part in parents:
        node = node[part]
    if value is ...:
        del node[last]
    else:
        node[last] = value
    return out


MESSAGE = SAMPLES["message"][0]


@pytest.mark.parametrize(
    ("path", "value", "where"),
    [
        ("type", 5, ("activity", "type")),
        ("channelId", 5, ("message", "channelId")),
        ("channelId", ..., ("message", "channelId")),
        ("serviceUrl", "javascript:alert(1)", ("message", "serviceUrl")),
        ("serviceUrl", "https://x.example/" + "a" * 3000, ("message", "serviceUrl")),
        ("serviceUrl", ..., ("message", "serviceUrl")),
        ("from", ..., ("message", "from")),
        ("from.id", "", ("message", "from.id")),
        ("from.id", "29:" + "x" * 300, ("message", "from.id")),
        ("from.aadObjectId", "g" * 41, ("message", "from.aadObjectId")),
        ("from.name", 5, ("message", "from.name")),
        ("conversation.id", ["x"], ("message", "conversation.id")),
        ("conversation.isGroup", "true", ("message", "conversation.isGroup")),
        ("conversation.tenantId", 1, ("message", "conversation.tenantId")),
        ("channelData.tenant.id", None, ("message", "channelData.tenant.id")),
        ("recipient", "bot", ("message", "recipient")),
        ("text", 42, ("message", "text")),
        ("text", "a" * 40_001, ("message", "text")),
        ("value", "approve", ("message", "value")),
        ("entities", {"type": "mention"}, ("message", "entities")),
        ("entities", [{"type": "x"}] * 101, ("message", "entities")),
        (
            "entities",
            [{"type": "mention", "mentioned": {"id": 5}}],
            ("message", "entities.0.mentioned.id"),
        ),
        ("replyToId", "1" * 300, ("message", "replyToId")),
    ],
)
def test_wrong_fields_are_named(path: str, value: Any, where: tuple[str, str]) -> None:
    assert rejected(mutate(MESSAGE, path, value)) == where


@pytest.mark.parametrize(
    ("sample", "path", "value", "where"),
    [
        ("card_action", "name", 5, ("invoke", "name")),
        ("card_action", "name", ..., ("invoke", "name")),
        (
            "card_action",
            "value.action.verb",
            ...,
            ("invoke:adaptiveCard/action", "value.action.verb"),
        ),
        (
            "card_action",
            "value.action.data",
            "approve",
            ("invoke:adaptiveCard/action", "value.action.data"),
        ),
        ("card_action", "value", ..., ("invoke:adaptiveCard/action", "value")),
        ("task_fetch", "value.data", [1], ("invoke:task/fetch", "value.data")),
        ("task_submit", "value", None, ("invoke:task/submit", "value")),
        ("file_accept", "value.action", "maybe", ("invoke:fileConsent/invoke", "value.action")),
        ("file_accept", "value.uploadInfo", ..., ("invoke:fileConsent/invoke", "value")),
        (
            "file_accept",
            "value.uploadInfo.uploadUrl",
            7,
            ("invoke:fileConsent/invoke", "value.uploadInfo.uploadUrl"),
        ),
        (
            "members_added",
            "membersAdded",
            [{"name": "x"}],
            ("conversationUpdate", "membersAdded.0.id"),
        ),
        ("reaction", "reactionsAdded", [{"type": 1}], ("messageReaction", "reactionsAdded.0.type")),
        ("installed", "action", ["add"], ("installationUpdate", "action")),
        ("typing", "from", ..., ("other:typing", "from")),
    ],
)
def test_wrong_fields_of_each_kind(
    sample: str, path: str, value: Any, where: tuple[str, str]
) -> None:
    assert rejected(mutate(SAMPLES[sample][0], path, value)) == where


def test_a_forged_kind_is_not_logged_as_given() -> None:
    kind, _ = rejected(mutate(MESSAGE, "type", "<script>秘密</script>") | {"from": 1})
    assert kind == "other:?"
    kind, _ = rejected(base("invoke", name="漏えい 報告", value=None) | {"channelId": 1})
    assert kind == "invoke:?"


# -- hostile bodies: Rejected or a model, nothing else --------------------------------------------

SAFE_FIELD = re.compile(r"[A-Za-z_0-9.*]{0,120}")

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=True)
    | st.text(max_size=50)
    | st.sampled_from(
        ["msteams", "message", "invoke", "https://x.example/", "adaptiveCard/action"]
    ),
    lambda children: (
        st.lists(children, max_size=5)
        | st.dictionaries(
            st.sampled_from(
                ["type", "id", "from", "text", "value", "name", "action", "data", "tenant", "x"]
            )
            | st.text(max_size=10),
            children,
            max_size=5,
        )
    ),
    max_leaves=30,
)


def paths(value: Any, prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    """Every key path in `value`, as tuples: generated keys may hold dots themselves."""
    out: list[tuple[str, ...]] = []
    if isinstance(value, dict):
        for key, child in value.items():
            here = (*prefix, key)
            out.append(here)
            out.extend(paths(child, here))
    return out


def survives(raw: bytes) -> None:
    try:
        inbound = read_activity(raw, MAX)
    except Rejected as e:
        assert SAFE_FIELD.fullmatch(e.field) or e.field in ("not an object",), e.field
        return
    assert isinstance(inbound, Inbound)


HYPOTHESIS = settings(
    max_examples=EXAMPLES,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)


@HYPOTHESIS
@given(st.binary(max_size=2000))
def test_random_bytes(raw: bytes) -> None:
    survives(raw)


@HYPOTHESIS
@given(json_values)
def test_random_json(value: Any) -> None:
    survives(json.dumps(value).encode("utf-8"))


@HYPOTHESIS
@given(st.sampled_from(sorted(SAMPLES)), st.data())
def test_mutated_activities(name: str, data: st.DataObject) -> None:
    activity = copy.deepcopy(SAMPLES[name][0])
    for _ in range(data.draw(st.integers(1, 3))):
        where = paths(activity)
        if not where:
            break
        path = data.draw(st.sampled_from(where))
        value = data.draw(st.just(...) | json_values)
        activity = mutate(activity, path, value)
    survives(json.dumps(activity, ensure_ascii=False).encode("utf-8"))


@HYPOTHESIS
@given(st.sampled_from(sorted(SAMPLES)), st.integers(0, 10_000), st.binary(min_size=1, max_size=8))
def test_corrupted_bytes(name: str, at: int, junk: bytes) -> None:
    raw = json.dumps(SAMPLES[name][0], ensure_ascii=False).encode("utf-8")
    at %= len(raw)
    survives(raw[:at] + junk + raw[at + len(junk) :])

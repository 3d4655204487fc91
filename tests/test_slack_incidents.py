"""Incidents in Slack end to end through the Web API stand-in: `/incident` (and `/itaku
incident`) runs the intake in modals, the card is posted to the incident channel with the
timeline and the checklist as buttons, the reasoning with its sources in its thread, the draft
report (.docx and Markdown) in the reporter's DM; a click marks a step (compare-and-set, the
card updated; a stale or simultaneous click is told privately); reminders once from two
replicas on one database; facts updated from the DM's button."""

from __future__ import annotations

import datetime as dt
import io
import json
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import docx
import pytest
from sqlalchemy import select

from bot.bench.slack_requests import submitted_view
from bot.incidents.deadlines import today_in_japan
from bot.slack import ids
from bot.store import audit
from bot.store.tables import AuditEntry
from tests.slack_harness import SlackHarness

CHANNEL = "C0INCIDENTS"
STEPS: dict[str, dict[str, Any]] = {
    "what": {
        "contractor": "株式会社ミドリ給与サービス",
        "what_happened": "委託先の担当者が顧客名簿を入れたUSBメモリを紛失した",
    },
    "when": {"learned_on": "2026-11-02"},
    "data": {"data_kinds": ["name", "address"], "sensitive": "no", "financial_damage": "no"},
    "people": {"people": "2400", "people_is_maximum": "true"},
    "cause": {"cause": "unknown"},
    "encryption": {"encrypted": "false"},
}


@pytest.fixture()
def slack(tmp_path: Path, bundled_assistant: Any):  # type: ignore[no-untyped-def]
    harness = SlackHarness(
        bundled_assistant, f"sqlite:///{tmp_path / 'itaku.db'}", ITAKU_INCIDENTS_CHANNEL=CHANNEL
    )
    yield harness
    harness.close()


def step_of(view: dict[str, Any]) -> str:
    return str(view["private_metadata"]).split(".")[1]


def open_intake(slack: SlackHarness, text: str = "", command: str = "/incident") -> dict[str, Any]:
    reply = slack.sender.command(text, slack.standin.response_url("inc"), command=command)
    assert reply.status == 200
    return slack.standin.calls_to("views.open")[-1].params["view"]


def submit(slack: SlackHarness, view: dict[str, Any], values: dict[str, Any]) -> dict[str, Any]:
    reply = slack.sender.view_submission(submitted_view(view, values))
    assert reply.status == 200
    return reply.json() if reply.body else {}


def walk(
    slack: SlackHarness, view: dict[str, Any], answers: dict[str, dict[str, Any]] = STEPS
) -> dict[str, Any]:
    while step_of(view) != "review":
        result = submit(slack, view, answers[step_of(view)])
        assert result["response_action"] == "update", result
        view = result["view"]
    return view


def file_incident(slack: SlackHarness) -> str:
    review = walk(slack, open_intake(slack))
    assert submit(slack, review, {}) == {"response_action": "clear"}
    assert slack.settle()
    return card(slack)["blocks"][0]["text"]["text"].split("*")[1].split()[-1]


def card(slack: SlackHarness) -> dict[str, Any]:
    [message] = [
        m for m in slack.standin.messages.values() if m.channel == CHANNEL and not m.thread_ts
    ]
    return {"ts": message.ts, "blocks": message.blocks, "text": message.text, "m": message}


def thread_texts(slack: SlackHarness) -> list[str]:
    return [
        json.dumps(m.blocks or m.text, ensure_ascii=False)
        for m in slack.standin.thread(CHANNEL, card(slack)["ts"])
    ]


def button_value(slack: SlackHarness, step: str) -> str:
    [block] = [b for b in card(slack)["blocks"] if b.get("block_id", "").endswith("_" + step)]
    return str(block["accessory"]["value"])


def click(slack: SlackHarness, value: str, user: str) -> None:
    url = slack.standin.response_url(f"click-{user}", channel=CHANNEL)
    reply = slack.sender.block_action(ids.INCIDENT_STEP, value, url, user=user, channel=CHANNEL)
    assert reply.status == 200


def told(slack: SlackHarness, user: str) -> list[str]:
    return [r.params.get("text", "") for r in slack.standin.responses(f"click-{user}")]


def trail(slack: SlackHarness) -> list[AuditEntry]:
    with slack.db.session() as s:
        return list(s.execute(select(AuditEntry).order_by(AuditEntry.seq)).scalars())


def test_from_command_to_card_reasoning_and_report(slack: SlackHarness) -> None:
    view = open_intake(slack)
    assert view["callback_id"] == ids.DIALOG_VIEW and step_of(view) == "what"
    assert "出典" in json.dumps(view["blocks"], ensure_ascii=False)  # guidance with its source
    incident_id = file_incident(slack)
    assert incident_id == "IN-000001"
    blocks = json.dumps(card(slack)["blocks"], ensure_ascii=False)
    assert "株式会社ミドリ給与サービス" in blocks and "報告が必要" in blocks
    assert "2026年11月2日（月）" in blocks  # 発覚日
    assert "2026年11月4日（水）～2026年11月6日（金）" in blocks  # the 速報 target window
    assert "2026年12月1日（火）まで" in blocks  # 確報 (30 days while item 3 is open)
    assert "2027年1月4日（月）まで" in blocks  # the 60-day date, should item 3 apply
    assert blocks.count(ids.INCIDENT_STEP) == 6 and "完了にする" in blocks
    [reasoning] = thread_texts(slack)
    assert "第4号" in reasoning and "出典" in reasoning and "規則第7条第4号" in reasoning
    uploads = {u.filename: u for u in slack.standin.uploads.values()}
    [docx_name] = [n for n in uploads if n.endswith(".docx")]
    [md_name] = [n for n in uploads if n.endswith(".md")]
    assert uploads[docx_name].channel == "D0ALICE" and uploads[docx_name].completed
    document = docx.Document(io.BytesIO(uploads[docx_name].content or b""))
    body = "\n".join(p.text for p in document.paragraphs)
    assert "2,400人" in body and "（9）その他参考となる事項" in body
    assert "（1）概要" in (uploads[md_name].content or b"").decode("utf-8")
    dm = json.dumps(
        [m.blocks for m in slack.standin.messages.values() if m.channel == "D0ALICE"],
        ensure_ascii=False,
    )
    assert incident_id in dm and "C0INCIDENTS" in dm and ids.DRAFT_EDIT in dm and "出典" in dm
    assert [e.action for e in trail(slack)] == ["incident_filed"]


def test_a_click_marks_a_step_and_the_card_follows(slack: SlackHarness) -> None:
    incident_id = file_incident(slack)
    stale = button_value(slack, "facts_confirmed")
    click(slack, button_value(slack, "containment"), "U0BOB")
    assert slack.settle()
    blocks = json.dumps(card(slack)["blocks"], ensure_ascii=False)
    assert "<@U0BOB>" in blocks and "未完了に戻す" in blocks and "第2版" in blocks
    click(slack, stale, "U0CAROL")  # a button of the card as it was
    assert slack.settle()
    assert any("更新されています" in t for t in told(slack, "U0CAROL"))
    click(slack, button_value(slack, "facts_confirmed"), "U0CAROL")
    assert slack.settle()
    steps = [e.details.get("step") for e in trail(slack) if e.action == "incident_step"]
    assert steps == ["containment", "facts_confirmed"]
    assert all(e.request_id == incident_id for e in trail(slack))
    assert audit.verify(slack.db).ok


def test_simultaneous_clicks_record_one_and_tell_the_other(slack: SlackHarness) -> None:
    file_incident(slack)
    value = button_value(slack, "containment")
    start = threading.Barrier(2)

    def press(user: str) -> None:
        start.wait()
        click(slack, value, user)

    with ThreadPoolExecutor(2) as pool:
        list(pool.map(press, ["U0BOB", "U0CAROL"]))
    assert slack.settle()
    assert [e.action for e in trail(slack)].count("incident_step") == 1
    refused = told(slack, "U0BOB") + told(slack, "U0CAROL")
    assert len(refused) == 1 and "すでに完了" in refused[0]


def test_a_forged_click_is_ignored(slack: SlackHarness) -> None:
    file_incident(slack)
    click(slack, "IN-000001:containment:x:done", "U0MALLORY")
    click(slack, "SR-000001:containment:1:done", "U0MALLORY")
    assert slack.settle()
    assert [e.action for e in trail(slack)] == ["incident_filed"]


def test_bad_answers_are_shown_beside_the_field(slack: SlackHarness) -> None:
    view = open_intake(slack)
    unknown = submit(slack, view, {"contractor": "CT-000042", "what_happened": "紛失"})
    assert unknown["response_action"] == "errors"
    assert "台帳にありません" in unknown["errors"]["f_contractor"]
    second = submit(slack, view, STEPS["what"])["view"]
    tomorrow = today_in_japan() + dt.timedelta(days=1)
    future = submit(slack, second, {"learned_on": tomorrow.isoformat()})
    assert "未来の日付" in future["errors"]["f_learned_on"]
    impossible = submit(slack, second, {"learned_on": "2026-02-29"})
    assert "2026年2月は28日まで" in impossible["errors"]["f_learned_on"]


def test_itaku_incident_opens_the_same_dialog(slack: SlackHarness) -> None:
    view = open_intake(slack, "incident", command="/itaku")
    assert step_of(view) == "what"


def test_reminders_are_sent_once_across_replicas(
    slack: SlackHarness, bundled_assistant: Any
) -> None:
    file_incident(slack)
    other = SlackHarness(
        bundled_assistant, str(slack.db.engine.url), ITAKU_INCIDENTS_CHANNEL=CHANNEL
    )
    try:
        assert slack.rt.incidents is not None and other.rt.incidents is not None
        desks = [slack.rt.incidents, other.rt.incidents]
        day = dt.date(2026, 11, 28)  # 速報's target passed, 確報 in 3 days
        with ThreadPoolExecutor(2) as pool:
            list(pool.map(lambda d: d.sweep(day), desks))
        assert slack.settle() and other.settle()
        reminders = [t for t in thread_texts(slack) if ":alarm_clock:" in t]
        reminders += [m.text for m in other.standin.messages.values() if ":alarm_clock:" in m.text]
        assert len(reminders) == 2 and all("<@U0ALICE>" in r for r in reminders)
        assert any("確報の期限は2026年12月1日（火）です（あと3日です）" in r for r in reminders)
        for desk in desks:
            assert desk.sweep(day) == 0
    finally:
        other.close()
    assert [e.action for e in trail(slack)].count("incident_reminded") == 2


def test_facts_updated_from_the_dm(slack: SlackHarness) -> None:
    file_incident(slack)
    dialog_id = next(
        e["value"]
        for m in slack.standin.messages.values()
        if m.channel == "D0ALICE"
        for b in m.blocks
        if b.get("type") == "actions"
        for e in b["elements"]
        if e.get("action_id") == ids.DRAFT_EDIT
    )
    slack.sender.view_action(
        {"action_id": ids.DRAFT_EDIT, "type": "button", "value": dialog_id}, {}
    )
    assert slack.settle()
    review = slack.standin.calls_to("views.open")[-1].params["view"]
    assert step_of(review) == "review"
    goto = slack.sender.view_action(
        {
            "action_id": ids.DIALOG_GOTO,
            "type": "static_select",
            "selected_option": {"value": "cause"},
        },
        review,
    )
    assert goto.status == 200 and slack.settle()
    cause = slack.standin.calls_to("views.update")[-1].params["view"]
    assert step_of(cause) == "cause"
    review = walk(slack, cause, {**STEPS, "cause": {"cause": "theft"}})
    assert submit(slack, review, {}) == {"response_action": "clear"}
    assert slack.settle()
    blocks = json.dumps(card(slack)["blocks"], ensure_ascii=False)
    assert "第2版" in blocks and "2027年1月4日（月）まで（60日以内" in blocks
    assert any("第2版" in t and "盗難" in t for t in thread_texts(slack))
    assert [e.action for e in trail(slack)] == ["incident_filed", "incident_facts_updated"]

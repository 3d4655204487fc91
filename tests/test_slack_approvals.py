"""Subcontracting requests in Slack end to end: filed with /subcontract, posted to the approvals
channel, decided by buttons, reason modals and thread replies; refusals, simultaneous clicks,
resubmission, reminders once, catching up after a crash, App Home."""

from __future__ import annotations

import json
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select, update

from bot.approvals.service import Result
from bot.bench.slack_requests import submitted_view
from bot.delivery.requests import RequestDesk
from bot.slack import ids
from bot.store import audit
from bot.store.tables import AuditEntry, RevisionRecord, utcnow
from tests.slack_harness import SlackHarness

POLICY = """
channel: C0APPROVALS
remind_after_hours: 24
escalate_after_hours: 72
escalation: [U0CISO]
levels:
  low: {stages: [{name: 部門長, approvers: [U0MANAGER, U0DEPUTY]}]}
  medium: {stages: [{name: 部門長, approvers: [U0MANAGER, U0DEPUTY]}]}
  high:
    stages:
      - {name: 部門長, approvers: [U0MANAGER, U0DEPUTY]}
      - {name: 情報セキュリティ部, approvers: [S0SECURITY]}
"""

STEPS: dict[str, dict[str, Any]] = {
    "contract": {
        "our_contract": "顧客管理システム運用委託契約",
        "contractor_name": "株式会社委託先",
    },
    "subcontractor": {
        "subcontractor_name": "株式会社再委託先",
        "subcontractor_address": "東京都千代田区1-1",
        "subcontractor_country": "日本",
    },
    "work": {"work_description": "問い合わせ窓口の一次対応", "reason": "繁忙期の人員不足"},
    "data": {
        "personal_data": "false",
        "sensitive_data": "false",
        "my_number": "false",
        "confidential_business_data": "false",
    },
    "location": {"overseas_processing": "false"},
    "security": {"certifications": ["isms"], "last_assessed": "2026-10-01"},
    "further": {"further_subcontracting": "false"},
    "supervision": {},
    "period": {"period_start": "2027-04-01", "period_end": "2028-03-31"},
}
HIGH = {
    **STEPS,
    "data": {
        "personal_data": "true",
        "sensitive_data": "false",
        "my_number": "true",
        "confidential_business_data": "false",
    },
    "data_detail": {"personal_data_count": "5000"},
}


@pytest.fixture()
def slack(tmp_path: Path, bundled_assistant: Any):  # type: ignore[no-untyped-def]
    policy = tmp_path / "policy.yaml"
    policy.write_text(POLICY, encoding="utf-8")
    harness = SlackHarness(
        bundled_assistant, f"sqlite:///{tmp_path / 'itaku.db'}", ITAKU_APPROVAL_POLICY=str(policy)
    )
    harness.standin.usergroups["S0SECURITY"] = ["U0SEC1", "U0SEC2"]
    yield harness
    harness.close()


def step_of(view: dict[str, Any]) -> str:
    return str(view["private_metadata"]).split(".")[1]


def file_request(
    slack: SlackHarness, answers: dict[str, dict[str, Any]] = STEPS, user: str = "U0ALICE"
) -> str:
    slack.sender.command("", slack.standin.response_url("sub"), command="/subcontract", user=user)
    view = slack.standin.calls_to("views.open")[-1].params["view"]
    while step_of(view) != "review":
        reply = slack.sender.view_submission(
            submitted_view(view, answers.get(step_of(view), {})), user=user
        ).json()
        assert reply["response_action"] == "update", reply
        view = reply["view"]
    assert slack.sender.view_submission(submitted_view(view, {}), user=user).json() == {
        "response_action": "clear"
    }
    assert slack.settle()
    return parent(slack)["blocks"][0]["text"]["text"].split()[1].strip("*")


def parent(slack: SlackHarness) -> dict[str, Any]:
    [message] = [
        m for m in slack.standin.messages.values() if m.channel == "C0APPROVALS" and not m.thread_ts
    ]
    return {"ts": message.ts, "blocks": message.blocks, "text": message.text}


def thread_texts(slack: SlackHarness) -> list[str]:
    return [m.text for m in slack.standin.thread("C0APPROVALS", parent(slack)["ts"])]


def dms(slack: SlackHarness, user: str = "U0ALICE") -> str:
    channel = "D" + user[1:]
    return json.dumps(
        [m.blocks or m.text for m in slack.standin.messages.values() if m.channel == channel],
        ensure_ascii=False,
    )


def click(slack: SlackHarness, action_id: str, value: str, user: str) -> None:
    url = slack.standin.response_url(f"click-{user}", channel="C0APPROVALS")
    assert (
        slack.sender.block_action(action_id, value, url, user=user, channel="C0APPROVALS").status
        == 200
    )


def refusals(slack: SlackHarness, user: str) -> list[str]:
    return [r.params.get("text", "") for r in slack.standin.responses(f"click-{user}")]


def test_file_and_approve_with_buttons(slack: SlackHarness) -> None:
    request_id = file_request(slack)
    post = parent(slack)
    text = json.dumps(post["blocks"], ensure_ascii=False)
    assert request_id.startswith("SR-") and "リスク：低" in text and "株式会社再委託先" in text
    assert [
        e["action_id"] for b in post["blocks"] if b["type"] == "actions" for e in b["elements"]
    ] == [ids.REQ_APPROVE, ids.REQ_REJECT, ids.REQ_CHANGES]
    assert "提出しました" in dms(slack)
    value = f"{request_id}:1"
    click(slack, ids.REQ_APPROVE, value, "U0ALICE")  # the requester
    click(slack, ids.REQ_APPROVE, value, "U0MALLORY")  # not an approver
    assert slack.settle()
    assert (
        "自分の申請" in refusals(slack, "U0ALICE")[0]
        and "承認者ではない" in refusals(slack, "U0MALLORY")[0]
    )
    click(slack, ids.REQ_APPROVE, value, "U0MANAGER")
    assert slack.settle()
    updated = json.dumps(parent(slack)["blocks"], ensure_ascii=False)
    assert "承認済み" in updated and ids.REQ_APPROVE not in updated
    assert any("<@U0MANAGER> さんが承認しました" in t for t in thread_texts(slack))
    assert "承認しました" in dms(slack)
    actions = [e.action for e in _audit(slack)]
    assert actions.count("refused") == 2 and actions[-1] == "approved"


def test_high_risk_needs_the_security_group_too(slack: SlackHarness) -> None:
    request_id = file_request(slack, HIGH)
    assert "リスク：高" in json.dumps(parent(slack)["blocks"], ensure_ascii=False)
    click(slack, ids.REQ_APPROVE, f"{request_id}:1", "U0MANAGER")
    assert slack.settle()
    assert "情報セキュリティ部" in json.dumps(parent(slack)["blocks"], ensure_ascii=False)
    click(slack, ids.REQ_APPROVE, f"{request_id}:1", "U0SEC2")  # a member of S0SECURITY
    assert slack.settle()
    assert "承認済み" in json.dumps(parent(slack)["blocks"], ensure_ascii=False)


def test_reject_asks_for_a_reason_in_a_modal(slack: SlackHarness) -> None:
    request_id = file_request(slack)
    click(slack, ids.REQ_REJECT, f"{request_id}:1", "U0MANAGER")
    assert slack.settle()
    modal = slack.standin.calls_to("views.open")[-1].params["view"]
    assert modal["callback_id"] == ids.REQ_REASON_VIEW
    empty = {
        **modal,
        "state": {
            "values": {ids.REASON_BLOCK: {"reason": {"type": "plain_text_input", "value": " "}}}
        },
    }
    assert (
        slack.sender.view_submission(empty, user="U0MANAGER").json()["response_action"] == "errors"
    )
    given = {
        **modal,
        "state": {
            "values": {
                ids.REASON_BLOCK: {
                    "reason": {"type": "plain_text_input", "value": "監査記録がない"}
                }
            }
        },
    }
    assert slack.sender.view_submission(given, user="U0MANAGER").json() == {
        "response_action": "clear"
    }
    assert slack.settle()
    assert "却下" in json.dumps(parent(slack)["blocks"], ensure_ascii=False)
    assert any("監査記録がない" in t for t in thread_texts(slack)) and "監査記録がない" in dms(
        slack
    )


def test_outsider_clicking_reject_gets_no_modal(slack: SlackHarness) -> None:
    request_id = file_request(slack)
    opened = len(slack.standin.calls_to("views.open"))
    click(slack, ids.REQ_REJECT, f"{request_id}:1", "U0MALLORY")
    assert slack.settle()
    assert len(slack.standin.calls_to("views.open")) == opened
    assert "承認者ではない" in refusals(slack, "U0MALLORY")[0]


def test_changes_requested_then_revised_and_resubmitted(slack: SlackHarness) -> None:
    request_id = file_request(slack)
    slack.sender.event(
        {
            "type": "message",
            "channel": "C0APPROVALS",
            "channel_type": "channel",
            "user": "U0MANAGER",
            "text": "差戻し 期間を1年以内にしてください",
            "ts": "1700009000.1",
            "thread_ts": parent(slack)["ts"],
        }
    )
    assert slack.settle()
    assert "差戻し" in json.dumps(parent(slack)["blocks"], ensure_ascii=False)
    assert ids.REQ_REVISE in dms(slack)
    slack.sender.view_action(
        {"action_id": ids.REQ_REVISE, "type": "button", "value": request_id}, {}
    )
    assert slack.settle()
    review = slack.standin.calls_to("views.open")[-1].params["view"]
    assert step_of(review) == "review"
    goto = slack.sender.view_action(
        {
            "action_id": ids.DIALOG_GOTO,
            "type": "static_select",
            "selected_option": {"value": "period"},
        },
        review,
    )
    assert goto.status == 200 and slack.settle()
    period = slack.standin.calls_to("views.update")[-1].params["view"]
    back_to_review = slack.sender.view_submission(
        submitted_view(period, {"period_start": "2027-04-01", "period_end": "2027-12-31"})
    ).json()["view"]
    assert slack.sender.view_submission(submitted_view(back_to_review, {})).json() == {
        "response_action": "clear"
    }
    assert slack.settle()
    shown = json.dumps(parent(slack)["blocks"], ensure_ascii=False)
    assert "第2版" in shown and "承認待ち" in shown and "2027-12-31" in shown
    assert any("再提出" in t for t in thread_texts(slack))
    with slack.db.session() as s:
        assert len(s.execute(select(RevisionRecord)).all()) == 2


def test_thread_replies_decide_and_outsiders_are_told_privately(slack: SlackHarness) -> None:
    file_request(slack)
    ts = parent(slack)["ts"]
    base = {"type": "message", "channel": "C0APPROVALS", "channel_type": "channel", "thread_ts": ts}
    slack.sender.event({**base, "user": "U0MALLORY", "text": "承認", "ts": "1700009100.1"})
    slack.sender.event(
        {**base, "user": "U0MANAGER", "text": "いいと思います", "ts": "1700009100.2"}
    )  # just talk
    assert slack.settle()
    [ephemeral] = slack.standin.calls_to("chat.postEphemeral")
    assert ephemeral.params["user"] == "U0MALLORY" and "承認者ではない" in ephemeral.params["text"]
    event = {**base, "user": "U0MANAGER", "text": "承認", "ts": "1700009100.3"}
    slack.sender.event(event, event_id="EvAPPROVE")
    slack.sender.event(event, event_id="EvAPPROVE", retry_num=1)  # Slack's retry
    assert slack.settle()
    assert "承認済み" in json.dumps(parent(slack)["blocks"], ensure_ascii=False)
    assert [e.action for e in _audit(slack)].count("approved") == 1


def test_simultaneous_clicks_record_one_and_tell_the_other(slack: SlackHarness) -> None:
    request_id = file_request(slack)
    start = threading.Barrier(2)

    def press(user: str) -> None:
        start.wait()
        click(slack, ids.REQ_APPROVE, f"{request_id}:1", user)

    with ThreadPoolExecutor(2) as pool:
        list(pool.map(press, ["U0MANAGER", "U0DEPUTY"]))
    assert slack.settle()
    assert [e.action for e in _audit(slack)].count("approved") == 1
    told = refusals(slack, "U0MANAGER") + refusals(slack, "U0DEPUTY")
    assert len(told) == 1 and "すでに" in told[0]
    assert len([t for t in thread_texts(slack) if "承認しました" in t]) == 1


def test_messages_catch_up_after_a_crash(slack: SlackHarness) -> None:
    request_id = file_request(slack)
    # decided while the app was down (or crashed before updating Slack): e.g. from the terminal
    result = slack.rt.approvals.decide(request_id, "U0MANAGER", "approved", via="terminal")
    assert result.result is Result.RECORDED
    assert "承認待ち" in json.dumps(parent(slack)["blocks"], ensure_ascii=False)
    slack.rt.requests.sweep()
    assert slack.settle()
    assert "承認済み" in json.dumps(parent(slack)["blocks"], ensure_ascii=False)
    slack.rt.requests.sweep()  # nothing more to do
    assert slack.settle()
    assert len([t for t in thread_texts(slack) if "承認しました" in t]) == 1


def test_reminder_is_sent_once_across_replicas(
    slack: SlackHarness, bundled_assistant: Any, tmp_path: Path
) -> None:
    request_id = file_request(slack)
    with slack.db.session() as s:
        s.execute(
            update(RevisionRecord)
            .where(RevisionRecord.request_id == request_id)
            .values(created_at=utcnow() - timedelta(hours=25))
        )
    other = SlackHarness(
        bundled_assistant,
        str(slack.db.engine.url),
        ITAKU_APPROVAL_POLICY=str(tmp_path / "policy.yaml"),
    )
    try:
        with ThreadPoolExecutor(2) as pool:
            list(pool.map(RequestDesk.sweep, [slack.rt.requests, other.rt.requests]))
        assert slack.settle() and other.settle()
        reminders = [t for t in thread_texts(slack) if "判断を待っています" in t]
        reminders += [
            m.text for m in other.standin.messages.values() if "判断を待っています" in m.text
        ]
        assert len(reminders) == 1
    finally:
        other.close()
    assert [e.action for e in _audit(slack)].count("reminded") == 1


def test_app_home_lists_own_requests_and_those_waiting(slack: SlackHarness) -> None:
    request_id = file_request(slack)
    for user in ("U0ALICE", "U0MANAGER"):
        slack.sender.event(
            {"type": "app_home_opened", "user": user, "tab": "home", "event_ts": f"1.{user}"}
        )
    assert slack.settle()
    views = {
        c.params["user_id"]: json.dumps(c.params["view"], ensure_ascii=False)
        for c in slack.standin.calls_to("views.publish")
    }
    assert request_id in views["U0ALICE"] and "あなたの再委託申請" in views["U0ALICE"]
    assert "あなたの判断を待っている申請" in views["U0MANAGER"] and request_id in views["U0MANAGER"]


def _audit(slack: SlackHarness) -> list[AuditEntry]:
    assert audit.verify(slack.db).ok
    with slack.db.session() as s:
        return list(s.execute(select(AuditEntry).order_by(AuditEntry.seq)).scalars())

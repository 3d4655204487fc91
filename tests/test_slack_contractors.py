"""The contractor ledger in Slack, end to end through the Web API stand-in: `/contractor` and
`/itaku contractor` to a registered contractor and its DM, `/itaku review CT-…` and the
reminder's button to a recorded review, the security channel told of what is overdue, a
corrective action closed from its button, App Home, the subcontracting request filled in from a
picked ledger contractor, and reminders once from two runtimes on one database."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from bot.assistant.service import Assistant
from bot.bench.slack_requests import submitted_view
from bot.contractors.models import ContractorFields
from bot.contractors.service import ContractorView
from bot.delivery.contractors import ContractorDesk
from bot.slack import ids
from tests.slack_harness import SlackHarness, sqlite_url

TODAY = dt.date.today()
DAY = dt.timedelta(days=1)
SECURITY = "C0SECURITY"

REGISTRATION: dict[str, dict[str, Any]] = {
    "contractor": {"name": "株式会社ミドリ給与サービス", "corporate_number": "7123456789012"},
    "work": {"services": "給与計算", "work": "月次の給与計算と給与明細の発行"},
    "contract": {
        "contract_type": "jun_inin",
        "contract_start": (TODAY - 30 * DAY).isoformat(),
        "contract_end": (TODAY + 700 * DAY).isoformat(),
    },
    "data": {"personal_data": "true", "sensitive_data": "false", "my_number": "false"},
    "data_detail": {"personal_data_count": "800"},
    "location": {"processing_country": "日本"},
    "security": {"certifications": ["pmark"], "pmark_expires": (TODAY + 300 * DAY).isoformat()},
    "assessment": {},
}


def review_steps(contractor_id: str) -> dict[str, dict[str, Any]]:
    return {
        "target": {"contractor_id": contractor_id, "reviewed_on": TODAY.isoformat()},
        "method": {"methods": ["onsite"]},
        "report": {
            "report_received": "true",
            "report_date": TODAY.isoformat(),
            "checked": ["media", "disposal"],
        },
        "findings": {"outcome": "major", "findings": "廃棄証明が2件欠けている"},
        "actions": {
            "action_1": "廃棄証明を取り寄せ、手順を改める",
            "action_1_due": (TODAY + 14 * DAY).isoformat(),
        },
    }


@pytest.fixture()
def slack(tmp_path: Path, bundled_assistant: Assistant) -> Iterator[SlackHarness]:
    harness = SlackHarness(bundled_assistant, sqlite_url(tmp_path), ITAKU_SECURITY_CHANNEL=SECURITY)
    yield harness
    harness.close()


def ledger(slack: SlackHarness) -> ContractorDesk:
    assert slack.rt.contractors is not None
    return slack.rt.contractors


def register(slack: SlackHarness, owner: str = "U0ALICE", **changes: Any) -> ContractorView:
    base: dict[str, Any] = {
        "name": "株式会社アオ印刷",
        "work": "請求書の印刷",
        "contract_start": (TODAY - 30 * DAY).isoformat(),
        "contract_end": (TODAY + 300 * DAY).isoformat(),
    }
    fields = ContractorFields.model_validate({**base, **changes})
    outcome = ledger(slack).contractors.register(owner, fields, owner=owner)
    assert outcome.contractor is not None, outcome.message
    return outcome.contractor


def opened_view(slack: SlackHarness) -> dict[str, Any]:
    return slack.standin.calls_to("views.open")[-1].params["view"]


def step_of(view: dict[str, Any]) -> str:
    return str(view["private_metadata"]).split(".")[1]


def submit(slack: SlackHarness, view: dict[str, Any], values: dict[str, Any]) -> dict[str, Any]:
    reply = slack.sender.view_submission(submitted_view(view, values))
    assert reply.status == 200
    return reply.json() if reply.body else {}


def walk(slack: SlackHarness, view: dict[str, Any], steps: dict[str, dict[str, Any]]) -> None:
    while step_of(view) != "review":
        result = submit(slack, view, steps[step_of(view)])
        assert result.get("response_action") == "update", result
        view = result["view"]
    assert submit(slack, view, {}) == {"response_action": "clear"}
    assert slack.settle()


def dms(slack: SlackHarness, user: str = "U0ALICE") -> list[Any]:
    channel = "D" + user[1:]
    return sorted(
        (m for m in slack.standin.messages.values() if m.channel == channel),
        key=lambda m: float(m.ts),
    )


def text_of(blocks: Any) -> str:
    return json.dumps(blocks, ensure_ascii=False)


# -- registering a contractor --------------------------------------------------------------------


@pytest.mark.parametrize(("command", "text"), [("/contractor", ""), ("/itaku", "contractor")])
def test_a_contractor_is_registered_from_the_command(
    slack: SlackHarness, command: str, text: str
) -> None:
    reply = slack.sender.command(text, slack.standin.response_url("c"), command=command)
    assert reply.status == 200
    view = opened_view(slack)
    assert step_of(view) == "contractor" and "出典" in text_of(view["blocks"])
    walk(slack, view, REGISTRATION)
    [dm] = dms(slack)
    assert "委託先を台帳に登録しました" in text_of(dm.blocks)
    assert ids.REVIEW_OPEN in text_of(dm.blocks)  # never assessed: record a review
    [view_] = ledger(slack).contractors.search(owner="U0ALICE")
    assert view_.name == "株式会社ミドリ給与サービス" and view_.fields.personal_data_count == 800
    assert view_.id in text_of(dm.blocks)


# -- reviews -------------------------------------------------------------------------------------


@pytest.mark.parametrize("by", ["id", "name"])
def test_a_review_is_recorded_from_itaku_review(slack: SlackHarness, by: str) -> None:
    ct = register(slack, last_assessed=(TODAY - 400 * DAY).isoformat())
    key = ct.id.lower() if by == "id" else "株式会社　アオ印刷"
    reply = slack.sender.command(f"review {key}", slack.standin.response_url("r"))
    assert reply.status == 200
    view = opened_view(slack)
    assert step_of(view) == "target" and ct.id in text_of(view["blocks"])
    assert "定期点検チェックリスト" in text_of(view["blocks"])  # the step cites the checklist
    walk(slack, view, review_steps(ct.id))
    [dm] = dms(slack)
    body = text_of(dm.blocks)
    assert "定期点検を記録しました" in body and "重大な指摘あり" in body
    after = ledger(slack).contractors.get(ct.id)
    assert after is not None and after.fields.last_assessed == TODAY
    assert after.rating.next_review is not None and after.rating.next_review.isoformat() in body
    [action] = ledger(slack).reviews.actions(open_only=True)
    assert action.id in body and action.due == TODAY + 14 * DAY


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("review", "使い方"),
        ("review CT-999999", "台帳にありません"),
        ("review 株式会社ないない", "台帳にありません"),
    ],
)
def test_itaku_review_without_a_known_contractor_says_why(
    slack: SlackHarness, text: str, expected: str
) -> None:
    reply = slack.sender.command(text, slack.standin.response_url("r"))
    assert reply.status == 200 and expected in reply.json()["text"]
    assert slack.standin.calls_to("views.open") == []


def test_a_due_review_is_reminded_and_its_button_opens_the_review(slack: SlackHarness) -> None:
    ct = register(slack, last_assessed=(TODAY - 800 * DAY).isoformat())
    ledger(slack).sweep()
    ledger(slack).sweep()
    [dm] = dms(slack)
    assert "期日を過ぎています" in text_of(dm.blocks) and ids.REVIEW_OPEN in text_of(dm.blocks)
    [post] = [m for m in slack.standin.messages.values() if m.channel == SECURITY]
    assert ct.id in text_of(post.blocks) and "<@U0ALICE>" in text_of(post.blocks)
    click = {"action_id": ids.REVIEW_OPEN, "type": "button", "value": ct.id}
    assert slack.sender.view_action(click, {}).status == 200
    assert slack.settle()
    view = opened_view(slack)
    assert view["callback_id"] == ids.DIALOG_VIEW and step_of(view) == "target"
    assert ct.id in text_of(view["blocks"])
    walk(slack, view, review_steps(ct.id))
    assert "定期点検を記録しました" in text_of(dms(slack)[-1].blocks)


def test_a_corrective_action_is_reminded_and_closed_from_its_button(slack: SlackHarness) -> None:
    ct = register(slack)
    slack.sender.command(f"review {ct.id}", slack.standin.response_url("r"))
    steps = review_steps(ct.id)
    steps["actions"] = {"action_1": "廃棄証明を取り寄せる", "action_1_due": TODAY.isoformat()}
    walk(slack, opened_view(slack), steps)
    ledger(slack).sweep()
    reminder = [m for m in dms(slack) if ids.ACTION_CLOSE in text_of(m.blocks)]
    assert len(reminder) == 1 and "期限が近づいています" in text_of(reminder[0].blocks)
    [action] = ledger(slack).reviews.actions(open_only=True)
    stale = {"action_id": ids.ACTION_CLOSE, "type": "button", "value": f"{action.id}:9"}
    slack.sender.view_action(stale, {})
    assert slack.settle()
    assert ledger(slack).reviews.actions(open_only=True) != []  # a stale button closes nothing
    click = {"action_id": ids.ACTION_CLOSE, "type": "button", "value": f"{action.id}:1"}
    slack.sender.view_action(click, {})
    assert slack.settle()
    assert ledger(slack).reviews.actions(open_only=True) == []
    assert "完了にしました" in text_of(dms(slack)[-1].blocks)
    closed = ledger(slack).reviews.action(action.id)
    assert closed is not None and closed.closed_by == "U0ALICE"


def test_app_home_lists_the_users_contractors_what_is_due_and_open_actions(
    slack: SlackHarness,
) -> None:
    due = register(slack, last_assessed=(TODAY - 800 * DAY).isoformat())
    register(slack, name="株式会社ほか", owner="U0BOB")
    event = {
        "type": "app_home_opened",
        "user": "U0ALICE",
        "channel": "D0ALICE",
        "tab": "home",
        "event_ts": "1.2",
    }
    slack.sender.event(event, event_id="EvHOME1")
    assert slack.settle()
    view = text_of(slack.standin.calls_to("views.publish")[-1].params["view"]["blocks"])
    assert "あなたが担当する委託先" in view and due.id in view and "株式会社ほか" not in view
    assert "点検が必要な委託先" in view and "日超過" in view and ids.REVIEW_OPEN in view


# -- the subcontracting request -----------------------------------------------------------------------


def test_a_ledger_contractor_picked_in_the_request_fills_in_its_fields(
    slack: SlackHarness,
) -> None:
    mine = register(slack, services="印刷")
    register(slack, name="株式会社ほか", owner="U0BOB")
    slack.sender.command("", slack.standin.response_url("s"), command="/subcontract")
    view = opened_view(slack)
    blocks = text_of(view["blocks"])
    assert ids.LEDGER_PICK in blocks and mine.id in blocks and "株式会社ほか" not in blocks
    pick = {
        "action_id": ids.LEDGER_PICK,
        "type": "static_select",
        "selected_option": {"value": mine.id},
    }
    assert slack.sender.view_action(pick, view).status == 200
    assert slack.settle()
    [update] = slack.standin.calls_to("views.update")
    filled = update.params["view"]
    assert step_of(filled) == "contract"
    inputs = {
        b["element"]["action_id"]: b["element"].get("initial_value")
        for b in filled["blocks"]
        if b.get("type") == "input"
    }
    assert inputs["contractor_name"] == "株式会社アオ印刷"
    assert inputs["our_contract"] == f"印刷の委託契約（台帳 {mine.id}）"
    # someone else's contractor, forged into the select, fills in nothing
    other = ledger(slack).contractors.search(owner="U0BOB")[0]
    forged = {**pick, "selected_option": {"value": other.id}}
    slack.sender.view_action(forged, filled)
    assert slack.settle()
    again = slack.standin.calls_to("views.update")[-1].params["view"]
    assert "株式会社ほか" not in text_of(again["blocks"])


def test_no_picker_without_ledger_contractors(slack: SlackHarness) -> None:
    slack.sender.command("", slack.standin.response_url("s"), command="/subcontract")
    assert ids.LEDGER_PICK not in text_of(opened_view(slack)["blocks"])


# -- two runtimes on one database ---------------------------------------------------------------------


def test_reminders_go_out_once_from_two_runtimes_on_one_database(
    database_url: str, tmp_path: Path, bundled_assistant: Assistant
) -> None:
    runtimes = [
        SlackHarness(bundled_assistant, database_url, ITAKU_SECURITY_CHANNEL=SECURITY)
        for _ in range(2)
    ]
    try:
        overdue = [
            register(
                runtimes[0],
                name=f"株式会社遅延{i}",
                last_assessed=(TODAY - 800 * DAY).isoformat(),
            )
            for i in range(3)
        ]
        with ThreadPoolExecutor(4) as pool:
            list(pool.map(lambda i: ledger(runtimes[i % 2]).sweep(), range(6)))
        posts = [
            m
            for h in runtimes
            for m in h.standin.messages.values()
            if m.channel in ("D0ALICE", SECURITY)
        ]
        sent = sorted((m.channel, ct.id) for m in posts for ct in overdue if ct.id in m.text)
        assert sent == sorted(
            [("D0ALICE", ct.id) for ct in overdue] + [(SECURITY, ct.id) for ct in overdue]
        )
    finally:
        for h in runtimes:
            h.close()

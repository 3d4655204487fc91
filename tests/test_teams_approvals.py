"""Subcontracting requests in Teams end to end, over real HTTP against the Bot Connector
stand-in: the card posted to the approvals channel, Approve / Reject / Request changes
(Action.Execute), user-specific views by refresh, simultaneous clicks, refusals, the two-stage
flow, decisions replied in the card's thread, reminders and escalation once from two replicas,
the `requests` view, and Connector failures during a notice."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select, update

from bot.approvals.policy import ApprovalPolicy
from bot.approvals.service import RequestView, Result
from bot.approvals.subcontract_fields import SubcontractAnswers
from bot.assistant.service import Assistant
from bot.bench.teams_standin import TeamsStandIn
from bot.delivery.requests import Placement, RequestDesk, chat_mention
from bot.store import audit
from bot.store.tables import AuditEntry, RevisionRecord, utcnow
from tests.slack_harness import sqlite_url
from tests.teams_harness import TeamsHarness

APPROVALS = "19:approvals0itaku@thread.tacv2"


@dataclass(frozen=True)
class Person:
    handle: str

    @property
    def mri(self) -> str:  # the Teams user id (29:…)
        return f"29:1{self.handle}"

    @property
    def aad(self) -> str:  # the object id, as the stand-in derives it from the Teams user id
        return str(uuid.uuid5(uuid.NAMESPACE_URL, self.mri))

    @property
    def name(self) -> str:
        return f"{self.handle.capitalize()} Tanaka"


ALICE, MANAGER, DEPUTY = Person("alice"), Person("manager"), Person("deputy")
SECURITY, CISO, MALLORY = Person("security"), Person("ciso"), Person("mallory")
PEOPLE = (ALICE, MANAGER, DEPUTY, SECURITY, CISO, MALLORY)

POLICY = f"""
remind_after_hours: 24
escalate_after_hours: 72
escalation: [{CISO.aad.upper()}]
levels:
  low: {{stages: [{{name: 部門長, approvers: [{MANAGER.aad}, {DEPUTY.aad}]}}]}}
  medium: {{stages: [{{name: 部門長, approvers: [{MANAGER.aad}, {DEPUTY.aad}]}}]}}
  high:
    stages:
      - {{name: 部門長, approvers: [{MANAGER.aad}, {DEPUTY.aad}]}}
      - {{name: 情報セキュリティ部, approvers: [{SECURITY.aad}, {MANAGER.aad}, terminal:security]}}
"""
LOW = SubcontractAnswers(
    our_contract="顧客管理システム運用委託契約",
    contractor_name="株式会社委託先",
    subcontractor_name="株式会社再委託先",
    subcontractor_address="東京都千代田区1-1",
    work_description="問い合わせ窓口の一次対応",
    reason="繁忙期の人員不足",
    period_start="2027-04-01",
    period_end="2028-03-31",
    certifications=["isms"],
    last_assessed="2026-10-01",
)
HIGH = LOW.model_copy(
    update={"personal_data": True, "my_number": True, "personal_data_count": 5000}
)


def standin_with_people() -> TeamsStandIn:
    standin = TeamsStandIn().start()
    for p in PEOPLE:  # members of the approvals channel's team, as the Connector knows them
        standin.members[p.aad] = {
            "id": p.mri,
            "name": p.name,
            "aadObjectId": p.aad,
            "tenantId": standin.tenant_id,
        }
    return standin


def harness(
    assistant: Assistant, url: str, tmp_path: Path, standin: TeamsStandIn | None = None
) -> TeamsHarness:
    policy = tmp_path / "policy.yaml"
    policy.write_text(POLICY, encoding="utf-8")
    standin = standin or standin_with_people()
    return TeamsHarness(
        assistant,
        url,
        standin=standin,
        ITAKU_APPROVAL_POLICY=str(policy),
        TEAMS_APPROVALS_CONVERSATION=APPROVALS,
        TEAMS_SERVICE_URL=standin.service_url,
    )


@pytest.fixture()
def teams(tmp_path: Path, bundled_assistant: Assistant) -> Iterator[TeamsHarness]:
    h = harness(bundled_assistant, sqlite_url(tmp_path), tmp_path)
    yield h
    h.close()


@pytest.fixture()
def teams_db(
    tmp_path: Path, bundled_assistant: Assistant, database_url: str
) -> Iterator[TeamsHarness]:
    """On SQLite and on PostgreSQL."""
    h = harness(bundled_assistant, database_url, tmp_path)
    yield h
    h.close()


# -- helpers ---------------------------------------------------------------------------------------


def file_request(
    teams: TeamsHarness, answers: SubcontractAnswers = LOW, who: Person = ALICE
) -> RequestView:
    """A finished request dialog, as the dialogs hand it over: filed, then its card posted."""
    result = teams.rt.approvals.submit(who.aad, answers, dialog_id=uuid.uuid4().hex, via="teams")
    assert result.result is Result.RECORDED and result.request is not None
    teams.rt.requests.filed(result.request, result.resubmitted, who.aad)
    assert teams.settle()
    return result.request


def root(teams: TeamsHarness) -> Any:
    """The card's message in the approvals channel (the thread's root)."""
    [posted] = teams.standin.sent(APPROVALS)
    return posted


def card(teams: TeamsHarness) -> dict[str, Any]:
    content: dict[str, Any] = root(teams).activity["attachments"][0]["content"]
    return content


def thread(teams: TeamsHarness) -> str:
    return f"{APPROVALS};messageid={root(teams).id}"


def thread_texts(teams: TeamsHarness) -> list[str]:
    return [str(s.activity.get("text") or "") for s in teams.standin.sent(thread(teams))]


def dms(teams: TeamsHarness, who: Person) -> list[dict[str, Any]]:
    """The 1:1 messages the bot started with someone (proactive)."""
    return [
        c.body["activity"]
        for c in teams.standin.calls_to("create_conversation")
        if c.body and c.body["members"][0]["id"] in (who.mri, who.aad) and "activity" in c.body
    ]


def texts_of(content: Any) -> str:
    """Every text in a card (or anything), for assertions."""
    if isinstance(content, dict):
        return "\n".join(texts_of(v) for v in content.values())
    if isinstance(content, list):
        return "\n".join(texts_of(v) for v in content)
    return content if isinstance(content, str) else ""


def channel_conversation(teams: TeamsHarness, conversation_id: str) -> dict[str, Any]:
    return {
        "id": conversation_id,
        "conversationType": "channel",
        "isGroup": True,
        "tenantId": teams.standin.tenant_id,
    }


def click(
    teams: TeamsHarness, verb: str, who: Person, request: RequestView, **data: Any
) -> dict[str, Any]:
    """A card button pressed (an adaptiveCard/action invoke); the invoke response's body."""
    payload = {"request_id": request.id, "revision": request.revision, **data}
    activity = teams.standin.activity(
        kind="invoke",
        name="adaptiveCard/action",
        user_id=who.mri,
        conversation=channel_conversation(teams, thread(teams)),
        value={
            "action": {"type": "Action.Execute", "verb": verb, "data": payload},
            "trigger": "automatic" if verb == "itaku.refresh" else "manual",
        },
    )
    activity["from"]["name"] = who.name
    status, body = teams.post(activity)
    assert status == 200
    assert isinstance(body, dict)
    return body


def buttons(body: dict[str, Any]) -> list[str]:
    actions = body["value"].get("actions") or []
    return [a.get("verb") or a["card"]["actions"][0]["verb"] for a in actions]


def notice(body: dict[str, Any]) -> str:
    first = body["value"]["body"][0]
    return str(first["text"]) if first.get("color") == "Attention" else ""


def audit_trail(teams: TeamsHarness) -> list[AuditEntry]:
    assert audit.verify(teams.db).ok
    with teams.db.session() as s:
        return list(s.execute(select(AuditEntry).order_by(AuditEntry.seq)).scalars())


def actions(teams: TeamsHarness) -> list[tuple[str, str]]:
    return [(e.action, e.actor) for e in audit_trail(teams)]


def say_in_thread(teams: TeamsHarness, who: Person, words: str) -> dict[str, Any]:
    activity = teams.standin.activity(
        f"<at>Itaku</at> {words}",
        user_id=who.mri,
        conversation=channel_conversation(teams, thread(teams)),
        entities=[
            {
                "type": "mention",
                "text": "<at>Itaku</at>",
                "mentioned": {"id": teams.standin.bot_id, "name": "Itaku"},
            }
        ],
    )
    activity["from"]["name"] = who.name
    return activity


# -- the policy and the core's wording --------------------------------------------------------------


def test_the_policy_names_teams_users_by_object_id(tmp_path: Path) -> None:
    policy = tmp_path / "policy.yaml"
    policy.write_text(POLICY, encoding="utf-8")
    loaded = ApprovalPolicy.load(policy)
    assert loaded.escalation == [CISO.aad]  # written in capitals, kept as Teams sends it
    assert loaded.stages("high")[1].approvers == [SECURITY.aad, MANAGER.aad, "terminal:security"]
    bad = POLICY.replace(DEPUTY.aad, "deputy@example.com", 1)
    policy.write_text(bad, encoding="utf-8")
    with pytest.raises(ValueError, match="オブジェクトID"):
        ApprovalPolicy.load(policy)


def test_the_core_names_people_plainly_and_each_platform_renders_them(
    teams: TeamsHarness,
) -> None:
    request = file_request(teams)
    assert teams.rt.approvals.decide(request.id, MANAGER.aad, "approved").result is Result.RECORDED
    view = teams.rt.approvals.get(request.id)
    assert view is not None
    assert f"すでに {MANAGER.aad} さんが承認" in teams.rt.approvals.check(view, DEPUTY.aad)[1]
    slack_style = teams.rt.approvals.check(view, DEPUTY.aad, chat_mention)[1]
    assert f"<@{MANAGER.aad}>" in slack_style  # what a notifier without `mention` gets (Slack)


# -- posting and deciding ---------------------------------------------------------------------------


def test_a_filed_request_is_posted_as_a_card_with_views_for_its_approvers(
    teams_db: TeamsHarness,
) -> None:
    teams = teams_db
    request = file_request(teams)
    posted = card(teams)
    assert request.id in texts_of(posted)
    assert "actions" not in posted  # the card everyone sees has no buttons
    assert posted["refresh"]["userIds"] == [MANAGER.mri, DEPUTY.mri]
    assert posted["refresh"]["action"]["verb"] == "itaku.refresh"
    assert ALICE.name in texts_of(posted)  # people by name, from the Connector
    stored = teams.rt.approvals.get(request.id)
    assert stored is not None and (stored.channel, stored.message_ts) == (APPROVALS, root(teams).id)
    # each one's own view: buttons for an approver, none for the requester or anyone else
    assert buttons(click(teams, "itaku.refresh", MANAGER, request)) == [
        "itaku.approve",
        "itaku.reject",
        "itaku.revise",
    ]
    assert buttons(click(teams, "itaku.refresh", ALICE, request)) == []
    assert buttons(click(teams, "itaku.refresh", MALLORY, request)) == []
    assert [a for a, _ in actions(teams)] == ["filed"]  # looking records nothing


def test_two_approvers_clicking_at_once_record_one_decision(teams_db: TeamsHarness) -> None:
    teams = teams_db
    request = file_request(teams)
    start = threading.Barrier(2)

    def press(who: Person) -> dict[str, Any]:
        start.wait()
        return click(teams, "itaku.approve", who, request)

    with ThreadPoolExecutor(2) as pool:
        replies = list(pool.map(press, [MANAGER, DEPUTY]))
    assert teams.settle()
    assert [a for a, _ in actions(teams)].count("approved") == 1
    told = [notice(r) for r in replies]
    assert sorted(bool(t) for t in told) == [False, True]  # the loser is told, on the card
    [loser] = [t for t in told if t]
    assert "すでに" in loser and "<@" not in loser
    assert all(buttons(r) == [] for r in replies)  # decided: nobody has buttons now
    assert root(teams).updates == 1  # the card refreshed for everyone, once
    assert "承認済み" in texts_of(card(teams))
    assert "refresh" not in card(teams)  # nothing left to decide
    assert len([t for t in thread_texts(teams) if "承認しました" in t]) == 1
    [told_alice] = dms(teams, ALICE)
    assert request.id in told_alice["text"] and "承認済み" in told_alice["text"]


def test_a_non_approver_is_refused_and_the_refusal_recorded(teams: TeamsHarness) -> None:
    request = file_request(teams)
    reply = click(teams, "itaku.approve", MALLORY, request)
    assert buttons(reply) == [] and "承認者ではない" in notice(reply)
    reply = click(teams, "itaku.reject", MALLORY, request, reject_reason="気に入らない")
    assert buttons(reply) == [] and "承認者ではない" in notice(reply)
    reply = click(teams, "itaku.revise", MALLORY, request)  # no reason: refused all the same
    assert buttons(reply) == [] and "承認者ではない" in notice(reply)
    reply = click(teams, "itaku.approve", ALICE, request)
    assert "自分の申請" in notice(reply)
    assert teams.settle()
    refused = [e for e in audit_trail(teams) if e.action == "refused"]
    assert [e.actor for e in refused] == [MALLORY.aad] * 3 + [ALICE.aad]
    assert root(teams).updates == 0 and thread_texts(teams) == []
    view = teams.rt.approvals.get(request.id)
    assert view is not None and view.status == "pending"


def test_reject_needs_a_reason(teams: TeamsHarness) -> None:
    request = file_request(teams)
    reply = click(teams, "itaku.reject", MANAGER, request, reject_reason="   ")
    assert "理由を入力" in notice(reply)
    assert "itaku.reject" in buttons(reply)  # the card again, to try once more
    assert "rejected" not in [a for a, _ in actions(teams)]
    reason = "再委託先の監査報告が未提出のため"
    reply = click(teams, "itaku.reject", MANAGER, request, reject_reason=reason)
    assert notice(reply) == "" and buttons(reply) == []
    assert teams.settle()
    view = teams.rt.approvals.get(request.id)
    assert view is not None and view.status == "rejected"
    assert view.current_decisions[-1].reason == reason
    assert ("rejected", MANAGER.aad) in actions(teams)
    assert "却下" in texts_of(card(teams)) and reason in texts_of(card(teams))
    [said] = thread_texts(teams)
    assert "却下しました" in said and reason in said and MANAGER.name in said
    [told] = dms(teams, ALICE)
    assert reason in told["text"]


def test_the_two_stage_high_risk_flow(teams_db: TeamsHarness) -> None:
    teams = teams_db
    request = file_request(teams, HIGH)
    assert request.risk.level == "high"
    assert card(teams)["refresh"]["userIds"] == [MANAGER.mri, DEPUTY.mri]
    assert notice(click(teams, "itaku.approve", MANAGER, request)) == ""
    assert teams.settle()
    # stage two: its approvers but the one who approved stage one (who may not decide again)
    assert card(teams)["refresh"]["userIds"] == [SECURITY.mri]
    assert "情報セキュリティ部" in texts_of(card(teams))
    assert buttons(click(teams, "itaku.refresh", MANAGER, request)) == []
    refused = click(teams, "itaku.approve", MANAGER, request)
    assert "前の段階で判断した人" in notice(refused)
    assert buttons(click(teams, "itaku.refresh", SECURITY, request))[0] == "itaku.approve"
    assert notice(click(teams, "itaku.approve", SECURITY, request)) == ""
    assert teams.settle()
    view = teams.rt.approvals.get(request.id)
    assert view is not None and view.status == "approved"
    assert [(d.stage, d.approver) for d in view.current_decisions] == [
        (0, MANAGER.aad),
        (1, SECURITY.aad),
    ]
    assert root(teams).updates == 2  # once per decision
    said = thread_texts(teams)
    assert len(said) == 2 and "次は 情報セキュリティ部" in said[0] and "承認済み" in said[1]
    assert len(dms(teams, ALICE)) == 2


def test_a_reply_in_the_thread_decides(teams: TeamsHarness) -> None:
    request = file_request(teams)
    reason = "再委託先の所在地が契約と異なる"
    reply = say_in_thread(teams, DEPUTY, f"却下 {reason}")
    for _ in range(2):  # the Bot Framework's retry: decided once
        assert teams.post(reply)[0] == 200
    assert teams.settle()
    view = teams.rt.approvals.get(request.id)
    assert view is not None and view.status == "rejected"
    assert view.current_decisions[-1].approver == DEPUTY.aad
    assert view.current_decisions[-1].reason == reason
    assert [a for a, _ in actions(teams)].count("rejected") == 1
    assert root(teams).updates == 1
    assert len([t for t in thread_texts(teams) if "却下しました" in t]) == 1
    assert dms(teams, DEPUTY) == []  # nothing to tell the one who decided
    # too late: told privately, once, and nothing else happens
    late = say_in_thread(teams, MANAGER, "承認")
    assert teams.post(late)[0] == 200
    assert teams.post(late)[0] == 200
    assert teams.settle()
    [told] = dms(teams, MANAGER)
    assert "すでに" in told["text"] and DEPUTY.name in told["text"]
    assert root(teams).updates == 1 and len(thread_texts(teams)) == 1


def test_a_thread_reply_without_a_decision_is_a_question(teams: TeamsHarness) -> None:
    file_request(teams)
    assert teams.post(say_in_thread(teams, MANAGER, "再委託の承認で確認すべきことは？"))[0] == 200
    assert teams.settle()
    answered = [s for s in teams.standin.sent(thread(teams)) if s.activity.get("attachments")]
    assert len(answered) == 1  # answered as any question in a thread
    assert [a for a, _ in actions(teams)] == ["filed"]


def _waited(teams: TeamsHarness, request_id: str, hours: float) -> None:
    with teams.db.session() as s:
        s.execute(
            update(RevisionRecord)
            .where(RevisionRecord.request_id == request_id)
            .values(created_at=utcnow() - timedelta(hours=hours))
        )


class Bare:
    """A platform's notifier that says nothing of its own placements (Slack's)."""

    def __init__(self) -> None:
        self.calls: list[str] = []

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_") or name in ("owns", "mention"):
            raise AttributeError(name)
        return lambda *a, **k: self.calls.append(name)


def test_reminders_and_escalation_go_out_once_from_two_replicas(
    tmp_path: Path, bundled_assistant: Assistant, database_url: str
) -> None:
    first = harness(bundled_assistant, database_url, tmp_path)
    second = harness(bundled_assistant, database_url, tmp_path, standin=first.standin)
    try:
        request = file_request(first)
        _waited(first, request.id, 25)
        # another platform's desk on the same database leaves a Teams card alone
        other = Bare()
        slack_like = RequestDesk(
            first.rt.approvals, first.rt.ledger, first.rt.runner, other, channel="C0", via="slack"
        )
        slack_like.sweep()
        assert other.calls == []
        with ThreadPoolExecutor(2) as pool:
            list(pool.map(RequestDesk.sweep, [first.rt.requests, second.rt.requests]))
        assert first.settle() and second.settle()
        [reminder] = thread_texts(first)
        assert request.id in reminder and "部門長" in reminder
        for approver in (MANAGER, DEPUTY):
            [dm] = dms(first, approver)
            assert request.id in dm["text"]
            dm_card = dm["attachments"][0]["content"]
            assert dm_card["refresh"]["userIds"] == [approver.mri]
            assert dm_card["actions"][0]["verb"] == "itaku.approve"
        assert dms(first, ALICE) == []
        _waited(first, request.id, 73)
        with ThreadPoolExecutor(2) as pool:
            list(pool.map(RequestDesk.sweep, [first.rt.requests, second.rt.requests]))
        for replica in (first, second):
            replica.rt.requests.sweep()
        assert first.settle() and second.settle()
        said = thread_texts(first)
        assert len(said) == 2 and "エスカレーション" in said[1]
        view = first.rt.approvals.get(request.id)
        assert view is not None and CISO.aad in view.approvers
        assert card(first)["refresh"]["userIds"] == [MANAGER.mri, DEPUTY.mri, CISO.mri]
        # the escalation shown on the card (a replica's catch-up running alongside may show the
        # same state again: an update is idempotent, a notice is not and goes out once)
        assert root(first).updates in (1, 2)
        assert len(dms(first, CISO)) == 1 and len(dms(first, MANAGER)) == 2
        assert [a for a, _ in actions(first)].count("reminded") == 1
        assert [a for a, _ in actions(first)].count("escalated") == 1
        # the escalation's approver may decide now
        assert notice(click(first, "itaku.approve", CISO, request)) == ""
    finally:
        second.close()
        first.close()


def test_the_requests_view(teams: TeamsHarness) -> None:
    request = file_request(teams)
    mine = teams.standin.activity("requests", user_id=ALICE.mri)
    assert teams.post(mine)[0] == 200
    assert teams.post(mine)[0] == 200  # a retry: answered once
    assert teams.settle()
    [listing] = [s.activity for s in teams.standin.sent(mine["conversation"]["id"])]
    content = listing["attachments"][0]["content"]
    assert request.id in texts_of(content) and "判断を待っている申請はありません" in texts_of(
        content
    )
    # asked in a channel: the list goes to one's 1:1 chat, not to the channel
    theirs = teams.standin.activity(
        "<at>Itaku</at> requests",
        user_id=MANAGER.mri,
        conversation=channel_conversation(teams, "19:general@thread.tacv2;messageid=1"),
    )
    assert teams.post(theirs)[0] == 200
    assert teams.settle()
    assert teams.standin.sent("19:general@thread.tacv2;messageid=1") == []
    [dm] = dms(teams, MANAGER)
    waiting = texts_of(dm["attachments"][0]["content"])
    assert request.id in waiting and "まだ申請はありません" in waiting


def test_connector_failures_during_a_notice_are_retried_without_duplicates(
    teams: TeamsHarness,
) -> None:
    request = file_request(teams)
    teams.standin.fail("send", 503, times=2)
    teams.standin.fail("send", 429, times=1, retry_after=1)
    teams.standin.fail("update", 502, times=1)
    teams.standin.fail("create_conversation", 503, times=1)
    assert notice(click(teams, "itaku.approve", MANAGER, request)) == ""
    assert teams.settle(30)
    assert root(teams).updates == 1
    assert len(thread_texts(teams)) == 1
    assert len(dms(teams, ALICE)) == 1
    assert teams.rt.connector.retries >= 5
    teams.rt.requests.sweep()  # nothing left behind to catch up on
    assert teams.settle()
    assert root(teams).updates == 1 and len(thread_texts(teams)) == 1


def test_the_placement_is_the_thread_root(teams: TeamsHarness) -> None:
    request = file_request(teams)
    view = teams.rt.approvals.by_message(APPROVALS, root(teams).id)
    assert view is not None and view.id == request.id
    assert teams.rt.requests.decide_by_reply(Placement(APPROVALS, "0"), MANAGER.aad, "承認") is None

"""A request's own text cannot make a pending request look decided in its Slack card (issue 12):
bold, emoji, new lines and links typed into the dialog's fields are shown literally, on one line."""

from __future__ import annotations

import json
from pathlib import Path

from bot.approvals.policy import ApprovalPolicy
from bot.approvals.risk import RiskRules, default_rules_path
from bot.approvals.service import ApprovalService
from bot.approvals.subcontract_fields import SubcontractAnswers
from bot.config import PROJECT_ROOT
from bot.slack.approval_blocks import decision_notice, request_blocks
from bot.slack.blocks import literal
from bot.store.db import open_database
from tests.test_approvals import BASE, policy_file

FORGERY = "繁忙期のため\n\n:white_check_mark: *承認済み*（第1版）\n✅ ~判断待ち~ `done` <!channel>"


def test_literal_text_keeps_words_and_drops_formatting() -> None:
    shown = literal(FORGERY)
    assert "\n" not in shown
    assert "繁忙期のため" in shown and "承認済み" in shown  # the words stay readable
    for forbidden in (":white_check_mark:", "✅", "*", "~", "`", "<!channel>"):
        assert forbidden not in shown


def test_a_pending_card_cannot_be_made_to_look_approved(tmp_path: Path) -> None:
    service = ApprovalService(
        open_database(f"sqlite:///{tmp_path / 'itaku.db'}"),
        ApprovalPolicy.load(policy_file(tmp_path)),
        RiskRules.load(default_rules_path(PROJECT_ROOT / "knowledge")),
    )
    answers = SubcontractAnswers(
        **{**BASE, "reason": FORGERY, "subcontractor_name": "株式会社*承認済み*:tada:"}
    )
    view = service.file("U0ALICE", answers)
    blocks = request_blocks(view)
    texts = [json.dumps(b, ensure_ascii=False) for b in blocks]
    state_blocks = [t for t in texts if "*承認済み" in t or ":white_check_mark:" in t or "✅" in t]
    assert state_blocks == [], (
        state_blocks
    )  # only the real state line may say it, and it is pending
    assert any("承認待ち" in t or "判断待ち" in t for t in texts)
    result = service.decide(view.id, "U0MANAGER", "changes_requested", FORGERY)
    assert result.request is not None
    notice = decision_notice(result.request, "U0MANAGER", "changes_requested", FORGERY)
    assert ":white_check_mark:" not in notice and notice.count("\n") <= 1

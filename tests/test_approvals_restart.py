"""Kill the app at the worst moment (a decision recorded, Slack not yet told) and start it again:
nothing recorded is lost and the Slack messages catch up with the recorded state."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from bot.approvals.policy import ApprovalPolicy
from bot.approvals.risk import RiskRules, default_rules_path
from bot.approvals.service import ApprovalService
from bot.approvals.subcontract_fields import SubcontractAnswers
from bot.bench.slack_requests import SlackSender
from bot.bench.slack_standin import SlackStandIn
from bot.config import PROJECT_ROOT
from bot.slack import ids
from bot.store import audit
from bot.store.db import open_database

SECRET = "restart-secret"
POLICY = """
channel: C0APPROVALS
levels:
  low: {stages: [{name: 部門長, approvers: [U0MANAGER]}]}
  medium: {stages: [{name: 部門長, approvers: [U0MANAGER]}]}
  high: {stages: [{name: 部門長, approvers: [U0MANAGER]}, {name: 情報セキュリティ部, approvers: [U0SEC]}]}
"""


def serve(standin: SlackStandIn, data: Path, policy: Path) -> tuple[subprocess.Popen[str], str]:
    env = {
        k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "SLACK_", "CHROMA_"))
    }
    env.update(
        ITAKU_DATA_DIR=str(data),
        ITAKU_APPROVAL_POLICY=str(policy),
        SLACK_BOT_TOKEN=standin.bot_token,
        SLACK_SIGNING_SECRET=SECRET,
        SLACK_API_URL=standin.api_url,
        ITAKU_SLACK_RETRIES="1",
    )
    proc = subprocess.Popen(
        [sys.executable, "-m", "bot", "serve", "--http", "--host", "127.0.0.1", "--port", "0"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    assert proc.stdout is not None
    return proc, proc.stdout.readline().split()[-1]


@pytest.mark.slow
def test_decision_survives_a_kill_and_slack_catches_up(
    bundled_data_dir: Path, tmp_path: Path
) -> None:
    data = tmp_path / "data"
    shutil.copytree(bundled_data_dir, data)
    policy = tmp_path / "policy.yaml"
    policy.write_text(POLICY, encoding="utf-8")
    service = ApprovalService(
        open_database(f"sqlite:///{data / 'itaku.db'}"),
        ApprovalPolicy.load(policy),
        RiskRules.load(default_rules_path(PROJECT_ROOT / "knowledge")),
    )
    request = service.file(
        "U0ALICE",
        SubcontractAnswers(
            our_contract="運用委託契約",
            contractor_name="株式会社委託先",
            subcontractor_name="株式会社再委託先",
            subcontractor_address="東京都千代田区1-1",
            work_description="一次対応",
            reason="人員不足",
            period_start="2027-04-01",
            period_end="2028-03-31",
            certifications=["isms"],
            last_assessed="2026-10-01",
        ),
    )

    with SlackStandIn() as standin:
        first, url = serve(standin, data, policy)
        try:
            # filed while no app ran: the first start posts it
            assert standin.wait_for(lambda: len(standin.calls_to("chat.postMessage")) >= 1, 30)
            standin.fail("chat.update", 503, times=1000)  # Slack down from now on
            clicked = SlackSender(url, SECRET).block_action(
                ids.REQ_APPROVE,
                f"{request.id}:1",
                standin.response_url("c"),
                user="U0MANAGER",
                channel="C0APPROVALS",
            )
            assert clicked.status == 200
            assert standin.wait_for(
                lambda: any(m == "chat.update" for m, _ in standin.failures), 30
            )
        finally:
            first.send_signal(signal.SIGKILL)
            first.wait(10)
        recorded = service.get(request.id)
        assert recorded is not None and recorded.status == "approved"  # nothing recorded was lost
        parent = next(
            m for m in standin.messages.values() if m.channel == "C0APPROVALS" and not m.thread_ts
        )
        assert "承認待ち" in json.dumps(parent.blocks, ensure_ascii=False)  # Slack is behind

        standin.heal()  # Slack is back
        second, _ = serve(standin, data, policy)
        try:
            assert standin.wait_for(lambda: len(standin.calls_to("chat.update")) >= 1, 30)
            assert standin.wait_for(
                lambda: any(
                    "承認しました" in m.text for m in standin.thread("C0APPROVALS", parent.ts)
                ),
                30,
            )
        finally:
            second.send_signal(signal.SIGTERM)
            second.wait(20)
        assert "承認済み" in json.dumps(parent.blocks, ensure_ascii=False)
        assert (
            len([m for m in standin.thread("C0APPROVALS", parent.ts) if "承認しました" in m.text])
            == 1
        )
    report = audit.verify(service.db)
    assert report.ok and report.entries == 2

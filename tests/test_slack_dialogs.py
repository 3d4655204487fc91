"""The NDA dialog and /clause in Slack, end to end: signed commands, modal submissions and clicks
against the Web API stand-in."""

from __future__ import annotations

import io
import json
from typing import Any

import docx
import pytest

from bot.bench.slack_requests import submitted_view
from bot.slack import ids
from tests.slack_harness import SlackHarness

ANSWERS: dict[str, dict[str, Any]] = {
    "parties": {
        "disclosing_party": "株式会社委託元",
        "receiving_party": "株式会社委託先",
        "direction": "one_way",
    },
    "purpose": {"purpose": "顧客管理システムの開発委託の検討"},
    "scope": {"definition": "marked", "exclusions": ["public_before", "possessed"]},
    "handlers": {"handlers_scope": "need_to_know"},
    "storage": {"storage": "locked_with_admin", "copying": "prior_consent"},
    "disposal": {"disposal": ["return", "erase"], "disposal_certificate": "true"},
    "personal": {"personal_data": "true"},
    "personal_detail": {
        "personal_data_items": "氏名、電話番号",
        "personal_data_count": "1200",
        "my_number": "false",
    },
    "third_party": {"third_party": "prior_written_consent", "audit": "true"},
    "breach": {
        "breach_report_hours": "24",
        "breach_contact": "情報セキュリティ部",
        "damages": "true",
        "injunction": "true",
    },
    "term": {
        "effective_date": "2027-04-01",
        "term_years": "3",
        "survival_years": "5",
        "court": "東京地方裁判所",
    },
}


def opened_view(slack: SlackHarness) -> dict[str, Any]:
    return slack.standin.calls_to("views.open")[-1].params["view"]


def step_of(view: dict[str, Any]) -> str:
    return str(view["private_metadata"]).split(".")[1]


def start(slack: SlackHarness, text: str = "") -> dict[str, Any]:
    reply = slack.sender.command(text, slack.standin.response_url("nda"), command="/nda")
    assert reply.status == 200
    return opened_view(slack)


def submit(
    slack: SlackHarness, view: dict[str, Any], values: dict[str, Any], user: str = "U0ALICE"
) -> dict[str, Any]:
    reply = slack.sender.view_submission(submitted_view(view, values), user=user)
    assert reply.status == 200
    return reply.json() if reply.body else {}


def walk(slack: SlackHarness, view: dict[str, Any]) -> dict[str, Any]:
    while step_of(view) != "review":
        result = submit(slack, view, ANSWERS[step_of(view)])
        assert result["response_action"] == "update", result
        view = result["view"]
    return view


def test_nda_from_command_to_documents_in_a_dm(slack: SlackHarness) -> None:
    view = start(slack)
    assert view["callback_id"] == ids.DIALOG_VIEW and step_of(view) == "parties"
    text = json.dumps(view["blocks"], ensure_ascii=False)
    assert "ステップ 1/" in text and "出典" in text  # guidance with its source
    review = walk(slack, view)
    summary = json.dumps(review["blocks"], ensure_ascii=False)
    assert "株式会社委託先" in summary and "秘密と表示した情報に限る" in summary
    assert submit(slack, review, {}) == {"response_action": "clear"}
    assert slack.settle()
    uploads = {u.filename: u for u in slack.standin.uploads.values()}
    [docx_name] = [n for n in uploads if n.endswith(".docx")]
    [md_name] = [n for n in uploads if n.endswith(".md")]
    assert uploads[docx_name].channel == "D0ALICE" and uploads[docx_name].completed
    assert "法務" in uploads[docx_name].initial_comment
    document = docx.Document(io.BytesIO(uploads[docx_name].content or b""))
    body = "\n".join(p.text for p in document.paragraphs)
    assert "株式会社委託元" in body and "株式会社委託先" in body and "{{" not in body
    markdown = (uploads[md_name].content or b"").decode("utf-8")
    assert "第1条" in markdown and "{{" not in markdown
    [message] = [m for m in slack.standin.messages.values() if m.channel == "D0ALICE" and m.blocks]
    assert ids.DRAFT_EDIT in json.dumps(message.blocks)


def test_errors_are_shown_beside_the_field(slack: SlackHarness) -> None:
    view = start(slack)
    result = submit(slack, view, {"disclosing_party": "<!channel> 株式会社", "receiving_party": ""})
    assert result["response_action"] == "errors"
    assert set(result["errors"]) == {"f_disclosing_party", "f_receiving_party"}
    assert "メンション" in result["errors"]["f_disclosing_party"]


def test_back_button_shows_the_previous_step(slack: SlackHarness) -> None:
    view = start(slack)
    second = submit(slack, view, ANSWERS["parties"])["view"]
    assert step_of(second) == "purpose"
    reply = slack.sender.view_action({"action_id": ids.DIALOG_BACK, "type": "button"}, second)
    assert reply.status == 200
    assert slack.settle()
    [update] = slack.standin.calls_to("views.update")
    assert step_of(update.params["view"]) == "parties"
    assert "株式会社委託先" in json.dumps(update.params["view"], ensure_ascii=False)


def test_stale_forged_and_foreign_submissions_are_refused(slack: SlackHarness) -> None:
    view = start(slack)
    submit(slack, view, ANSWERS["parties"])
    stale = submit(slack, view, ANSWERS["parties"])  # the same window submitted again
    assert "古く" in json.dumps(stale["view"], ensure_ascii=False)
    forged = {**view, "private_metadata": view["private_metadata"][:-4] + "abcd"}
    refused = submit(slack, forged, ANSWERS["parties"])
    assert "無効" in json.dumps(refused["view"], ensure_ascii=False)
    other = submit(slack, view, ANSWERS["parties"], user="U0MALLORY")
    assert "別の人" in json.dumps(other["view"], ensure_ascii=False)


def test_resume_and_start_over(slack: SlackHarness) -> None:
    view = start(slack)
    submit(slack, view, ANSWERS["parties"])
    resumed = start(slack)
    assert step_of(resumed) == "purpose" and "前回の続き" in json.dumps(resumed, ensure_ascii=False)
    fresh = start(slack, "new")
    assert step_of(fresh) == "parties"


def test_edit_reopens_the_dialog_with_answers_kept(slack: SlackHarness) -> None:
    review = walk(slack, start(slack))
    submit(slack, review, {})
    assert slack.settle()
    dialog_id = review["private_metadata"].split(".")[0]
    slack.sender.view_action(
        {"action_id": ids.DRAFT_EDIT, "type": "button", "value": dialog_id}, {}
    )
    assert slack.settle()
    reopened = opened_view(slack)
    assert step_of(reopened) == "review" and "株式会社委託先" in json.dumps(
        reopened, ensure_ascii=False
    )


def test_itaku_nda_opens_the_same_dialog(slack: SlackHarness) -> None:
    assert slack.sender.command("nda", slack.standin.response_url("x")).status == 200
    assert step_of(opened_view(slack)) == "parties"


@pytest.mark.parametrize("command", ["/clause", "/itaku"])
def test_clause_with_values(slack: SlackHarness, command: str) -> None:
    text = "再委託" if command == "/clause" else "clause 再委託"
    reply = slack.sender.command(text, slack.standin.response_url("c"), command=command)
    body = reply.json()
    blocks = json.dumps(body["blocks"], ensure_ascii=False)
    assert reply.status == 200 and "再委託" in blocks and "出典" in blocks and "{{" not in blocks


def test_clause_topics_and_errors(slack: SlackHarness) -> None:
    topics = slack.sender.command("", slack.standin.response_url("c"), command="/clause").json()
    assert "再委託" in json.dumps(topics["blocks"], ensure_ascii=False)
    bad = slack.sender.command(
        "存在しない条項", slack.standin.response_url("c"), command="/clause"
    ).json()
    assert "⚠" in json.dumps(bad["blocks"], ensure_ascii=False) or ":warning:" in json.dumps(
        bad["blocks"]
    )
    ping = slack.sender.command(
        "再委託 <!channel>=1", slack.standin.response_url("c"), command="/clause"
    ).json()
    assert "<!channel>" not in json.dumps(ping, ensure_ascii=False)


def test_upload_failure_is_told_and_the_answers_can_be_reopened(slack: SlackHarness) -> None:
    slack.standin.fail("files.getUploadURLExternal", 503, times=10)
    review = walk(slack, start(slack))
    submit(slack, review, {})
    assert slack.settle(30)
    [message] = [m for m in slack.standin.messages.values() if m.channel == "D0ALICE"]
    assert "送れませんでした" in json.dumps(message.blocks, ensure_ascii=False)
    assert ids.DRAFT_EDIT in json.dumps(message.blocks)

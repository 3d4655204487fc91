"""The NDA and subcontracting dialogs in Teams end to end over real HTTP on 127.0.0.1: signed
commands and invokes (task/fetch, task/submit, fileConsent/invoke) in, the Bot Connector stand-in
records what the bot sends and the OneDrive upload session what it uploads."""

from __future__ import annotations

import http.client
import io
import time
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import docx
import pytest

from bot.assistant.service import Assistant
from bot.teams.dialogs import in_worker
from tests.slack_harness import sqlite_url
from tests.teams_harness import TeamsHarness

CHANNEL = "19:dialogs@thread.tacv2;messageid=1700000000099"
ALICE = "29:1alice"
MALLORY = "29:1mallory"
FILE_CONSENT = "application/vnd.microsoft.teams.card.file.consent"
FILE_INFO = "application/vnd.microsoft.teams.card.file.info"

NDA: dict[str, dict[str, str]] = {
    "parties": {
        "disclosing_party": "株式会社委託元",
        "receiving_party": "株式会社委託先",
        "direction": "one_way",
    },
    "purpose": {"purpose": "顧客管理システムの開発委託の検討"},
    "scope": {"definition": "marked", "exclusions": "public_before,possessed"},
    "handlers": {"handlers_scope": "need_to_know"},
    "storage": {"storage": "locked_with_admin", "copying": "prior_consent"},
    "disposal": {"disposal": "return,erase", "disposal_certificate": "true"},
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
SUBCONTRACT: dict[str, dict[str, str]] = {
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
    "security": {"certifications": "isms", "last_assessed": "2026-10-01"},
    "further": {"further_subcontracting": "false"},
    "period": {"period_start": "2027-04-01", "period_end": "2028-03-31"},
}


@pytest.fixture()
def teams(tmp_path: Path, bundled_assistant: Assistant) -> Iterator[TeamsHarness]:
    harness = TeamsHarness(bundled_assistant, sqlite_url(tmp_path))
    yield harness
    harness.close()


# -- a Teams client, as far as these dialogs need one ------------------------------------------------


def personal_of(user: str) -> str:
    return f"a:1personal-{user.removeprefix('29:')}"


def channel_conversation(teams: TeamsHarness) -> dict[str, Any]:
    return {
        "id": CHANNEL,
        "conversationType": "channel",
        "isGroup": True,
        "tenantId": teams.standin.tenant_id,
    }


def where(teams: TeamsHarness, user: str, channel: bool) -> dict[str, Any]:
    if channel:
        return {"conversation": channel_conversation(teams)}
    return {"conversation_id": personal_of(user)}


def say(teams: TeamsHarness, words: str, user: str = ALICE, channel: bool = False) -> None:
    """A message to the bot (in a channel: with the @mention), answered by a worker."""
    extra: dict[str, Any] = where(teams, user, channel)
    if channel:
        words = f"<at>Itaku</at> {words}"
        extra["entities"] = [
            {
                "type": "mention",
                "text": "<at>Itaku</at>",
                "mentioned": {"id": teams.standin.bot_id, "name": "Itaku"},
            }
        ]
    activity = teams.standin.activity(words, user_id=user, **extra)
    assert teams.post(activity)[0] == 200
    assert teams.settle()


def sent(teams: TeamsHarness, conversation: str) -> list[dict[str, Any]]:
    return [s.activity for s in teams.standin.sent(conversation) if s.activity["type"] == "message"]


def last_card(teams: TeamsHarness, conversation: str) -> dict[str, Any]:
    attachments = sent(teams, conversation)[-1]["attachments"]
    assert attachments[0]["contentType"] == "application/vnd.microsoft.card.adaptive"
    return dict(attachments[0]["content"])


def invoke(
    teams: TeamsHarness,
    name: str,
    value: dict[str, Any],
    user: str = ALICE,
    channel: bool = False,
) -> Any:
    activity = teams.standin.activity(
        kind="invoke", name=name, value=value, user_id=user, **where(teams, user, channel)
    )
    status, body = teams.post(activity)
    assert status == 200, body
    return body


def open_dialog(
    teams: TeamsHarness, command: str = "nda", user: str = ALICE, channel: bool = False
) -> dict[str, Any]:
    """`nda` in the chat, then the chat card's button: the task module's card."""
    say(teams, command, user, channel)
    conversation = CHANNEL if channel else personal_of(user)
    button = last_card(teams, conversation)["actions"][0]
    body = invoke(teams, "task/fetch", {"data": button["data"]}, user, channel)
    return task_card(body)


def task_card(body: Any) -> dict[str, Any]:
    assert body["task"]["type"] == "continue", body
    return dict(body["task"]["value"]["card"]["content"])


def walk(node: Any) -> Iterator[dict[str, Any]]:
    if isinstance(node, dict):
        yield node
        for value in node.values():
            yield from walk(value)
    elif isinstance(node, list):
        for item in node:
            yield from walk(item)


def inputs(card: dict[str, Any]) -> dict[str, Any]:
    """What a Teams client sends for the card's inputs as they stand (pre-filled values)."""
    return {
        n["id"]: n.get("value", "")
        for n in walk(card)
        if str(n.get("type", "")).startswith("Input.")
    }


def action(card: dict[str, Any], move: str, goto: str | None = None) -> dict[str, Any]:
    for n in walk(card):
        data = n.get("data")
        if (
            n.get("type") == "Action.Submit"
            and isinstance(data, dict)
            and data.get("move") == move
            and (goto is None or data.get("goto") == goto)
        ):
            return dict(data)
    raise AssertionError(f"no {move} button")


def step_of(card: dict[str, Any]) -> str:
    try:
        return str(action(card, "next")["step"])
    except AssertionError:
        return str(action(card, "finish")["step"])


def text_of(card: dict[str, Any]) -> str:
    """The card's words: its TextBlocks and the values of its FactSets."""
    shown = [str(n["text"]) for n in walk(card) if n.get("type") == "TextBlock"]
    shown += [str(f["value"]) for n in walk(card) if n.get("type") == "FactSet" for f in n["facts"]]
    return "\n".join(shown)


def press(
    teams: TeamsHarness,
    card: dict[str, Any],
    move: str,
    values: dict[str, Any] | None = None,
    *,
    goto: str | None = None,
    user: str = ALICE,
    channel: bool = False,
) -> Any:
    """A button of the task module's card, with the inputs as they stand and `values` typed."""
    data = {**inputs(card), **{f"field:{k}": v for k, v in (values or {}).items()}}
    data.update(action(card, move, goto))
    return invoke(teams, "task/submit", {"data": data}, user, channel)


def to_review(
    teams: TeamsHarness,
    card: dict[str, Any],
    answers: dict[str, dict[str, str]],
    user: str = ALICE,
    channel: bool = False,
) -> dict[str, Any]:
    while step_of(card) != "review":
        card = task_card(
            press(teams, card, "next", answers.get(step_of(card)), user=user, channel=channel)
        )
    return card


def consent_cards(teams: TeamsHarness, conversation: str) -> list[dict[str, Any]]:
    return [
        a
        for m in sent(teams, conversation)
        for a in m.get("attachments") or []
        if a["contentType"] == FILE_CONSENT
    ]


def answer_consent(
    teams: TeamsHarness, consent: dict[str, Any], accept: bool = True, user: str = ALICE
) -> Any:
    content = consent["content"]
    value: dict[str, Any] = {
        "type": "fileUpload",
        "action": "accept" if accept else "decline",
        "context": content["acceptContext" if accept else "declineContext"],
    }
    if accept:
        value["uploadInfo"] = teams.standin.upload_info(consent["name"])
    return invoke(teams, "fileConsent/invoke", value, user)


def finish_nda(teams: TeamsHarness, user: str = ALICE, channel: bool = False) -> str:
    review = to_review(teams, open_dialog(teams, "nda", user, channel), NDA, user, channel)
    done = press(teams, review, "finish", user=user, channel=channel)
    assert done["task"]["type"] == "message" and "作成しました" in done["task"]["value"]
    assert teams.settle()
    return str(action(review, "finish")["dialog_id"])


# -- the NDA --------------------------------------------------------------------------------------


def test_nda_from_the_command_to_the_docx_in_onedrive(teams: TeamsHarness) -> None:
    conversation = personal_of(ALICE)
    say(teams, "nda")
    chat_card = last_card(teams, conversation)
    assert chat_card["actions"][0]["title"] == "入力を始める"
    assert chat_card["actions"][0]["data"]["msteams"] == {"type": "task/fetch"}

    body = invoke(teams, "task/fetch", {"data": chat_card["actions"][0]["data"]})
    assert body["task"]["value"]["title"] == "秘密保持契約（NDA）の作成"
    card = task_card(body)
    assert step_of(card) == "parties"
    assert "出典" in text_of(card)  # the step's guidance, with its source

    # an error beside its field, and what was typed kept
    typed = {**NDA["parties"], "disclosing_party": "<!channel> 株式会社"}
    again = task_card(press(teams, card, "next", typed))
    assert step_of(again) == "parties"
    body_items = [n for n in walk(again["body"]) if "type" in n]
    at = next(i for i, n in enumerate(body_items) if n.get("id") == "field:disclosing_party")
    assert body_items[at]["value"] == "<!channel> 株式会社"
    assert body_items[at + 1]["color"] == "Attention" and "メンション" in body_items[at + 1]["text"]
    assert inputs(again)["field:receiving_party"] == "株式会社委託先"

    # next, then back: the first step again with the answers in it
    second = task_card(press(teams, again, "next", NDA["parties"]))
    assert step_of(second) == "purpose"
    back = task_card(press(teams, second, "back"))
    assert step_of(back) == "parties" and inputs(back)["field:receiving_party"] == "株式会社委託先"

    # to the review, change one step there, and back to the review
    review = to_review(teams, back, NDA)
    assert "顧客管理システムの開発委託の検討" in text_of(review)
    purpose = task_card(press(teams, review, "goto", goto="purpose"))
    assert step_of(purpose) == "purpose"
    review = to_review(
        teams, task_card(press(teams, purpose, "next", {"purpose": "共同研究の検討"})), NDA
    )
    assert "共同研究の検討" in text_of(review)

    done = press(teams, review, "finish")
    assert done["task"]["type"] == "message"
    assert teams.settle()

    # in the 1:1 chat: the summary with Edit, then a consent card for each file
    messages = sent(teams, conversation)[1:]
    summary = messages[0]["attachments"][0]["content"]
    assert "株式会社委託先" in str(summary) and action(summary, "edit")["msteams"]
    docx_consent, md_consent = consent_cards(teams, conversation)
    assert docx_consent["name"] == "NDA_株式会社委託先_2027-04-01.docx"
    assert md_consent["name"] == "NDA_株式会社委託先_2027-04-01.md"

    assert answer_consent(teams, docx_consent) is None  # answered 200, no body
    [upload] = teams.standin.uploaded(docx_consent["name"])
    assert not upload.authorization  # the bot's token never goes to OneDrive
    assert upload.content_range == f"bytes 0-{len(upload.data) - 1}/{len(upload.data)}"
    with zipfile.ZipFile(io.BytesIO(upload.data)) as z:
        assert "word/document.xml" in z.namelist()
    document = docx.Document(io.BytesIO(upload.data))
    words = "\n".join(p.text for p in document.paragraphs)
    assert "株式会社委託先" in words and "共同研究の検討" in words
    info = sent(teams, conversation)[-1]["attachments"][0]
    uploaded = teams.standin.upload_info(docx_consent["name"])
    assert info == {
        "contentType": FILE_INFO,
        "contentUrl": uploaded["contentUrl"],
        "name": docx_consent["name"],
        "content": {"uniqueId": uploaded["uniqueId"], "fileType": "docx"},
    }

    answer_consent(teams, md_consent)
    [markdown] = teams.standin.uploaded(md_consent["name"])
    assert "株式会社委託先" in markdown.data.decode("utf-8")


def test_a_double_accept_uploads_once_and_decline_is_told(teams: TeamsHarness) -> None:
    finish_nda(teams)
    conversation = personal_of(ALICE)
    docx_consent, md_consent = consent_cards(teams, conversation)
    for _ in range(3):
        answer_consent(teams, docx_consent)
    assert len(teams.standin.uploaded(docx_consent["name"])) == 1
    infos = [
        a
        for m in sent(teams, conversation)
        for a in m.get("attachments") or []
        if a["contentType"] == FILE_INFO
    ]
    assert len(infos) == 1

    before = len(sent(teams, conversation))
    answer_consent(teams, md_consent, accept=False)
    answer_consent(teams, md_consent, accept=False)
    after = sent(teams, conversation)
    assert len(after) == before + 1 and "保存しませんでした" in after[-1]["text"]
    assert teams.standin.uploaded(md_consent["name"]) == []


def test_an_upload_the_session_cannot_take_now_is_tried_again(teams: TeamsHarness) -> None:
    teams.rt.events.reattempt_delays = (0.2, 0.2)
    finish_nda(teams)
    docx_consent, _ = consent_cards(teams, personal_of(ALICE))
    teams.standin.fail("upload", 503, times=1)
    answer_consent(teams, docx_consent)
    assert teams.standin.wait_for(lambda: len(teams.standin.uploaded()) == 1, 5)
    assert teams.settle()
    assert len(teams.standin.uploaded()) == 1


def test_an_nda_started_in_a_channel_is_delivered_in_the_1_1_chat(teams: TeamsHarness) -> None:
    finish_nda(teams, channel=True)
    [create] = teams.standin.calls_to("create_conversation")
    assert create.body is not None
    assert create.body["members"] == [{"id": ALICE}]
    assert create.body["tenantId"] == teams.standin.tenant_id
    personal = "a:1standin-1"
    assert len(consent_cards(teams, personal)) == 2
    # nothing about the draft in the channel but the card that opened it
    assert len(sent(teams, CHANNEL)) == 1
    docx_consent = consent_cards(teams, personal)[0]
    answer = teams.standin.activity(
        kind="invoke",
        name="fileConsent/invoke",
        user_id=ALICE,
        conversation_id=personal,
        value={
            "type": "fileUpload",
            "action": "accept",
            "context": docx_consent["content"]["acceptContext"],
            "uploadInfo": teams.standin.upload_info(docx_consent["name"]),
        },
    )
    assert teams.post(answer)[0] == 200
    assert len(teams.standin.uploaded(docx_consent["name"])) == 1
    assert sent(teams, personal)[-1]["attachments"][0]["contentType"] == FILE_INFO


def test_resume_after_leaving_and_start_over(teams: TeamsHarness) -> None:
    card = open_dialog(teams)
    task_card(press(teams, card, "next", NDA["parties"]))
    # the task module is closed; later, `nda` again offers to continue
    say(teams, "nda")
    chat_card = last_card(teams, personal_of(ALICE))
    assert chat_card["actions"][0]["title"] == "続きから入力する"
    resumed = task_card(invoke(teams, "task/fetch", {"data": chat_card["actions"][0]["data"]}))
    assert step_of(resumed) == "purpose" and "前回の続き" in text_of(resumed)
    say(teams, "nda new")
    assert last_card(teams, personal_of(ALICE))["actions"][0]["title"] == "入力を始める"
    fresh = task_card(
        invoke(
            teams,
            "task/fetch",
            {"data": last_card(teams, personal_of(ALICE))["actions"][0]["data"]},
        )
    )
    assert step_of(fresh) == "parties"


def test_a_retried_command_is_answered_once(teams: TeamsHarness) -> None:
    activity = teams.standin.activity("nda", user_id=ALICE, conversation_id=personal_of(ALICE))
    for _ in range(3):
        assert teams.post(activity)[0] == 200
    assert teams.settle()
    assert len(sent(teams, personal_of(ALICE))) == 1


def test_stale_double_and_foreign_submits_are_refused(teams: TeamsHarness) -> None:
    card = open_dialog(teams)
    second = task_card(press(teams, card, "next", NDA["parties"]))
    stale = press(teams, card, "next", NDA["parties"])  # the same card submitted again
    assert stale["task"]["type"] == "message" and "古く" in stale["task"]["value"]
    dialog_id = action(second, "next")["dialog_id"]
    row = teams.rt.dialogs.store.get(dialog_id)  # type: ignore[union-attr]
    assert row is not None and row.step == "purpose" and row.version == 2  # nothing done twice

    foreign = press(teams, second, "next", NDA["purpose"], user=MALLORY)
    assert foreign["task"]["type"] == "message" and "別の人" in foreign["task"]["value"]
    edit = invoke(
        teams,
        "task/fetch",
        {"data": {"itaku": "dialog", "move": "edit", "dialog_id": dialog_id}},
        MALLORY,
    )
    assert "別の人" in edit["task"]["value"]
    row = teams.rt.dialogs.store.get(dialog_id)  # type: ignore[union-attr]
    assert row is not None and row.version == 2 and "purpose" not in row.answers

    # the review's Create pressed twice: one draft
    review = to_review(teams, second, NDA)
    assert press(teams, review, "finish")["task"]["type"] == "message"
    twice = press(teams, review, "finish")
    assert "完了" in twice["task"]["value"] or "古く" in twice["task"]["value"]
    assert teams.settle()
    assert len(consent_cards(teams, personal_of(ALICE))) == 2


def test_someone_elses_file_consent_uploads_nothing(teams: TeamsHarness) -> None:
    finish_nda(teams)
    docx_consent, _ = consent_cards(teams, personal_of(ALICE))
    answer_consent(teams, docx_consent, user=MALLORY)
    assert teams.standin.uploaded() == []


def test_an_edited_draft_offers_the_new_files_and_refuses_the_old(teams: TeamsHarness) -> None:
    dialog_id = finish_nda(teams)
    conversation = personal_of(ALICE)
    old_docx, _ = consent_cards(teams, conversation)
    # Edit on the summary reopens the review, answers kept; change the purpose and create again
    review = task_card(
        invoke(
            teams,
            "task/fetch",
            {"data": {"itaku": "dialog", "move": "edit", "dialog_id": dialog_id}},
        )
    )
    assert step_of(review) == "review" and "株式会社委託先" in text_of(review)
    purpose = task_card(press(teams, review, "goto", goto="purpose"))
    review = to_review(
        teams, task_card(press(teams, purpose, "next", {"purpose": "別の目的"})), NDA
    )
    press(teams, review, "finish")
    assert teams.settle()
    assert len(consent_cards(teams, conversation)) == 4
    answer_consent(teams, old_docx)
    assert teams.standin.uploaded() == []
    assert "変更されています" in sent(teams, conversation)[-1]["text"]


def test_a_replica_that_dies_after_create_leaves_the_draft_to_the_sweeper(
    tmp_path: Path, bundled_assistant: Assistant
) -> None:
    url = sqlite_url(tmp_path)
    first = TeamsHarness(bundled_assistant, url, ITAKU_EVENT_LEASE=1)
    review = to_review(first, open_dialog(first), NDA)
    first.rt.runner.submit = lambda *a, **k: None  # type: ignore[method-assign]
    assert press(first, review, "finish")["task"]["type"] == "message"  # then it "dies"
    first.server.close()
    second = TeamsHarness(bundled_assistant, url, standin=first.standin, ITAKU_EVENT_LEASE=1)
    try:
        time.sleep(1.2)
        assert second.rt.events.sweep_once() == 1
        assert second.settle()
        assert len(consent_cards(second, personal_of(ALICE))) == 2
        assert second.rt.events.sweep_once() == 0
    finally:
        second.close()
        first.rt.runner.shutdown(timeout=1)


def test_an_expired_dialog_is_told(tmp_path: Path, bundled_assistant: Assistant) -> None:
    harness = TeamsHarness(bundled_assistant, sqlite_url(tmp_path), ITAKU_DIALOG_TTL=1)
    try:
        card = open_dialog(harness)
        time.sleep(1.2)
        expired = press(harness, card, "next", NDA["parties"])
        assert expired["task"]["type"] == "message" and "期限切れ" in expired["task"]["value"]
    finally:
        harness.close()


def test_forged_task_data_is_refused_without_error(teams: TeamsHarness) -> None:
    for data in (
        {"itaku": "dialog", "move": "next", "dialog_id": "x", "step": "parties", "version": "v"},
        {"itaku": "dialog", "move": "goto", "dialog_id": "x", "step": "review", "version": 1},
        {"itaku": "dialog", "move": "explode"},
        {"itaku": "something-else"},
    ):
        body = invoke(teams, "task/submit", {"data": data})
        assert body["task"]["type"] == "message"
    card = open_dialog(teams)
    data = {**action(card, "next"), "step": "no-such-step"}
    assert invoke(teams, "task/submit", {"data": data})["task"]["type"] == "message"
    assert teams.wsgi.unexpected == 0


# -- the subcontracting request ---------------------------------------------------------------------


def test_subcontract_dialog_files_the_request(teams: TeamsHarness) -> None:
    told: list[tuple[str, bool, str]] = []
    handoff = teams.rt.handoff
    assert handoff is not None
    handoff.on_filed = in_worker(
        teams.rt, lambda view, again, by: told.append((view.id, again, by))
    )
    review = to_review(teams, open_dialog(teams, "subcontract"), SUBCONTRACT)
    dialog_id = action(review, "finish")["dialog_id"]
    done = press(teams, review, "finish")
    assert done["task"]["type"] == "message"
    approvals = teams.rt.handoff.approvals  # type: ignore[union-attr]
    assert approvals is not None
    request = approvals.by_dialog(dialog_id)
    assert request is not None and request.status == "pending"
    assert request.answers["subcontractor_name"] == "株式会社再委託先"
    assert request.id in done["task"]["value"]
    assert teams.settle()
    news = sent(teams, personal_of(ALICE))[-1]
    assert request.id in news["text"] and "提出しました" in news["text"]
    assert told == [(request.id, False, request.requester)]  # for the approvers' card
    # a second Create files nothing more
    press(teams, review, "finish")
    assert teams.settle()
    assert len(approvals.search(requester=request.requester)) == 1


# -- clauses --------------------------------------------------------------------------------------


def test_clause_command(teams: TeamsHarness) -> None:
    conversation = personal_of(ALICE)
    say(teams, "clause 再委託")
    clause = text_of(last_card(teams, conversation))
    assert "再委託" in clause and "出典" in clause and "{{" not in clause
    say(teams, "clause")
    assert "条項のトピック" in text_of(last_card(teams, conversation))
    say(teams, "clause 存在しない条項")
    error = last_card(teams, conversation)
    assert any(n.get("color") == "Attention" for n in walk(error))


# -- the upload itself --------------------------------------------------------------------------


def test_upload_goes_only_to_https_or_loopback_and_reads_failures() -> None:
    from bot.bench.teams_standin import TeamsStandIn
    from bot.teams.connector import ConnectorError
    from bot.teams.files import upload

    for url in ("http://example.com/upload/x.docx", "ftp://127.0.0.1/x", "https://user:pw@h/x"):
        with pytest.raises(ConnectorError) as refused:
            upload(url, b"data")
        assert not refused.value.retry
    with TeamsStandIn() as standin:
        url = standin.upload_info("x.md")["uploadUrl"]
        standin.fail("upload", 503)
        with pytest.raises(ConnectorError) as busy:
            upload(url, b"# x")
        assert busy.value.retry and busy.value.status == 503
        upload(url, b"# x")
        [done] = standin.uploaded("x.md")
        assert done.data == b"# x" and done.content_range == "bytes 0-2/3"
        with pytest.raises(ConnectorError) as empty:
            upload(url, b"")
        assert not empty.value.retry
        # the stand-in takes a whole file only: a Content-Range that does not match is refused
        conn = http.client.HTTPConnection("127.0.0.1", standin.port, timeout=5)
        conn.request("PUT", "/upload/y.md", body=b"abc", headers={"Content-Range": "bytes 0-1/3"})
        assert conn.getresponse().status == 400
        conn.close()
        assert standin.uploaded("y.md") == [] and not standin.uploads[-1].accepted

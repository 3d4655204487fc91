"""Teams Adaptive Cards built from real core objects: answers from the assistant, dialog states
from the engine on SQLite, requests from the approval service. Each card is JSON, has the
expected actions, verbs and data, shows errors beside their fields, escapes hostile text and
stays under Teams' size limit."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from bot.approvals.policy import ApprovalPolicy
from bot.approvals.risk import RiskRules, default_rules_path
from bot.approvals.service import ApprovalService
from bot.approvals.subcontract_fields import SubcontractAnswers
from bot.assistant.models import Answer, Citation
from bot.assistant.service import Assistant
from bot.config import PROJECT_ROOT
from bot.dialogs.engine import DialogEngine, DialogState
from bot.dialogs.guidance import StepGuidance
from bot.dialogs.spec import GENERAL
from bot.dialogs.specs import DIALOGS
from bot.drafting.clauses import ClauseError, ClauseLibrary
from bot.store.db import open_database
from bot.store.dialogs import DialogStore
from bot.teams.cards import (
    answer_card,
    attachment,
    card_response,
    clause_card,
    clause_error_card,
    clause_topics_card,
    decision_of,
    dialog_open_card,
    dialog_step_card,
    dialog_values,
    draft_summary_card,
    escape,
    file_consent_card,
    message_response,
    my_requests_card,
    notice_card,
    one_line,
    refusal_card,
    request_card,
    review_card,
    task_continue,
    task_message,
)
from bot.teams.cards.base import CARD_BUDGET, MAX_MESSAGE_BYTES, card, fit, size_of, text_block
from bot.teams.cards.dialog_cards import FIELD_PREFIX, field_input

OWNER = "teams:tenant:29:alice"
HOSTILE = (
    "**承認済み** _x_ ~~y~~ `code` [click](javascript:alert(1)) <at>Boss</at>\n"
    "# 見出し\n> quote\n\\*esc ![img](http://evil.example/x.png) ✅"
)
METACHARACTERS = set("*_~`[]<>\\")


# -- helpers ---------------------------------------------------------------------------------------


def walk(node: Any) -> Iterator[dict[str, Any]]:
    if isinstance(node, dict):
        yield node
        for value in node.values():
            yield from walk(value)
    elif isinstance(node, list):
        for item in node:
            yield from walk(item)


def of_type(content: Any, kind: str) -> list[dict[str, Any]]:
    return [n for n in walk(content) if n.get("type") == kind]


def texts(content: Any) -> list[str]:
    return [n["text"] for n in of_type(content, "TextBlock")]


def all_text(content: Any) -> str:
    return json.dumps(content, ensure_ascii=False)


def checked(content: dict[str, Any]) -> dict[str, Any]:
    """Every card: an AdaptiveCard 1.5, JSON round-trips, under the budget, links only http(s),
    every TextBlock wraps, input ids unique."""
    assert content["type"] == "AdaptiveCard" and content["version"] == "1.5"
    assert json.loads(json.dumps(content)) == content
    assert size_of(content) <= CARD_BUDGET < MAX_MESSAGE_BYTES
    for block in of_type(content, "TextBlock"):
        assert block["wrap"] is True
        for target in re.findall(r"\]\(([^)]*)\)", block["text"]):
            assert target.startswith(("https://", "http://")), target
    ids = [n["id"] for n in walk(content) if str(n.get("type", "")).startswith("Input.")]
    assert len(ids) == len(set(ids))
    return content


def actions_of(content: dict[str, Any]) -> list[dict[str, Any]]:
    return [n for n in walk(content) if str(n.get("type", "")).startswith("Action.")]


# -- answers ---------------------------------------------------------------------------------------


def test_answer_card_has_text_sources_and_vote_buttons(small_assistant: Assistant) -> None:
    answer = small_assistant.ask("漏えいしたら確報はいつまでに出す？")
    assert not answer.abstained and answer.citations
    content = checked(answer_card(answer, "ja", "ans-1"))
    shown = texts(content)
    assert "30日" in shown[0]
    assert "出典" in shown
    first = answer.citations[0]
    assert any(
        t.startswith(f"[{first.n}] [{first.title}](https://example.org/source)") for t in shown
    )
    assert any(first.section in t and first.as_of in t for t in shown if t.startswith("[1]"))
    votes = content["actions"]
    assert [(a["type"], a["verb"], a["data"]) for a in votes] == [
        ("Action.Execute", "itaku.vote", {"answer_id": "ans-1", "helpful": True}),
        ("Action.Execute", "itaku.vote", {"answer_id": "ans-1", "helpful": False}),
    ]
    assert [a["title"] for a in votes] == ["役に立った", "役に立たなかった"]
    assert not any("Japanese" in t for t in shown)
    wrapped = attachment(content)
    assert wrapped == {"contentType": "application/vnd.microsoft.card.adaptive", "content": content}


def test_english_answer_says_the_sources_are_japanese(small_assistant: Assistant) -> None:
    answer = small_assistant.ask("What is the deadline for the final report after a data breach?")
    assert answer.lang == "en" and answer.citations
    content = checked(answer_card(answer, "en", "ans-2"))
    shown = texts(content)
    assert "Sources" in shown
    assert any("Japanese" in t for t in shown)
    assert [a["title"] for a in content["actions"]] == ["Helpful", "Not helpful"]


def test_refusal_card_has_no_sources_and_the_core_words(small_assistant: Assistant) -> None:
    answer = small_assistant.ask("明日の東京の天気は？")
    assert answer.abstained
    content = checked(refusal_card(answer, "ja", "ans-3"))
    shown = texts(content)
    assert "見つかりませんでした" in shown[0]
    assert "出典" not in shown
    assert [a["verb"] for a in content["actions"]] == ["itaku.vote", "itaku.vote"]
    # an abstained answer that somehow carries citations still shows none
    with_sources = answer.model_copy(
        update={"citations": [Citation(n=1, source="kb/a.md", title="A")]}
    )
    assert "出典" not in texts(answer_card(with_sources, "ja", "ans-3"))


def test_after_a_vote_the_card_thanks_instead_of_asking() -> None:
    answer = Answer(question="q", answer="答え", abstained=False)
    content = checked(answer_card(answer, "ja", "ans-4", voted=False))
    assert "actions" not in content
    assert any("フィードバックありがとうございます" in t for t in texts(content))


def test_hostile_answer_and_source_text_cannot_format_or_link() -> None:
    answer = Answer(
        question="q",
        answer=HOSTILE,
        abstained=False,
        lang="ja",
        citations=[
            Citation(n=1, source="kb/a.md", title="**A** [x](javascript:1)", url="javascript:1"),
            Citation(n=2, source="kb/b.md", title="B", url="https://ok.example/b (x) [y]"),
            Citation(n=3, source="kb/c.md", title="C", url="https://ok.example/c(1)"),
            Citation(n=4, source="kb/d.md", title="D", url="data:text/html,<script>"),
        ],
    )
    content = checked(answer_card(answer, "ja", "ans-5"))
    body = texts(content)[0]
    assert not METACHARACTERS & set(body)
    assert "＊＊承認済み＊＊" in body and "＜at＞Boss＜/at＞" in body and "＃ 見出し" in body
    lines = {t[:3]: t for t in texts(content) if t.startswith("[")}
    assert lines["[1]"] == "[1] ＊＊A＊＊ ［x］(javascript:1)"  # no link, nothing bold
    assert lines["[2]"] == "[2] B"  # a URL with spaces is no link
    assert lines["[3]"] == "[3] [C](https://ok.example/c%281%29)"
    assert lines["[4]"] == "[4] D"
    assert "javascript" not in content["fallbackText"].split("(")[0]


def test_escape_and_one_line() -> None:
    assert escape("a*b_c") == "a＊b＿c"
    assert escape("line1\nline2\r\n\n\nline3") == "line1\n\nline2\n\nline3"
    assert escape("# h\n  #x") == "＃ h\n\n  ＃x"
    assert escape("bidi\u202eevil\x07") == "bidievil"
    assert one_line("✅ **承認済み**\n理由") == "＊＊承認済み＊＊ / 理由"
    assert one_line("㈱委託先") == "(株)委託先"


def test_long_answers_are_cut_to_fit() -> None:
    citations = [
        Citation(n=i, source=f"kb/{i}.md", title="長い題名" * 200, section="節" * 500)
        for i in range(1, 30)
    ]
    answer = Answer(
        question="q", answer="再委託の条件。" * 20_000, citations=citations, abstained=False
    )
    content = checked(answer_card(answer, "ja", "ans-6"))
    assert texts(content)[0].endswith("…")
    assert [a["verb"] for a in content["actions"]] == ["itaku.vote", "itaku.vote"]
    assert size_of(attachment(content)) < MAX_MESSAGE_BYTES


def test_a_card_that_cannot_fit_says_so() -> None:
    huge = fit(lambda scale: card([text_block("x" * 100_000)]), "大きすぎます")
    assert texts(huge) == ["大きすぎます"]


# -- dialogs ---------------------------------------------------------------------------------------

NDA_ANSWERS: dict[str, dict[str, Any]] = {
    "parties": {"disclosing_party": "株式会社委託元", "receiving_party": "株式会社委託先"},
    "purpose": {"purpose": "顧客管理システムの開発委託の検討"},
    "personal": {"personal_data": "false"},
    "term": {"effective_date": "2027-04-01"},
}


@pytest.fixture()
def engine(tmp_path: Path) -> DialogEngine:
    return DialogEngine(
        DIALOGS, DialogStore(open_database(f"sqlite:///{tmp_path / 'itaku.db'}"), ttl_s=3600)
    )


def to_review(engine: DialogEngine, spec_id: str = "nda") -> DialogState:
    state, _ = engine.start(spec_id, OWNER, fresh=True)
    while not state.at_review:
        state = engine.submit(
            state.id, OWNER, state.version, state.step, NDA_ANSWERS.get(state.step, {})
        )
        assert not state.errors, state.errors
    return state


def submitted(content: dict[str, Any], action: dict[str, Any], **typed: Any) -> dict[str, Any]:
    """What Teams sends on task/submit: the action's data, and the values of the card's inputs
    (their pre-filled values unless typed over) when the action validates inputs."""
    data = dict(action["data"])
    if action.get("associatedInputs") != "none":
        for n in walk(content):
            if str(n.get("type", "")).startswith("Input.") and "value" in n:
                data[n["id"]] = str(n["value"])
        data.update({FIELD_PREFIX + k: v for k, v in typed.items()})
    return data


def test_step_card_errors_appear_beside_their_fields(engine: DialogEngine) -> None:
    state, _ = engine.start("nda", OWNER, fresh=True)
    raw = {"disclosing_party": "", "receiving_party": "乙" * 150}
    state = engine.submit(state.id, OWNER, state.version, "parties", raw)
    assert set(state.errors) == {"disclosing_party", "receiving_party"}
    content = checked(dialog_step_card(state, submitted=raw))
    body = content["body"]
    for name, message in state.errors.items():
        at = next(i for i, e in enumerate(body) if e.get("id") == FIELD_PREFIX + name)
        follower = body[at + 1]
        assert follower["type"] == "TextBlock" and follower["color"] == "Attention"
        assert follower["text"] == escape(message)
    direction = next(i for i, e in enumerate(body) if e.get("id") == FIELD_PREFIX + "direction")
    assert body[direction + 1].get("color") != "Attention"
    # what was typed is put back, not the old answer
    receiving = next(e for e in body if e.get("id") == FIELD_PREFIX + "receiving_party")
    assert receiving["value"] == "乙" * 150
    assert sum(1 for b in of_type(content, "TextBlock") if b.get("color") == "Attention") == 2


def test_general_errors_show_above_the_fields(engine: DialogEngine) -> None:
    state, _ = engine.start("nda", OWNER, fresh=True)
    content = checked(dialog_step_card(state, errors={GENERAL: "期間が矛盾しています。"}))
    first_input = next(i for i, e in enumerate(content["body"]) if "id" in e)
    warnings = [i for i, e in enumerate(content["body"]) if e.get("color") == "Attention"]
    assert warnings and warnings[0] < first_input


def test_inputs_follow_the_field_kinds() -> None:
    seen: dict[str, dict[str, Any]] = {}
    for spec in DIALOGS.values():
        for f in spec.fields.values():
            element = field_input(f, f.default)
            seen.setdefault(f.kind, element)
            assert element["id"] == FIELD_PREFIX + f.name
            assert element.get("label") or (element["type"] == "Input.Toggle" and element["title"])
            if f.kind in ("text", "textarea"):
                assert element["type"] == "Input.Text"
                assert element.get("isMultiline", False) is (f.kind == "textarea")
            elif f.kind == "choice":
                assert element["type"] == "Input.ChoiceSet" and not element.get("isMultiSelect")
                assert element["style"] == ("expanded" if len(f.options) <= 5 else "compact")
                assert [c["value"] for c in element["choices"]] == list(f.options)
                if f.default is not None:
                    assert element["value"] == f.default
            elif f.kind == "multi":
                assert element["type"] == "Input.ChoiceSet" and element["isMultiSelect"] is True
                assert element.get("value", "") == ",".join(f.default or [])
            elif f.kind == "bool" and f.default is None:
                # no default: a Yes/No choice, so a silent "off" is never taken as an answer
                assert element["type"] == "Input.ChoiceSet" and element["isRequired"] is True
                assert [c["value"] for c in element["choices"]] == ["true", "false"]
            elif f.kind == "bool":
                assert element["type"] == "Input.Toggle"
                assert element["value"] == ("true" if f.default else "false")
                assert (element["valueOn"], element["valueOff"]) == ("true", "false")
            elif f.kind == "int":
                assert element["type"] == "Input.Number"
            else:
                assert element["type"] == "Input.Date"
            # a toggle always has a value; a Yes/No choice without a default must be answered
            answered_by_default = f.kind == "multi" or (f.kind == "bool" and f.default is not None)
            assert element.get("isRequired", False) is (f.required and not answered_by_default)
    assert set(seen) == {"text", "textarea", "choice", "multi", "bool", "int", "date"}
    date = next(f for f in DIALOGS["nda"].fields.values() if f.kind == "date")
    assert field_input(date, "2027-04-01")["value"] == "2027-04-01"
    assert "value" not in field_input(date, "2027/04/01")  # not a date the picker takes
    english = field_input(DIALOGS["nda"].fields["disclosing_party"], None, "en")
    assert english["label"] == DIALOGS["nda"].fields["disclosing_party"].label_en


def test_every_step_of_both_dialogs_makes_a_valid_card(engine: DialogEngine) -> None:
    answers: dict[str, dict[str, Any]] = {
        **NDA_ANSWERS,
        "personal": {"personal_data": "true"},
        "personal_detail": {"personal_data_items": "氏名", "personal_data_count": "1200"},
        "contract": {"our_contract": "運用委託契約", "contractor_name": "委託先"},
        "subcontractor": {"subcontractor_name": "再委託先", "subcontractor_address": "東京都"},
        "work": {"work_description": "一次対応", "reason": "人員不足"},
        "data": {"personal_data": "true"},
        "data_detail": {"personal_data_count": "5000"},
        "period": {"period_start": "2027-04-01", "period_end": "2028-03-31"},
    }
    for spec_id in ("nda", "subcontract"):
        state, _ = engine.start(spec_id, OWNER, fresh=True)
        seen = []
        for lang in ("ja", "en"):
            checked(dialog_step_card(state, lang=lang))
        while not state.at_review:
            seen.append(state.step)
            content = checked(dialog_step_card(state))
            ids = {e["id"] for e in walk(content) if "id" in e}
            assert ids == {FIELD_PREFIX + n for n in state.spec.step(state.step).fields}
            state = engine.submit(
                state.id, OWNER, state.version, state.step, answers.get(state.step, {})
            )
            assert not state.errors, (state.step, state.errors)
        assert seen == [s.id for s in state.spec.visible(state.answers)]
        checked(dialog_step_card(state, lang="en"))


def test_step_buttons_carry_the_dialog_and_the_move(engine: DialogEngine) -> None:
    state, _ = engine.start("nda", OWNER, fresh=True)
    first = checked(dialog_step_card(state, token="signed"))
    (next_button,) = first["actions"]  # no Back on the first step
    assert next_button["type"] == "Action.Submit" and next_button["associatedInputs"] == "auto"
    assert next_button["data"] == {
        "itaku": "dialog",
        "dialog_id": state.id,
        "step": "parties",
        "version": state.version,
        "move": "next",
        "token": "signed",
    }
    # Teams sends the inputs with the data; the engine takes what dialog_values reads
    data = submitted(first, next_button, **NDA_ANSWERS["parties"])
    state = engine.submit(
        data["dialog_id"], OWNER, data["version"], data["step"], dialog_values(state.spec, data)
    )
    assert state.step == "purpose" and not state.errors
    second = checked(dialog_step_card(state))
    back, forward = second["actions"]
    assert back["data"]["move"] == "back" and back["associatedInputs"] == "none"
    assert forward["data"]["move"] == "next" and forward["data"]["version"] == state.version


def test_multi_choice_round_trips(engine: DialogEngine) -> None:
    state, _ = engine.start("subcontract", OWNER, fresh=True)
    spec = state.spec
    step = next(s for s in spec.steps if "supervision" in s.fields)
    values = dialog_values(
        spec, {"field:supervision": "reports,onsite", "field:unknown": "x", "move": "next"}
    )
    assert values == {"supervision": ["reports", "onsite"]}
    assert dialog_values(spec, {"field:certifications": ""}) == {"certifications": []}
    assert step.id


def test_guidance_is_shown_with_its_source(engine: DialogEngine) -> None:
    state, _ = engine.start("subcontract", OWNER, fresh=True)
    good = StepGuidance(
        "再委託には事前の承認が必要です。",
        "再委託の手引き",
        "承認",
        "knowledge/g.md",
        "https://example.org/guide",
    )
    content = checked(dialog_step_card(state, guidance=good, lang="en"))
    shown = texts(content)
    assert "再委託には事前の承認が必要です。" in shown
    assert "Source: [再委託の手引き — 承認](https://example.org/guide)" in shown
    assert shown[0].startswith("Step 1/")
    hostile = StepGuidance("**x**", "T", "S", "knowledge/g.md", "javascript:alert(1)")
    shown = texts(checked(dialog_step_card(state, guidance=hostile)))
    assert "＊＊x＊＊" in shown and "出典：T — S" in shown


def test_review_lists_every_answer_with_a_change_button(engine: DialogEngine) -> None:
    state = to_review(engine)
    content = checked(dialog_step_card(state))  # at the review, the step card is the review
    assert content == review_card(state)
    facts = {f["title"]: f["value"] for f in of_type(content, "FactSet") for f in f["facts"]}
    assert facts["開示者（甲）の名称"] == "株式会社委託元"
    assert len(facts) == len(state.summary())
    visible = [s.id for s in state.spec.visible(state.answers)]
    edits = [a for a in actions_of(content) if a["data"]["move"] == "goto"]
    assert [a["data"]["goto"] for a in edits] == visible
    assert all(a["associatedInputs"] == "none" for a in edits)
    back, finish = content["actions"]
    assert back["data"]["move"] == "back" and finish["data"]["move"] == "finish"
    assert finish["data"]["step"] == "review" and finish["data"]["version"] == state.version
    goto = engine.goto(state.id, OWNER, state.version, edits[1]["data"]["goto"])
    assert goto.step == visible[1]
    problem = checked(review_card(state, problem="有効期間：入力してください。"))
    assert any(b.get("color") == "Attention" for b in of_type(problem, "TextBlock"))


def test_hostile_answers_are_escaped_in_the_review(engine: DialogEngine) -> None:
    state, _ = engine.start("nda", OWNER, fresh=True)
    state = engine.submit(
        state.id,
        OWNER,
        state.version,
        "parties",
        {"disclosing_party": "**甲** [x](javascript:1)", "receiving_party": "乙`code`"},
    )
    while not state.at_review:
        state = engine.submit(
            state.id, OWNER, state.version, state.step, NDA_ANSWERS.get(state.step, {})
        )
    content = checked(review_card(state))
    values = [f["value"] for f in of_type(content, "FactSet") for f in f["facts"]]
    assert "＊＊甲＊＊ ［x］(javascript:1)" in values
    assert all(not METACHARACTERS & set(v) for v in values)


def test_long_review_values_fit(engine: DialogEngine) -> None:
    state, _ = engine.start("subcontract", OWNER, fresh=True)
    answers: dict[str, dict[str, Any]] = {
        "contract": {"our_contract": "契" * 100, "contractor_name": "委" * 100},
        "subcontractor": {"subcontractor_name": "再" * 100, "subcontractor_address": "住" * 200},
        "work": {"work_description": "業" * 500, "reason": "理" * 500},
        "security": {"certifications": ["isms"], "last_assessed": "2026-10-01"},
        "period": {"period_start": "2027-04-01", "period_end": "2028-03-31"},
    }
    while not state.at_review:
        state = engine.submit(
            state.id, OWNER, state.version, state.step, answers.get(state.step, {})
        )
        assert not state.errors, state.errors
    checked(review_card(state, "en"))
    checked(review_card(state))


def test_notices_open_cards_and_task_envelopes(engine: DialogEngine) -> None:
    notice = checked(notice_card("Itaku", "この入力は期限切れです。"))
    assert texts(notice) == ["Itaku", "この入力は期限切れです。"]
    opener = checked(dialog_open_card(DIALOGS["nda"], message="NDAを作ります"))
    (start,) = opener["actions"]
    assert start["data"] == {
        "msteams": {"type": "task/fetch"},
        "itaku": "dialog",
        "move": "start",
        "spec": "nda",
    }
    summary = checked(
        draft_summary_card("秘密保持契約", (("目的", "**開発**"),), "ドラフトです", "dlg-1")
    )
    (edit,) = summary["actions"]
    assert edit["data"]["move"] == "edit" and edit["data"]["dialog_id"] == "dlg-1"
    assert edit["data"]["msteams"] == {"type": "task/fetch"}
    assert of_type(summary, "FactSet")[0]["facts"] == [{"title": "目的", "value": "＊＊開発＊＊"}]

    envelope = task_continue(notice, "秘密保持契約（NDA）の作成\n" + "x" * 100)
    value = envelope["task"]["value"]
    assert envelope["task"]["type"] == "continue"
    assert value["card"] == attachment(notice) and len(value["title"]) <= 60
    assert (value["height"], value["width"]) == ("large", "large")
    assert (
        task_continue(notice, "t", height=50_000, width="huge")["task"]["value"]["height"] == 2000
    )
    assert task_message("作成しました。") == {
        "task": {"type": "message", "value": "作成しました。"}
    }
    json.dumps(envelope)


# -- approvals -------------------------------------------------------------------------------------

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
BASE = {
    "our_contract": "顧客管理システム運用委託契約",
    "contractor_name": "株式会社委託先",
    "subcontractor_name": "株式会社再委託先",
    "subcontractor_address": "東京都千代田区1-1",
    "work_description": "問い合わせ窓口の一次対応",
    "reason": "繁忙期の人員不足",
    "period_start": "2027-04-01",
    "period_end": "2028-03-31",
    "certifications": ["isms"],
    "last_assessed": "2026-10-01",
}
LOW = SubcontractAnswers(**BASE)
HIGH = SubcontractAnswers(
    **{**BASE, "personal_data": True, "personal_data_count": 5000, "my_number": True}
)
NAMES = {"U0ALICE": "Alice", "U0DEPUTY": "Deputy", "U0SEC1": "Sec One"}


@pytest.fixture()
def service(tmp_path: Path) -> ApprovalService:
    policy = tmp_path / "policy.yaml"
    policy.write_text(POLICY, encoding="utf-8")
    return ApprovalService(
        open_database(f"sqlite:///{tmp_path / 'itaku.db'}"),
        ApprovalPolicy.load(policy),
        RiskRules.load(default_rules_path(PROJECT_ROOT / "knowledge")),
        resolve=lambda group: frozenset({"U0SEC1"}) if group == "S0SECURITY" else frozenset(),
    )


def test_request_card_for_an_approver(service: ApprovalService) -> None:
    view = service.file("U0ALICE", HIGH)
    content = checked(request_card(view, True, refresh_user_ids=["29:a", "29:b"], names=NAMES))
    shown = all_text(content)
    assert view.id in shown and "株式会社再委託先" in shown and "Alice" in shown
    assert "リスク：高" in shown and "承認待ち" in shown and "部門長" in shown
    assert any(r.source in shown for r in view.risk.reasons)
    facts = {f["title"]: f["value"] for f in of_type(content, "FactSet")[0]["facts"]}
    assert facts["再委託先の名称"] == "株式会社再委託先"
    approve, reject, revise = content["actions"]
    data = {"request_id": view.id, "revision": view.revision}
    assert (approve["type"], approve["verb"], approve["data"]) == (
        "Action.Execute",
        "itaku.approve",
        data,
    )
    for show, verb in ((reject, "itaku.reject"), (revise, "itaku.revise")):
        assert show["type"] == "Action.ShowCard"
        (box,) = show["card"]["body"]
        assert box["type"] == "Input.Text" and box["isRequired"] is True and box["isMultiline"]
        (execute,) = show["card"]["actions"]
        assert (execute["type"], execute["verb"], execute["data"]) == ("Action.Execute", verb, data)
        assert decision_of(verb, {**data, box["id"]: "  理由  "})[1] == "理由"  # type: ignore[index]
    assert content["refresh"] == {
        "action": {
            "type": "Action.Execute",
            "title": "最新の状態を表示",
            "verb": "itaku.refresh",
            "data": {"request_id": view.id},
        },
        "userIds": ["29:a", "29:b"],
    }
    assert decision_of("itaku.approve", data) == ("approved", None)
    assert decision_of("itaku.reject", data) == ("rejected", None)
    assert decision_of("itaku.vote", data) is None


def test_no_buttons_for_those_who_may_not_decide(service: ApprovalService) -> None:
    view = service.file("U0ALICE", LOW)
    content = checked(request_card(view, False))
    assert "actions" not in content
    assert [a["verb"] for a in actions_of(content)] == ["itaku.refresh"]  # only the refresh
    assert not of_type(content, "Input.Text")


def test_refresh_user_ids_are_capped_at_sixty(service: ApprovalService) -> None:
    view = service.file("U0ALICE", LOW)
    ids = [f"29:user-{i}" for i in range(100)]
    content = checked(request_card(view, False, refresh_user_ids=ids + ids[:5]))
    assert content["refresh"]["userIds"] == ids[:60]
    assert checked(request_card(view, False))["refresh"]["userIds"] == []


def test_after_a_decision_the_card_shows_who_and_what_next(service: ApprovalService) -> None:
    view = service.file("U0ALICE", HIGH)
    first = service.decide(view.id, "U0DEPUTY", "approved").request
    assert first is not None
    content = checked(request_card(first, False, names=NAMES))
    shown = texts(content)
    assert "Deputy さんが承認しました" in shown
    assert any(t.startswith("次は 情報セキュリティ部 の判断です") for t in shown)
    assert "refresh" in content  # still pending: the next approvers get their view
    done = service.decide(view.id, "U0SEC1", "approved", revision=first.revision).request
    assert done is not None and done.status == "approved"
    final = checked(request_card(done, True, refresh_user_ids=["29:a"], names=NAMES))
    assert "actions" not in final and "refresh" not in final  # nothing left to decide
    assert "すべての段階で承認され、申請は承認済みになりました。" in texts(final)
    english = checked(request_card(done, False, "en", names=NAMES))
    assert "Approved at every stage: the request is approved." in texts(english)
    assert "Sec One: approved" in texts(english)


def test_hostile_request_text_is_escaped(service: ApprovalService) -> None:
    answers = SubcontractAnswers(
        **{**BASE, "work_description": "**承認済み** ✅ [押す](javascript:alert(1)) <at>CEO</at>"}
    )
    view = service.file("U0ALICE", answers)
    reason = "# 却下\n**やり直し** `x` [link](http://evil.example)"
    decided = service.decide(view.id, "U0DEPUTY", "rejected", reason).request
    assert decided is not None
    content = checked(request_card(decided, True, names={"U0DEPUTY": "*Boss*"}))
    facts = {f["title"]: f["value"] for f in of_type(content, "FactSet")[0]["facts"]}
    assert (
        facts["再委託する業務の内容と範囲"]
        == "＊＊承認済み＊＊ ［押す］(javascript:alert(1)) ＜at＞CEO＜/at＞"
    )
    decision_line = next(t for t in texts(content) if "却下" in t and "やり直し" in t)
    assert "＊Boss＊" in decision_line and not METACHARACTERS & set(decision_line.split("　", 1)[1])
    assert "actions" not in content  # rejected: nothing to decide


def test_long_reasons_keep_the_request_card_small(service: ApprovalService) -> None:
    view = service.file("U0ALICE", HIGH)
    first = service.decide(view.id, "U0DEPUTY", "approved").request
    assert first is not None
    decided = service.decide(view.id, "U0SEC1", "changes_requested", "理" * 5000).request
    assert decided is not None
    content = checked(
        request_card(decided, True, refresh_user_ids=[f"29:{'u' * 200}-{i}" for i in range(80)])
    )
    assert size_of(card_response(content)) < MAX_MESSAGE_BYTES
    assert "申請者の修正と再提出を待っています。" in texts(content)


def test_my_requests_lists_mine_and_what_waits(service: ApprovalService) -> None:
    mine = [service.file("U0ALICE", LOW) for _ in range(12)]
    waiting = [service.file("U0BOB", HIGH)]
    content = checked(my_requests_card(list(reversed(mine)), waiting))
    shown = all_text(content)
    assert mine[-1].id in shown and mine[2].id in shown and mine[0].id not in shown
    assert "ほか2件" in shown
    assert "承認待ち・部門長（リスク低）" in shown
    assert "あなたの判断を待っている申請" in shown and waiting[0].id in shown
    empty = checked(my_requests_card([], [], "en"))
    assert "No requests yet." in texts(empty)
    assert "Nothing is waiting for your decision." in texts(empty)


# -- clauses ---------------------------------------------------------------------------------------


def test_clause_cards() -> None:
    library = ClauseLibrary.load(PROJECT_ROOT / "knowledge")
    filled = library.fill("合意管轄", {"court": "*大阪地方裁判所* <at>x</at> [a](javascript:1)"})
    content = checked(clause_card(filled))
    shown = all_text(content)
    assert "＊大阪地方裁判所＊ ＜at＞x＜/at＞ ［a］(javascript:1)" in shown
    assert filled.template.source in shown and "使った値：court=" in shown
    quoted = of_type(content, "Container")[0]["items"]
    assert len(quoted) == len([p for p in filled.paragraphs if p.strip()])
    topics = library.topics()
    listing = checked(clause_topics_card(topics))
    assert all(one_line(t.topic) in all_text(listing) for t in topics)
    with pytest.raises(ClauseError) as e:
        library.fill("存在しないトピック")
    error = checked(clause_error_card(str(e.value), topics))
    assert of_type(error, "TextBlock")[0]["color"] == "Attention"


# -- responses -------------------------------------------------------------------------------------


def test_invoke_responses() -> None:
    content = notice_card("Itaku", "ok")
    assert card_response(content) == {
        "statusCode": 200,
        "type": "application/vnd.microsoft.card.adaptive",
        "value": content,
    }
    assert message_response("判断できません。") == {
        "statusCode": 200,
        "type": "application/vnd.microsoft.activity.message",
        "value": "判断できません。",
    }


def test_file_consent_card() -> None:
    context = {"dialog_id": "dlg-1", "file": "nda"}
    consent = file_consent_card("秘密保持契約_株式会社委託先.docx", 12_345, context)
    assert consent == {
        "contentType": "application/vnd.microsoft.teams.card.file.consent",
        "name": "秘密保持契約_株式会社委託先.docx",
        "content": {
            "description": consent["content"]["description"],
            "sizeInBytes": 12_345,
            "acceptContext": context,
            "declineContext": context,
        },
    }
    assert consent["content"]["description"]
    odd = file_consent_card("../..\\evil:name?.docx", 1, {})
    assert odd["name"] == "_.._evil_name_.docx"
    assert file_consent_card("x" * 300 + ".docx", 1, {})["name"].endswith(".docx")
    assert len(file_consent_card("x" * 300 + ".docx", 1, {})["name"]) == 200
    json.dumps(consent)

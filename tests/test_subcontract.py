"""The subcontracting approval request: its answers and their checks, the dialog's steps and
guidance, and the risk rules (knowledge/rules/subcontract_risk.yaml) that grade a request."""

from __future__ import annotations

import copy
import datetime as dt
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from pydantic import ValidationError

from bot.approvals.risk import (
    LEVEL_LABELS,
    LEVELS,
    RiskAssessment,
    RiskReason,
    RiskRules,
    default_rules_path,
)
from bot.approvals.subcontract_fields import SubcontractAnswers, normalize_name
from bot.assistant.service import Assistant
from bot.config import PROJECT_ROOT
from bot.dialogs.guidance import GuidanceLibrary
from bot.dialogs.spec import GENERAL, message_of, validate_all, validate_step
from bot.dialogs.specs.subcontract import SUBCONTRACT

TODAY = dt.date(2026, 11, 27)
RULES_PATH = default_rules_path(PROJECT_ROOT / "knowledge")

REQUIRED: dict[str, Any] = {
    "our_contract": "顧客管理システム運用保守業務委託契約",
    "contractor_name": "株式会社委託先",
    "subcontractor_name": "株式会社再委託先",
    "subcontractor_address": "東京都千代田区丸の内一丁目1番1号",
    "work_description": "システムの夜間監視",
    "reason": "夜間の監視要員を自社で確保できないため",
    "period_start": "2027-04-01",
    "period_end": "2028-03-31",
}
# a request that raises no concern: certified, assessed this year, audited, no personal data
BENIGN: dict[str, Any] = {
    **REQUIRED,
    "certifications": ["isms"],
    "last_assessed": "2026-06-01",
}


def answers(**changes: Any) -> SubcontractAnswers:
    return SubcontractAnswers.model_validate({**BENIGN, **changes})


def first_message(data: dict[str, Any]) -> str:
    with pytest.raises(ValidationError) as caught:
        SubcontractAnswers.model_validate(data)
    return message_of(caught.value.errors()[0])


@pytest.fixture(scope="module")
def rules() -> RiskRules:
    return RiskRules.load(RULES_PATH)


# -- the answers ----------------------------------------------------------------------------------


def test_required_answers_alone_take_the_recommended_defaults() -> None:
    model = SubcontractAnswers.model_validate(REQUIRED)
    assert model.subcontractor_country == "日本"
    assert model.supervision == ["reports", "audit"] and model.report_frequency == "quarterly"
    assert model.further_subcontracting is False and model.certifications == []
    assert not (model.personal_data or model.sensitive_data or model.my_number)
    assert model.period_end == dt.date(2028, 3, 31)


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"period_start": "1999-12-31"}, "2000年から2100年の間"),
        ({"period_end": "2101-01-01"}, "2000年から2100年の間"),
        ({"period_end": "2027-03-31"}, "終了日は開始日より後"),
        ({"period_end": "2027-04-01"}, "終了日は開始日より後"),
        ({"last_assessed": "1999-01-01"}, "2000年以降"),
        ({"last_assessed": (dt.date.today() + dt.timedelta(days=1)).isoformat()}, "未来の日付"),
        ({"overseas_processing": True}, "取り扱う国を入れてください"),
        ({"overseas_processing": True, "processing_country": "  "}, "取り扱う国を入れてください"),
        ({"overseas_processing": True, "processing_country": "Ｊａｐａｎ"}, "日本以外の国名"),
        ({"certifications": ["pmark", "other"]}, "認証の名称を入れてください"),
        ({"sensitive_data": True}, "個人データを取り扱う」も選んでください"),
        ({"my_number": True}, "個人データを取り扱う」も選んでください"),
        ({"personal_data": True, "personal_data_count": 0}, "1以上の数"),
        ({"our_contract": "契" * 101}, "100文字以内"),
        ({"subcontractor_address": "所" * 201}, "200文字以内"),
        ({"processing_country": "国" * 51}, "50文字以内"),
        ({"work_description": "業" * 501}, "500文字以内"),
        ({"certifications": ["iso9001"]}, "選択肢から選んでください"),
        ({"report_frequency": "weekly"}, "選択肢から選んでください"),
        ({"reason": "   "}, "入力してください"),
    ],
)
def test_bad_answers_are_refused_in_japanese(changes: dict[str, Any], expected: str) -> None:
    assert expected in first_message({**BENIGN, **changes})


def test_unknown_answers_are_refused() -> None:
    with pytest.raises(ValidationError):
        SubcontractAnswers.model_validate({**BENIGN, "colour": "red"})


def test_answers_that_do_not_apply_are_dropped() -> None:
    model = answers(
        personal_data=False,
        personal_data_count=5000,
        processing_country="ベトナム",
        certification_other="SOC 2",
    )
    assert model.personal_data_count is None
    assert model.processing_country is None
    assert model.certification_other is None
    kept = answers(
        personal_data=True,
        personal_data_count=5000,
        overseas_processing=True,
        processing_country="ベトナム",
        certifications=["other"],
        certification_other="SOC 2",
    )
    assert kept.personal_data_count == 5000 and kept.processing_country == "ベトナム"
    assert kept.certification_other == "SOC 2"


def test_names_are_compared_after_normalisation() -> None:
    assert normalize_name("Ｕ.Ｋ.") == normalize_name(" uk ") == "uk"
    assert normalize_name("The Netherlands") == "thenetherlands"
    assert normalize_name("ドイツ　") == "ドイツ"


# -- the dialog -----------------------------------------------------------------------------------


def test_every_field_is_asked_in_exactly_one_step() -> None:
    names = [n for step in SUBCONTRACT.steps for n in step.fields]
    assert sorted(names) == sorted(SubcontractAnswers.model_fields)
    assert len(names) == len(set(names))
    assert [s.id for s in SUBCONTRACT.steps] == [
        "contract",
        "subcontractor",
        "work",
        "data",
        "data_detail",
        "location",
        "security",
        "further",
        "supervision",
        "period",
    ]
    assert SUBCONTRACT.id == "subcontract" and SUBCONTRACT.title == "再委託の承認申請"


def test_fields_are_read_as_the_right_kind_with_labels() -> None:
    kinds = {name: spec.kind for name, spec in SUBCONTRACT.fields.items()}
    assert kinds["certifications"] == kinds["supervision"] == "multi"
    assert kinds["report_frequency"] == "choice"
    assert kinds["work_description"] == kinds["reason"] == "textarea"
    assert kinds["personal_data_count"] == "int"
    assert kinds["last_assessed"] == kinds["period_start"] == "date"
    assert kinds["my_number"] == "bool"
    assert all(spec.label != name for name, spec in SUBCONTRACT.fields.items())
    recommended = ("further_subcontracting", "supervision", "report_frequency")
    assert all(SUBCONTRACT.fields[n].reason for n in recommended)
    assert SUBCONTRACT.fields["supervision"].options["audit"].startswith("再委託先を監査")


def test_the_personal_data_detail_step_only_follows_personal_data() -> None:
    without = [s.id for s in SUBCONTRACT.visible({"personal_data": False})]
    with_data = [s.id for s in SUBCONTRACT.visible({"personal_data": True})]
    assert "data_detail" not in without and "data_detail" in with_data
    assert SUBCONTRACT.next_step("data", {"personal_data": False}) == "location"
    assert SUBCONTRACT.next_step("data", {"personal_data": True}) == "data_detail"


def test_cross_field_rules_are_checked_at_the_step_that_answers_them() -> None:
    earlier = {"personal_data": False}
    _, errors = validate_step(
        SUBCONTRACT, SUBCONTRACT.step("location"), {"overseas_processing": "true"}, earlier
    )
    assert "取り扱う国" in errors[GENERAL]
    _, errors = validate_step(
        SUBCONTRACT,
        SUBCONTRACT.step("data"),
        {"personal_data": "false", "my_number": "true"},
        {},
    )
    assert "個人データ" in errors[GENERAL]
    # the period rule waits for the period: nothing to say about it at the security step
    values, errors = validate_step(
        SUBCONTRACT, SUBCONTRACT.step("security"), {"certifications": ["pmark"]}, earlier
    )
    assert not errors and values["certifications"] == ["pmark"]
    _, errors = validate_step(
        SUBCONTRACT,
        SUBCONTRACT.step("period"),
        {"period_start": "2027-04-01", "period_end": "2027-01-01"},
        earlier,
    )
    assert "終了日" in errors[GENERAL]


def test_a_future_assessment_date_is_refused_beside_its_field() -> None:
    tomorrow = (dt.date.today() + dt.timedelta(days=1)).isoformat()
    _, errors = validate_step(
        SUBCONTRACT, SUBCONTRACT.step("security"), {"last_assessed": tomorrow}, {}
    )
    assert "未来" in errors["last_assessed"]


def test_a_whole_request_validates_and_skipped_answers_are_dropped() -> None:
    stored = {**BENIGN, "personal_data": False, "personal_data_count": 100}
    model, error = validate_all(SUBCONTRACT, stored)
    assert error is None and isinstance(model, SubcontractAnswers)
    assert model.personal_data_count is None


def test_every_step_quotes_guidance_from_the_knowledge_base(
    bundled_assistant: Assistant,
) -> None:
    library = GuidanceLibrary(bundled_assistant.kb)
    for step in SUBCONTRACT.steps:
        assert step.guidance is not None, step.id
        text = (PROJECT_ROOT / step.guidance.source).read_text(encoding="utf-8")
        headings = [line for line in text.splitlines() if line.startswith("#")]
        assert any(step.guidance.section in h for h in headings), step.id
        found = library.for_step(step.guidance)
        assert found is not None, step.id
        assert found.source == step.guidance.source and len(found.text) > 20, step.id
        assert "{{" not in found.text, step.id  # no template placeholders in guidance


# -- the risk rules -------------------------------------------------------------------------------


def test_a_benign_request_is_low(rules: RiskRules) -> None:
    result = rules.assess(answers(), today=TODAY)
    assert (result.level, result.score, result.reasons) == ("low", 0, ())
    assert result.label == "低"


TRIGGERS: dict[str, dict[str, Any]] = {
    "my_number": {"personal_data": True, "personal_data_count": 10, "my_number": True},
    "sensitive_data": {"personal_data": True, "personal_data_count": 10, "sensitive_data": True},
    "personal_data_over_1000": {"personal_data": True, "personal_data_count": 1001},
    "personal_data_count_unknown": {"personal_data": True},
    "overseas_personal_data": {
        "personal_data": True,
        "personal_data_count": 10,
        "overseas_processing": True,
        "processing_country": "ドイツ",
    },
    "overseas_without_adequacy": {
        "personal_data": True,
        "personal_data_count": 10,
        "overseas_processing": True,
        "processing_country": "ベトナム",
    },
    "no_certification": {"certifications": []},
    "assessment_missing_or_old": {"last_assessed": None},
    "further_subcontracting": {"further_subcontracting": True},
    "confidential_business_data": {"confidential_business_data": True},
    "no_audit": {"supervision": ["reports", "onsite"]},
}


def test_every_rule_has_a_trigger_below(rules: RiskRules) -> None:
    assert set(rules.rule_ids) == set(TRIGGERS)


@pytest.mark.parametrize("rule_id", sorted(TRIGGERS))
def test_each_rule_gives_its_reason_when_triggered(rules: RiskRules, rule_id: str) -> None:
    result = rules.assess(answers(**TRIGGERS[rule_id]), today=TODAY)
    fired = {r.rule_id: r for r in result.reasons}
    assert rule_id in fired
    rule = next(r for r in rules.data.rules if r.id == rule_id)
    reason = fired[rule_id]
    assert (reason.text, reason.points, reason.source, reason.kb) == (
        rule.reason,
        rule.points,
        rule.source,
        rule.kb,
    )
    assert result.score == sum(r.points for r in result.reasons)


def test_rules_cite_their_sources_in_the_knowledge_base(rules: RiskRules) -> None:
    for rule in rules.data.rules:
        assert rule.source and rule.reason.endswith("。"), rule.id
        assert rule.kb is not None and (PROJECT_ROOT / rule.kb).is_file(), rule.id
    for name, named in rules.data.lists.items():
        assert named.kb is None or (PROJECT_ROOT / named.kb).is_file(), name


def test_my_number_alone_makes_a_request_high(rules: RiskRules) -> None:
    result = rules.assess(answers(**TRIGGERS["my_number"]), today=TODAY)
    assert [r.rule_id for r in result.reasons] == ["my_number"]
    assert result.score < rules.data.levels.high and result.level == "high"
    assert "番号法第10条" in result.reasons[0].source


def test_points_add_up_to_medium_and_high(rules: RiskRules) -> None:
    sensitive = rules.assess(answers(**TRIGGERS["sensitive_data"]), today=TODAY)
    assert sensitive.level == "medium"
    both = rules.assess(
        answers(personal_data=True, sensitive_data=True, personal_data_count=5000), today=TODAY
    )
    assert both.level == "high" and both.score == 6
    assert [r.rule_id for r in both.reasons] == ["sensitive_data", "personal_data_over_1000"]


def test_1000_people_is_not_more_than_1000(rules: RiskRules) -> None:
    result = rules.assess(answers(personal_data=True, personal_data_count=1000), today=TODAY)
    assert result.reasons == ()


def test_an_assessment_counts_as_old_after_a_year(rules: RiskRules) -> None:
    def fired(last: dt.date) -> bool:
        result = rules.assess(answers(last_assessed=last), today=TODAY)
        return "assessment_missing_or_old" in [r.rule_id for r in result.reasons]

    assert not fired(TODAY - dt.timedelta(days=365))
    assert fired(TODAY - dt.timedelta(days=366))


def overseas(country: str) -> SubcontractAnswers:
    return answers(
        personal_data=True,
        personal_data_count=10,
        overseas_processing=True,
        processing_country=country,
    )


@pytest.mark.parametrize(
    "country",
    ["ドイツ", "Germany", "ＧＥＲＭＡＮＹ", " germany ", "英国", "イギリス", "UK", "U.K.", "フランス",
     "The Netherlands", "オランダ", "EU", "アイルランド", "Czech Republic"],
)  # fmt: skip
def test_eu_and_uk_need_no_consent_for_foreign_transfer(rules: RiskRules, country: str) -> None:
    ids = [r.rule_id for r in rules.assess(overseas(country), today=TODAY).reasons]
    assert ids == ["overseas_personal_data"]
    assert rules.in_list("adequacy_countries", country)


@pytest.mark.parametrize(
    "country", ["ベトナム", "United States", "アメリカ", "中国", "India", "シンガポール", "スイス"]
)
def test_other_countries_are_flagged(rules: RiskRules, country: str) -> None:
    ids = [r.rule_id for r in rules.assess(overseas(country), today=TODAY).reasons]
    assert ids == ["overseas_personal_data", "overseas_without_adequacy"]
    assert not rules.in_list("adequacy_countries", country)


def test_a_subcontractor_abroad_counts_even_if_not_marked_overseas(rules: RiskRules) -> None:
    abroad = answers(personal_data=True, personal_data_count=10, subcontractor_country="インド")
    ids = [r.rule_id for r in rules.assess(abroad, today=TODAY).reasons]
    assert ids == ["overseas_personal_data", "overseas_without_adequacy"]
    at_home = answers(personal_data=True, personal_data_count=10, subcontractor_country="Japan")
    assert rules.assess(at_home, today=TODAY).reasons == ()
    no_personal_data = answers(subcontractor_country="インド")
    assert rules.assess(no_personal_data, today=TODAY).reasons == ()


def test_the_assessment_round_trips_through_json(rules: RiskRules) -> None:
    request = answers(
        personal_data=True,
        my_number=True,
        overseas_processing=True,
        processing_country="ベトナム",
        further_subcontracting=True,
    )
    result = rules.assess(request, today=TODAY)
    data = json.loads(json.dumps(result.to_json(), ensure_ascii=False))
    assert data["level"] == "high" and data["reasons"][0]["rule_id"] == "my_number"
    again = RiskAssessment.from_json(data)
    assert again == result and isinstance(again.reasons[0], RiskReason)


@pytest.mark.parametrize(
    "data",
    [
        {"level": "extreme", "score": 1, "reasons": []},
        {"level": "low", "score": "many", "reasons": []},
        {"level": "low", "score": 0, "reasons": [{"rule_id": "x"}]},
        "high",
    ],
)
def test_bad_assessment_data_is_refused(data: Any) -> None:
    with pytest.raises(ValueError, match="リスク評価のデータを読めません"):
        RiskAssessment.from_json(data)


def test_levels_and_their_labels() -> None:
    assert LEVELS == ("low", "medium", "high")
    assert [LEVEL_LABELS[level] for level in LEVELS] == ["低", "中", "高"]
    assert default_rules_path(Path("/kb")) == Path("/kb/rules/subcontract_risk.yaml")


# -- a broken rules file --------------------------------------------------------------------------

Mutation = Callable[[dict[str, Any]], None]


def _rule(data: dict[str, Any], rule_id: str) -> dict[str, Any]:
    found: dict[str, Any] = next(r for r in data["rules"] if r["id"] == rule_id)
    return found


def _set(rule_id: str, **changes: Any) -> Mutation:
    return lambda data: _rule(data, rule_id).update(changes)


def _set_when(rule_id: str, **changes: Any) -> Mutation:
    return lambda data: _rule(data, rule_id)["when"].update(changes)


def _nested_list(data: dict[str, Any]) -> dict[str, Any]:
    test: dict[str, Any] = _rule(data, "overseas_without_adequacy")["when"]["all"][1]["any"][0][
        "all"
    ][1]
    return test


@pytest.mark.parametrize(
    ("mutate", "expected"),
    [
        (_set_when("my_number", field="my_numbr"), "field 'my_numbr' という回答はありません"),
        (_set_when("my_number", op="gt"), "op 'gt' は field 'my_number' には使えません"),
        (_set_when("my_number", op="bigger"), "rules[0].when.op"),
        (_set_when("personal_data_over_1000", value="many"), "value 'many' は使えません"),
        (_set_when("no_audit", value="inspect"), "value 'inspect' は使えません"),
        (_set_when("sensitive_data", days=3), "op 'eq' に days は要りません"),
        (lambda d: _nested_list(d).pop("list"), "rules[5].when.all[1].any[0].all[1]"),
        (lambda d: _nested_list(d).update(list="nowhere"), "list nowhere が lists にありません"),
        (_set("sensitive_data", when={"all": [], "any": []}), "条件は {field, op, ...}"),
        (_set("sensitive_data", when="sensitive"), "条件は {field, op, ...}"),
        (_set("sensitive_data", id="my_number"), "id が重なっています: my_number"),
        (_set("sensitive_data", colour="red"), "rules[1].colour"),
        (_set("sensitive_data", force_level="extreme"), "rules[1].force_level"),
        (_set("sensitive_data", points=0), "points も force_level もなく"),
        (lambda d: d["levels"].update(medium=6), "medium は high より小さい"),
        (lambda d: d.pop("version"), "version"),
        (lambda d: d["lists"]["japan"].update(entries=[["・"]]), "比べられる名前がありません"),
    ],
)
def test_a_broken_rules_file_is_refused_with_where_and_what(
    tmp_path: Path, mutate: Mutation, expected: str
) -> None:
    data = copy.deepcopy(yaml.safe_load(RULES_PATH.read_text(encoding="utf-8")))
    mutate(data)
    path = tmp_path / "rules.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    with pytest.raises(ValueError) as caught:
        RiskRules.load(path)
    message = str(caught.value)
    assert str(path) in message and "に誤りがあります" in message
    assert expected in message


@pytest.mark.parametrize("text", ["rules: [\n", "- just\n- a list\n", ""])
def test_an_unreadable_rules_file_is_refused(tmp_path: Path, text: str) -> None:
    path = tmp_path / "rules.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ValueError, match="再委託リスクのルール"):
        RiskRules.load(path)


def test_a_missing_rules_file_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="を読めません"):
        RiskRules.load(tmp_path / "absent.yaml")

"""The contractor ledger (委託先台帳) without any platform, on SQLite and PostgreSQL: the corporate
number's check digit, register / update with compare-and-set / list / chain, the audit trail,
the risk rating with expired certificates and overdue reviews, CSV export and all-or-nothing
import, the registration dialog, approved subcontracting requests attached to the ledger, and
`itaku contractors` as a user runs it."""

from __future__ import annotations

import copy
import datetime as dt
import json
import os
import subprocess
import sys
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
import yaml
from sqlalchemy import delete, func, select, update

from bot.approvals.policy import ApprovalPolicy
from bot.approvals.risk import RiskRules, default_rules_path
from bot.approvals.service import ApprovalService
from bot.approvals.service import Result as ApprovalResult
from bot.approvals.subcontract_fields import SubcontractAnswers
from bot.assistant.service import Assistant
from bot.config import PROJECT_ROOT
from bot.contractors.csv_io import BOM, HEADER, export_csv, import_csv
from bot.contractors.models import (
    ContractorFields,
    ContractorRegistration,
    check_corporate_number,
    corporate_check_digit,
    is_corporate_number,
)
from bot.contractors.risk import (
    ContractorFacts,
    ContractorRules,
    add_months,
    default_contractor_rules_path,
)
from bot.contractors.service import (
    ContractorService,
    Result,
    company_core,
    on_request_approved,
)
from bot.dialogs.engine import DialogEngine
from bot.dialogs.guidance import GuidanceLibrary
from bot.dialogs.spec import GENERAL, validate_step
from bot.dialogs.specs import DIALOGS
from bot.dialogs.specs.contractor import CONTRACTOR
from bot.store import audit
from bot.store.db import open_database
from bot.store.dialogs import DialogStore
from bot.store.tables import AuditEntry, ContractorRecord

TODAY = dt.date(2026, 11, 27)
RULES_PATH = default_contractor_rules_path(PROJECT_ROOT / "knowledge")

# Corporate numbers worked out by hand with the official formula, 9 - (sum of the 12 base digits
# weighted 1, 2, 1, 2, ... from the right) mod 9:
#   000012050002: 2x1 + 5x1 + 2x1 + 1x2 = 11; 11 mod 9 = 2; 9 - 2 = 7  (the National Tax Agency's)
#   123456789012: 2+2+0+18+8+14+6+10+4+6+2+2 = 74; 74 mod 9 = 2; 9 - 2 = 7
#   301234567890: 0+18+8+14+6+10+4+6+2+2+0+6 = 76; 76 mod 9 = 4; 9 - 4 = 5
#   000000000009: 9x1 = 9; 9 mod 9 = 0; 9 - 0 = 9 (a remainder of 0 gives 9, never 0)
#   000000000010: 1x2 = 2 (the second digit from the right weighs 2); 9 - 2 = 7
NTA = "7000012050002"
CORP_A = "7123456789012"
CORP_B = "5301234567890"

BASE: dict[str, Any] = {
    "name": "株式会社ミドリ給与サービス",
    "corporate_number": CORP_A,
    "services": "給与計算",
    "work": "月次の給与計算と給与明細の発行",
    "contract_type": "jun_inin",
    "contract_start": "2026-04-01",
    "contract_end": "2027-03-31",
    "certifications": ["pmark"],
    "pmark_expires": "2027-09-30",
    "last_assessed": "2026-06-01",
}


def fields(**changes: Any) -> ContractorFields:
    return ContractorFields.model_validate({**BASE, **changes})


@pytest.fixture(scope="module")
def rules() -> ContractorRules:
    return ContractorRules.load(RULES_PATH)


@pytest.fixture()
def service(database_url: str, rules: ContractorRules) -> ContractorService:
    return ContractorService(open_database(database_url), rules, today=lambda: TODAY)


def register(service: ContractorService, owner: str = "U0ALICE", **changes: Any) -> str:
    parent = changes.pop("parent_id", None)
    outcome = service.register(owner, fields(**changes), owner=owner, parent_id=parent)
    assert outcome.result is Result.RECORDED, outcome.message
    assert outcome.contractor is not None
    return outcome.contractor.id


def entries(service: ContractorService) -> list[AuditEntry]:
    with service.db.session() as s:
        return list(s.execute(select(AuditEntry).order_by(AuditEntry.seq)).scalars())


# -- the corporate number ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("base", "digit"),
    [
        ("000012050002", 7),
        ("123456789012", 7),
        ("301234567890", 5),
        ("000000000009", 9),
        ("000000000000", 9),
        ("000000000010", 7),
    ],
)
def test_the_check_digit_follows_the_official_formula(base: str, digit: int) -> None:
    assert corporate_check_digit(base) == digit
    assert is_corporate_number(f"{digit}{base}")


@pytest.mark.parametrize(
    "number",
    [NTA, CORP_A, CORP_B, "9000000000009", "７０００ー０１２０ー５０００ー２", "7000-0120-5000-2"],
)
def test_valid_corporate_numbers_are_accepted_and_normalised(number: str) -> None:
    stored = check_corporate_number(number)
    assert len(stored) == 13 and stored.isascii() and stored.isdigit()
    assert fields(corporate_number=number).corporate_number == stored


@pytest.mark.parametrize(
    ("number", "expected"),
    [
        ("8000012050002", "検査用数字"),  # the NTA's number with another check digit
        ("0000012050002", "検査用数字"),  # 0 is never a check digit
        ("7000012050020", "検査用数字"),  # two digits swapped
        ("7123456789013", "検査用数字"),
        ("700001205000", "13桁"),
        ("70000120500021", "13桁"),
        ("700001205000A", "13桁"),
        ("٧٠٠٠٠١٢٠٥٠٠٠٢", "13桁"),  # Arabic-Indic digits are digits, but not these
    ],
)
def test_invalid_corporate_numbers_are_refused(number: str, expected: str) -> None:
    assert not is_corporate_number(number)
    with pytest.raises(ValueError, match=expected):
        check_corporate_number(number)


def test_every_base_has_exactly_one_check_digit() -> None:
    for base in ("000012050002", "123456789012", "999999999999", "100000000000"):
        valid = [d for d in range(10) if is_corporate_number(f"{d}{base}")]
        assert valid == [corporate_check_digit(base)] and valid[0] in range(1, 10)


def test_a_blank_corporate_number_is_none() -> None:
    assert fields(corporate_number="  ").corporate_number is None
    assert fields(corporate_number=None).corporate_number is None


# -- the fields ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"contract_end": "2026-03-31"}, "終了日は開始日より後"),
        ({"contract_end": "2026-04-01"}, "終了日は開始日より後"),
        ({"contract_start": "1999-12-31"}, "2000年から2100年の間"),
        ({"pmark_expires": "2101-01-01"}, "2000年から2100年の間"),
        ({"last_assessed": (dt.date.today() + dt.timedelta(days=1)).isoformat()}, "未来の日付"),
        ({"sensitive_data": True}, "個人データを取り扱う」も選んでください"),
        ({"certifications": ["other"]}, "認証の名称を入れてください"),
        ({"personal_data": True, "personal_data_count": 0}, "greater than or equal"),
        ({"name": " "}, "at least 1 character"),
        ({"contract_type": "haken"}, "literal_error"),
    ],
)
def test_bad_fields_are_refused(changes: dict[str, Any], expected: str) -> None:
    with pytest.raises(ValueError) as caught:
        fields(**changes)
    assert expected in str(caught.value) or expected in json.dumps(
        getattr(caught.value, "errors", lambda: [])(), ensure_ascii=False, default=str
    )


def test_what_does_not_apply_is_dropped() -> None:
    f = fields(personal_data=False, personal_data_count=10, isms_expires="2027-01-01")
    assert f.personal_data_count is None and f.isms_expires is None  # ISMS not selected
    f = fields(certifications=["pmark", "pmark", "isms"], isms_expires="2027-01-01")
    assert f.certifications == ["isms", "pmark"]
    assert [(c.kind, c.name, c.expires) for c in f.certificates()] == [
        ("isms", "ISMS", dt.date(2027, 1, 1)),
        ("pmark", "Pマーク", dt.date(2027, 9, 30)),
    ]


# -- register, update, read ----------------------------------------------------------------------


def test_register_and_read_back(service: ContractorService) -> None:
    outcome = service.register(
        "U0ALICE", fields(personal_data=True, personal_data_count=1200), owner="U0BOB"
    )
    assert outcome.result is Result.RECORDED and outcome.contractor is not None
    view = outcome.contractor
    assert view.id == "CT-000001" and view.version == 1 and view.owner == "U0BOB"
    assert view.created_by == "U0ALICE" and view.tier == 1 and view.tier_label == "委託先"
    assert view.fields.corporate_number == CORP_A
    assert view.fields.contract_start == dt.date(2026, 4, 1)
    assert view.fields.personal_data_count == 1200
    assert view.contract_type_label == "準委任"
    again = service.get(view.id)
    assert again is not None and again.fields == view.fields
    assert service.find(CORP_A) == again
    assert service.find("株式会社 ミドリ給与サービス") == again  # the name, normalised
    assert service.get("CT-999999") is None


def test_the_same_company_twice_is_refused_but_may_sit_under_another_parent(
    service: ContractorService,
) -> None:
    first = register(service)
    twice = service.register("U0ALICE", fields(name="別名"), owner="U0ALICE")
    assert twice.result is Result.DUPLICATE and first in twice.message
    no_number = register(service, name="株式会社ソラ", corporate_number=None)
    same_name = service.register(
        "U0ALICE", fields(name="株式会社　ソラ", corporate_number=None), owner="U0ALICE"
    )
    assert same_name.result is Result.DUPLICATE and no_number in same_name.message
    # a company may be a subcontractor of two of our contractors: two relationships
    assert register(service, name="株式会社ソラ", corporate_number=None, parent_id=first)
    unknown_parent = service.register("U0ALICE", fields(), owner="U0X", parent_id="CT-000404")
    assert unknown_parent.result is Result.UNKNOWN and "CT-000404" in unknown_parent.message
    bad_owner = service.register("U0ALICE", fields(corporate_number=NTA), owner="U0 ALICE")
    assert bad_owner.result is Result.INVALID and "担当者" in bad_owner.message


def test_update_is_compare_and_set(service: ContractorService) -> None:
    cid = register(service)
    done = service.update(cid, "U0BOB", {"services": "給与計算・年末調整"}, expected_version=1)
    assert done.result is Result.RECORDED and done.contractor is not None
    assert done.contractor.version == 2 and done.contractor.fields.services == "給与計算・年末調整"
    stale = service.update(cid, "U0CAROL", {"services": "上書き"}, expected_version=1)
    assert stale.result is Result.STALE
    assert "第2版" in stale.message and "最新の内容を確かめて" in stale.message
    assert stale.contractor is not None and stale.contractor.fields.services == "給与計算・年末調整"
    same = service.update(cid, "U0BOB", {"services": "給与計算・年末調整"}, expected_version=2)
    assert same.result is Result.UNCHANGED and same.contractor is not None
    assert same.contractor.version == 2
    owner = service.update(cid, "U0BOB", {"owner": "U0DAVE"}, expected_version=2)
    assert owner.contractor is not None and owner.contractor.owner == "U0DAVE"
    invalid = service.update(cid, "U0BOB", {"contract_end": "2020-01-01"}, expected_version=3)
    assert invalid.result is Result.INVALID and "終了日" in invalid.message
    unknown = service.update(cid, "U0BOB", {"colour": "red"}, expected_version=3)
    assert unknown.result is Result.INVALID and "colour" in unknown.message
    missing = service.update("CT-000404", "U0BOB", {"services": "x"}, expected_version=1)
    assert missing.result is Result.UNKNOWN
    assert [e.action for e in entries(service)] == [
        "contractor_registered",
        "contractor_updated",
        "contractor_updated",
    ]


def test_simultaneous_updates_of_one_version_record_one(service: ContractorService) -> None:
    cid = register(service)
    start = threading.Barrier(8)

    def change(i: int) -> Result:
        start.wait()
        return service.update(cid, f"U0USER{i}", {"services": f"案{i}"}, expected_version=1).result

    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(change, range(8)))
    assert results.count(Result.RECORDED) == 1 and results.count(Result.STALE) == 7
    view = service.get(cid)
    assert view is not None and view.version == 2
    assert [e.action for e in entries(service)].count("contractor_updated") == 1
    assert audit.verify(service.db).ok


def test_many_registrations_at_once_get_distinct_ids(service: ContractorService) -> None:
    numbers = ["9000000000009", "7000000000010", NTA, CORP_A, CORP_B]

    def add(number: str) -> str:
        return register(service, name=f"会社{number}", corporate_number=number)

    with ThreadPoolExecutor(5) as pool:
        ids = list(pool.map(add, numbers))
    assert len(set(ids)) == 5 and len(service.search()) == 5
    assert audit.verify(service.db).ok


def test_search_by_owner_and_by_review_due(service: ContractorService) -> None:
    fresh = register(service, owner="U0ALICE")  # assessed 2026-06-01: next 2027-06-01
    overdue = register(
        service,
        owner="U0BOB",
        name="株式会社遅延",
        corporate_number=CORP_B,
        last_assessed="2025-10-01",
    )
    never = register(
        service, owner="U0ALICE", name="株式会社未評価", corporate_number=None, last_assessed=None
    )
    assert [v.id for v in service.search()] == [fresh, overdue, never]
    assert [v.id for v in service.search(owner="U0ALICE")] == [fresh, never]
    assert [v.id for v in service.search(due_within_days=0)] == [overdue, never]
    assert [v.id for v in service.search(owner="U0ALICE", due_within_days=0)] == [never]
    assert [v.id for v in service.search(due_within_days=200)] == [fresh, overdue, never]


def test_the_chain_from_contractor_to_sub_sub_contractor(service: ContractorService) -> None:
    top = register(service)
    sub = register(service, name="株式会社ツギ", corporate_number=CORP_B, parent_id=top)
    subsub = register(service, name="株式会社スエ", corporate_number=NTA, parent_id=sub)
    other = register(service, name="株式会社ベツ", corporate_number=None, parent_id=top)
    chain = service.chain(subsub)
    assert [(link.depth, link.contractor.id) for link in chain] == [
        (0, top),
        (1, sub),
        (2, subsub),
        (1, other),
    ]
    assert [link.contractor.tier_label for link in chain] == [
        "委託先",
        "再委託先",
        "再々委託先",
        "再委託先",
    ]
    assert [v.id for v in service.ancestors(subsub)] == [top, sub, subsub]
    assert service.chain("CT-000404") == []
    # a contractor cannot go under itself or anything below it
    for parent in (top, sub, subsub):
        refused = service.update(top, "U0ALICE", {"parent_id": parent}, expected_version=1)
        assert refused.result is Result.CYCLE and "輪" in refused.message
    moved = service.update(subsub, "U0ALICE", {"parent_id": top}, expected_version=1)
    assert moved.contractor is not None and moved.contractor.tier == 2
    assert [v.id for v in service.search(parent_id=top)] == [sub, subsub, other]


def test_the_chain_is_walked_safely_even_through_a_cycle_made_by_hand(
    service: ContractorService,
) -> None:
    a = register(service)
    b = register(service, name="株式会社ツギ", corporate_number=CORP_B, parent_id=a)
    c = register(service, name="株式会社スエ", corporate_number=NTA, parent_id=b)
    with service.db.session() as s:  # someone edits the database directly: a → b → c → a
        s.execute(update(ContractorRecord).where(ContractorRecord.id == a).values(parent_id=c))
    ids = [link.contractor.id for link in service.chain(b)]
    assert sorted(ids) == [a, b, c] and len(ids) == 3
    assert sorted(v.id for v in service.ancestors(a)) == [a, b, c]
    assert {v.id for v in service.search()} == {a, b, c}
    assert "".join(export_csv(service)).count("\r\n") == 4  # header and three rows


def test_every_change_is_in_the_audit_trail_without_the_content(
    service: ContractorService,
) -> None:
    cid = register(service, work="山田太郎さん（taro@example.com）が担当する給与計算")
    service.update(cid, "U0BOB", {"last_assessed": "2026-10-01"}, expected_version=1)
    trail = [e for e in entries(service) if e.request_id == cid]
    assert [(e.actor, e.action) for e in trail] == [
        ("U0ALICE", "contractor_registered"),
        ("U0BOB", "contractor_updated"),
    ]
    assert trail[0].details["version"] == 1 and trail[1].details["version"] == 2
    assert trail[1].details["fields"] == ["last_assessed"]
    assert all(str(e.details["record"]).startswith("h:") for e in trail)
    text = json.dumps([e.details for e in trail], ensure_ascii=False)
    for secret in ("ミドリ", "給与計算", CORP_A, "山田"):
        assert secret not in text
    view = service.get(cid)
    assert view is not None
    assert "山田" not in view.fields.work and "taro@example.com" not in view.fields.work
    assert "[NAME_1]" in view.fields.work  # typed personal data is masked at rest
    assert [h[2] for h in service.history(cid)] == ["contractor_registered", "contractor_updated"]
    assert audit.verify(service.db).ok


# -- risk and reviews ----------------------------------------------------------------------------


def rate(rules: ContractorRules, tier: int = 1, **changes: Any) -> Any:
    return rules.rate(fields(**changes), today=TODAY, tier=tier)


def test_a_certified_recently_assessed_contractor_is_low(rules: ContractorRules) -> None:
    rating = rate(rules)
    assert (rating.level, rating.assessment.score, rating.assessment.reasons) == ("low", 0, ())
    assert rating.next_review == dt.date(2027, 6, 1) and rating.review_months == 12
    assert not rating.overdue and not rating.due(TODAY) and rating.expired == ()


def test_an_expired_certification_raises_the_level(rules: ContractorRules) -> None:
    rating = rate(rules, pmark_expires="2026-10-31")
    fired = [r.rule_id for r in rating.assessment.reasons]
    assert rating.level == "medium" and "certification_expired" in fired
    assert rating.expired == ("Pマーク",)
    # a certificate expiring today is still valid today
    assert rate(rules, pmark_expires=TODAY.isoformat()).level == "low"
    # one valid certificate does not hide the expired one
    both = rate(
        rules,
        certifications=["isms", "pmark"],
        isms_expires="2028-01-01",
        pmark_expires="2026-01-01",
    )
    assert both.level == "medium" and "no_certification" not in [
        r.rule_id for r in both.assessment.reasons
    ]


def test_an_overdue_review_raises_the_level_and_keeps_the_missed_date(
    rules: ContractorRules,
) -> None:
    rating = rate(rules, last_assessed="2025-10-01")
    assert rating.overdue and rating.next_review == dt.date(2026, 10, 1)
    assert rating.level == "medium"
    assert "review_overdue" in [r.rule_id for r in rating.assessment.reasons]
    # the day of the review itself is due, not overdue
    on_the_day = rate(rules, last_assessed="2025-11-27")
    assert on_the_day.due(TODAY) and not on_the_day.overdue and on_the_day.level == "low"
    # medium (sensitive data) and overdue: high
    both = rate(
        rules,
        personal_data=True,
        personal_data_count=10,
        sensitive_data=True,
        last_assessed="2025-10-01",
    )
    assert both.level == "high" and both.next_review == dt.date(2026, 10, 1)


def test_higher_risk_is_reviewed_more_often(rules: ContractorRules) -> None:
    assert rules.reviews.months("high") == 6 and rules.reviews.months("low") == 12
    high = rate(rules, personal_data=True, personal_data_count=10, my_number=True)
    assert high.level == "high" and high.review_months == 6
    assert high.next_review == dt.date(2026, 12, 1)
    late = rate(
        rules,
        personal_data=True,
        personal_data_count=10,
        my_number=True,
        last_assessed="2026-05-01",
    )
    assert late.next_review == dt.date(2026, 11, 1) and late.overdue  # 6 months, passed


def test_never_assessed_is_due_now(rules: ContractorRules) -> None:
    rating = rate(rules, last_assessed=None)
    assert rating.next_review is None and rating.due(TODAY) and not rating.overdue
    assert "never_assessed" in [r.rule_id for r in rating.assessment.reasons]


def test_months_are_added_on_the_calendar() -> None:
    assert add_months(dt.date(2026, 8, 31), 6) == dt.date(2027, 2, 28)
    assert add_months(dt.date(2027, 8, 31), 6) == dt.date(2028, 2, 29)
    assert add_months(dt.date(2026, 6, 1), 12) == dt.date(2027, 6, 1)
    assert add_months(dt.date(2026, 12, 15), 1) == dt.date(2027, 1, 15)


TRIGGERS: dict[str, tuple[int, dict[str, Any]]] = {
    "my_number": (1, {"personal_data": True, "personal_data_count": 10, "my_number": True}),
    "sensitive_data": (
        1,
        {"personal_data": True, "personal_data_count": 10, "sensitive_data": True},
    ),
    "personal_data_over_1000": (1, {"personal_data": True, "personal_data_count": 1001}),
    "personal_data_count_unknown": (1, {"personal_data": True}),
    "overseas_personal_data": (
        1,
        {"personal_data": True, "personal_data_count": 10, "processing_country": "ドイツ"},
    ),
    "overseas_without_adequacy": (
        1,
        {"personal_data": True, "personal_data_count": 10, "processing_country": "ベトナム"},
    ),
    "no_certification": (1, {"certifications": []}),
    "certification_expired": (1, {"pmark_expires": "2026-01-01"}),
    "certification_expiry_unknown": (1, {"pmark_expires": None}),
    "never_assessed": (1, {"last_assessed": None}),
    "review_overdue": (1, {"last_assessed": "2025-01-01"}),
    "subcontractor": (2, {}),
    "further_subcontractor": (3, {}),
    "confidential_business_data": (1, {"confidential_business_data": True}),
}


def test_every_rule_has_a_trigger_below(rules: ContractorRules) -> None:
    assert set(rules.rule_ids) == set(TRIGGERS)


@pytest.mark.parametrize("rule_id", sorted(TRIGGERS))
def test_each_rule_gives_its_reason_with_its_source(rules: ContractorRules, rule_id: str) -> None:
    tier, changes = TRIGGERS[rule_id]
    rating = rate(rules, tier, **changes)
    fired = {r.rule_id: r for r in rating.assessment.reasons}
    assert rule_id in fired
    rule = next(r for r in rules.data.rules if r.id == rule_id)
    assert rule.reason.endswith("。") and rule.source
    assert rule.kb is not None and (PROJECT_ROOT / rule.kb).is_file()


def test_the_facts_the_rules_may_test_are_named_in_the_file() -> None:
    header = RULES_PATH.read_text(encoding="utf-8").split("version:")[0]
    for name in ContractorFacts.model_fields:
        assert name in header, name


@pytest.mark.parametrize(
    ("mutate", "expected"),
    [
        (lambda d: d["reviews"].update(high=13), "high ≦ medium ≦ low"),
        (lambda d: d.pop("reviews"), "reviews"),
        (lambda d: d["reviews"].update(weekly=1), "reviews.weekly"),
        (
            lambda d: d["rules"][0]["when"].update(field="further_subcontracting"),
            "field 'further_subcontracting' という回答はありません",
        ),
        (lambda d: d["rules"][0]["when"].update(op="older_than"), "op 'older_than'"),
    ],
)
def test_a_broken_rules_file_is_refused(tmp_path: Path, mutate: Any, expected: str) -> None:
    data = copy.deepcopy(yaml.safe_load(RULES_PATH.read_text(encoding="utf-8")))
    mutate(data)
    path = tmp_path / "rules.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    with pytest.raises(ValueError) as caught:
        ContractorRules.load(path)
    assert "委託先リスクのルール" in str(caught.value) and expected in str(caught.value)


def test_the_subcontracting_rules_still_test_requests() -> None:
    subcontract = RiskRules.load(default_rules_path(PROJECT_ROOT / "knowledge"))
    assert "no_audit" in subcontract.rule_ids
    with pytest.raises(ValueError, match="再委託リスクのルール"):
        RiskRules.load(RULES_PATH)  # the contractor file tests facts a request does not have


# -- CSV -----------------------------------------------------------------------------------------


def ledger(service: ContractorService) -> None:
    top = register(service, personal_data=True, personal_data_count=5000)
    sub = register(
        service,
        owner="U0BOB",
        name="株式会社ツギ",
        corporate_number=None,
        work="給与明細の印刷と封入、\n発送",
        contract_type=None,
        certifications=["isms", "other"],
        isms_expires="2026-01-31",
        certification_other="SOC 2",
        processing_country="ベトナム",
        last_assessed=None,
        parent_id=top,
    )
    register(service, name="株式会社スエ", corporate_number=NTA, parent_id=sub)


def test_export_is_excel_csv_with_a_documented_header(service: ContractorService) -> None:
    ledger(service)
    text = export_csv(service)
    data = text.encode("utf-8")
    assert data.startswith(b"\xef\xbb\xbf")
    lines = text.removeprefix(BOM).split("\r\n")
    assert lines[0].split(",") == list(HEADER)
    assert lines[1].startswith(f"CT-000001,株式会社ミドリ給与サービス,{CORP_A},")
    assert ",高," in lines[1] or ",中," in lines[1]
    assert "ベトナム" in text and "ISMS;その他" in text and "SOC 2" in text
    assert '"給与明細の印刷と封入、\n発送"' in text
    assert f",{CORP_A},," in text  # the subcontractor names its parent by corporate number


def test_round_trip_into_another_database(service: ContractorService, tmp_path: Path) -> None:
    ledger(service)
    text = export_csv(service)
    target = ContractorService(
        open_database(f"sqlite:///{tmp_path / 'other.db'}"), service.rules, today=lambda: TODAY
    )
    report = import_csv(target, text.encode("utf-8"), "terminal:importer")
    assert report.ok and report.rows == 3 and len(report.created) == 3
    assert export_csv(target) == text
    for a, b in zip(service.search(), target.search(), strict=True):
        assert (a.fields, a.owner, a.tier, a.rating) == (b.fields, b.owner, b.tier, b.rating)
    assert audit.verify(target.db).ok


def test_reimporting_the_same_file_changes_nothing(service: ContractorService) -> None:
    ledger(service)
    text = export_csv(service)
    before = len(entries(service))
    report = import_csv(service, text.encode("utf-8"), "terminal:importer")
    assert report.ok and report.created == [] and report.updated == []
    assert report.unchanged == ["CT-000001", "CT-000002", "CT-000003"]
    assert len(entries(service)) == before
    assert [v.version for v in service.search()] == [1, 1, 1]
    # a changed cell updates that contractor only, once
    changed = text.replace("月次の給与計算と給与明細の発行", "月次の給与計算", 1)
    assert changed != text
    first = import_csv(service, changed.encode("utf-8"), "terminal:importer")
    assert first.updated == ["CT-000001"] and len(first.unchanged) == 2
    again = import_csv(service, changed.encode("utf-8"), "terminal:importer")
    assert again.updated == [] and len(again.unchanged) == 3
    view = service.get("CT-000001")
    assert view is not None and view.version == 2 and view.fields.work == "月次の給与計算"
    actions = [e.action for e in entries(service)][before:]
    assert actions == ["contractor_updated", "contractors_imported"]


def test_a_contractor_gets_its_corporate_number_from_a_later_import(
    service: ContractorService,
) -> None:
    cid = register(service, corporate_number=None)
    text = export_csv(service).replace(
        ",株式会社ミドリ給与サービス,,", f",株式会社ミドリ給与サービス,{CORP_A},"
    )
    report = import_csv(service, text.encode("utf-8"), "terminal:importer")
    assert report.updated == [cid] and len(service.search()) == 1
    view = service.get(cid)
    assert view is not None and view.fields.corporate_number == CORP_A


HEADER_LINE = ",".join(HEADER)


def csv_file(*rows: str) -> bytes:
    return (BOM + "\r\n".join([HEADER_LINE, *rows]) + "\r\n").encode("utf-8")


def row(**cells: str) -> str:
    values = {
        "名称": "株式会社ミドリ給与サービス",
        "法人番号": CORP_A,
        "委託業務": "給与計算",
        "担当者": "U0ALICE",
        "契約開始日": "2026-04-01",
        "契約終了日": "2027-03-31",
        **cells,
    }
    out = []
    for header in HEADER:
        value = values.get(header, "")
        out.append(f'"{value}"' if any(c in value for c in ',"\n') else value)
    return ",".join(out)


def test_bad_rows_are_all_reported_with_their_lines_and_nothing_is_imported(
    service: ContractorService,
) -> None:
    data = csv_file(
        row(),  # line 2: fine
        row(名称="株式会社ニ", 法人番号="7123456789013"),  # line 3: check digit
        row(名称="株式会社サン", 法人番号="", 委託業務="印刷\n封入"),  # lines 4-5: fine
        row(名称="", 法人番号=NTA, 契約開始日="2026-02-30", 個人データ="たぶん"),  # line 6
        row(名称="株式会社ゴ", 法人番号=CORP_B, 契約終了日="2025-01-01"),  # line 7: order
        row(名称="株式会社ロク", 法人番号="", 契約形態="派遣", 認証="ISO9001"),  # line 8
        row(名称="株式会社ナナ", 法人番号="", 委託元="株式会社どこにもない"),  # line 9
        row(名称="株式会社ハチ", 法人番号="", 担当者="", 本人の数="many"),  # line 10
        row(名称="株式会社キュウ", 法人番号="", 要配慮個人情報="はい"),  # line 11
    )
    report = import_csv(service, data, "terminal:importer")
    assert not report.ok and report.created == []
    found = {(e.line, e.column) for e in report.errors}
    assert found == {
        (3, "法人番号"),
        (6, "名称"),
        (6, "契約開始日"),
        (6, "個人データ"),
        (7, ""),
        (8, "契約形態"),
        (8, "認証"),
        (9, "委託元"),
        (10, "担当者"),
        (10, "本人の数"),
        (11, ""),
    }
    messages = {(e.line, e.column): e.message for e in report.errors}
    assert "検査用数字" in messages[(3, "法人番号")]
    assert "2026-02-30 という日付はありません" in messages[(6, "契約開始日")]
    assert "終了日は開始日より後" in messages[(7, "")]
    assert "どこにもない" in messages[(9, "委託元")]
    assert str(report.errors[0]).startswith("3行目「法人番号」：")
    assert service.search() == [] and entries(service) == []


def test_the_header_is_checked_first(service: ContractorService) -> None:
    unknown = (BOM + HEADER_LINE + ",備考\r\n").encode("utf-8")
    report = import_csv(service, unknown, "terminal:x")
    assert [(e.line, e.column) for e in report.errors] == [(1, "備考")]
    missing = "名称,法人番号\r\n株式会社ミドリ,\r\n".encode()
    report = import_csv(service, missing, "terminal:x")
    assert report.errors[0].line == 1 and "委託業務" in report.errors[0].message
    assert import_csv(service, b"", "terminal:x").errors[0].line == 1
    assert not import_csv(service, b"\xff\xfe\x00\x00garbage\x81", "terminal:x").ok


def test_excel_shapes_are_read(service: ContractorService) -> None:
    """Shift_JIS, dates reformatted as 2026/4/1, numbers with separators, English keys."""
    keys = "name,corporate_number,work,owner,contract_type,contract_start,contract_end,personal_data,personal_data_count,ISMS有効期限"
    text = f'{keys}\r\n株式会社ミドリ,{CORP_A},給与計算,U0ALICE,請負,2026/4/1,2027年3月31日,○,"5,000",2027/1/31\r\n'
    report = import_csv(service, text.encode("cp932"), "terminal:x")
    assert report.ok, report.errors
    view = service.get(report.created[0])
    assert view is not None
    f = view.fields
    assert (f.contract_start, f.contract_end) == (dt.date(2026, 4, 1), dt.date(2027, 3, 31))
    assert f.personal_data and f.personal_data_count == 5000 and f.contract_type == "ukeoi"
    assert f.certifications == ["isms"] and f.isms_expires == dt.date(2027, 1, 31)


def test_parents_are_found_in_the_file_or_the_ledger(service: ContractorService) -> None:
    top = register(service)
    data = csv_file(
        row(名称="株式会社マゴ", 法人番号="", 委託元="株式会社コ"),  # its parent comes later
        row(名称="株式会社コ", 法人番号=CORP_B, 委託元=CORP_A),  # its parent is in the ledger
        row(名称="株式会社ベツ", 法人番号="", 委託元=top),  # by ledger id
    )
    report = import_csv(service, data, "terminal:x")
    assert report.ok, report.errors
    by_name = {v.name: v for v in service.search()}
    assert by_name["株式会社コ"].parent_id == top and by_name["株式会社コ"].tier == 2
    assert by_name["株式会社マゴ"].parent_id == by_name["株式会社コ"].id
    assert by_name["株式会社マゴ"].tier == 3 and by_name["株式会社ベツ"].parent_id == top


def test_a_cycle_or_a_twin_in_the_file_is_refused(service: ContractorService) -> None:
    data = csv_file(
        row(名称="株式会社イチ", 法人番号="", 委託元="株式会社ニ"),
        row(名称="株式会社ニ", 法人番号="", 委託元="株式会社イチ"),
        row(名称="株式会社サン", 法人番号=""),
        row(名称="株式会社　サン", 法人番号=""),
    )
    report = import_csv(service, data, "terminal:x")
    assert [(e.line, e.column) for e in report.errors] == [(2, "委託元"), (3, "委託元"), (5, "")]
    assert "4行目と同じ" in report.errors[-1].message
    assert service.search() == []


# -- the registration dialog ---------------------------------------------------------------------


def test_the_dialog_asks_every_field_once_and_is_offered() -> None:
    names = [n for step in CONTRACTOR.steps for n in step.fields]
    assert sorted(names) == sorted(ContractorRegistration.model_fields)
    assert len(names) == len(set(names))
    assert DIALOGS["contractor"] is CONTRACTOR and CONTRACTOR.model is ContractorRegistration
    kinds = {name: spec.kind for name, spec in CONTRACTOR.fields.items()}
    assert kinds["certifications"] == "multi" and kinds["contract_type"] == "choice"
    assert kinds["work"] == "textarea" and kinds["pmark_expires"] == "date"
    assert CONTRACTOR.fields["contract_type"].required  # the dialog asks what a request may not
    assert not ContractorFields.model_fields["contract_type"].is_required()
    assert CONTRACTOR.fields["contract_type"].options["jun_inin"].startswith("準委任")
    assert "data_detail" not in [s.id for s in CONTRACTOR.visible({"personal_data": False})]


def test_the_dialog_checks_each_step() -> None:
    def errors(
        step: str, raw: dict[str, Any], earlier: dict[str, Any] | None = None
    ) -> dict[str, str]:
        return validate_step(CONTRACTOR, CONTRACTOR.step(step), raw, earlier or {})[1]

    assert (
        "検査用数字"
        in errors("contractor", {"name": "A社", "corporate_number": "7000012050003"})[
            "corporate_number"
        ]
    )
    assert (
        "13桁"
        in errors("contractor", {"name": "A社", "corporate_number": "12345"})["corporate_number"]
    )
    assert (
        errors("contractor", {"name": "A社", "corporate_number": "７０００-０１２０-５０００-２"})
        == {}
    )
    assert errors("contractor", {"name": "A社"}) == {}  # the number is optional
    period = {"contract_type": "ukeoi", "contract_start": "2027-04-01"}
    assert "終了日" in errors("contract", {**period, "contract_end": "2027-03-31"})[GENERAL]
    assert (
        "存在する日付"
        in errors("contract", {**period, "contract_end": "2027-02-30"})["contract_end"]
    )
    assert (
        "選択肢"
        in errors("contract", {**period, "contract_type": "派遣", "contract_end": "2028-03-31"})[
            "contract_type"
        ]
    )
    assert (
        "入力してください"
        in errors("contract", {"contract_start": "2027-04-01", "contract_end": "2028-03-31"})[
            "contract_type"
        ]
    )
    assert (
        "有効期限"
        in errors("security", {"certifications": ["isms", "pmark"], "isms_expires": "2027-01-01"})[
            GENERAL
        ]
    )
    assert "Pマーク" in errors("security", {"certifications": ["pmark"]})[GENERAL]
    assert (
        "認証の名称"
        in errors(
            "security", {"certifications": ["other"], "certification_other_expires": "2027-01-01"}
        )[GENERAL]
    )
    assert "個人データ" in errors("data", {"my_number": "true"})[GENERAL]
    tomorrow = (dt.date.today() + dt.timedelta(days=1)).isoformat()
    assert "未来" in errors("assessment", {"last_assessed": tomorrow})["last_assessed"]


def test_every_step_quotes_guidance_from_the_knowledge_base(bundled_assistant: Assistant) -> None:
    library = GuidanceLibrary(bundled_assistant.kb)
    for step in CONTRACTOR.steps:
        assert step.guidance is not None, step.id
        text = (PROJECT_ROOT / step.guidance.source).read_text(encoding="utf-8")
        assert any(
            step.guidance.section in line for line in text.splitlines() if line.startswith("#")
        ), step.id
        found = library.for_step(step.guidance)
        assert found is not None and found.source == step.guidance.source, step.id
        assert len(found.text) > 20, step.id


def test_a_finished_dialog_registers_the_contractor(
    database_url: str, rules: ContractorRules
) -> None:
    db = open_database(database_url)
    engine = DialogEngine(DIALOGS, DialogStore(db, ttl_s=3600))
    answers = {
        "contractor": {"name": "株式会社ミドリ給与サービス", "corporate_number": CORP_A},
        "work": {"services": "給与計算", "work": "月次の給与計算"},
        "contract": {
            "contract_type": "jun_inin",
            "contract_start": "2026-04-01",
            "contract_end": "2027-03-31",
        },
        "data": {"personal_data": "true"},
        "data_detail": {"personal_data_count": "800"},
        "location": {},
        "security": {"certifications": ["pmark"], "pmark_expires": "2027-09-30"},
        "assessment": {"last_assessed": "2026-06-01"},
    }
    state, _ = engine.start("contractor", "U0ALICE", fresh=True)
    while not state.at_review:
        state = engine.submit(state.id, "U0ALICE", state.version, state.step, answers[state.step])
        assert not state.errors, (state.step, state.errors)
    _, model = engine.finish(state.id, "U0ALICE", state.version)
    assert isinstance(model, ContractorRegistration)
    service = ContractorService(db, rules, today=lambda: TODAY)
    outcome = service.register("U0ALICE", model, owner="U0ALICE", via="slack")
    assert outcome.contractor is not None
    view = outcome.contractor
    assert view.fields.personal_data_count == 800 and view.fields.processing_country == "日本"
    assert view.rating.level == "low" and view.rating.next_review == dt.date(2027, 6, 1)


# -- approved subcontracting requests ------------------------------------------------------------

POLICY = """
channel: C0APPROVALS
remind_after_hours: 24
escalate_after_hours: 72
escalation: [U0CISO]
levels:
  low: {stages: [{name: 部門長, approvers: [U0MANAGER]}]}
  medium: {stages: [{name: 部門長, approvers: [U0MANAGER]}]}
  high:
    stages:
      - {name: 部門長, approvers: [U0MANAGER]}
      - {name: 情報セキュリティ部, approvers: [U0SECURITY]}
"""
REQUEST: dict[str, Any] = {
    "our_contract": "給与計算業務委託契約",
    "contractor_name": "株式会社ミドリ給与サービス",
    "subcontractor_name": "株式会社インサツ",
    "subcontractor_address": "東京都千代田区1-1",
    "work_description": "給与明細の印刷と封入",
    "reason": "繁忙期の人員不足",
    "period_start": "2026-05-01",
    "period_end": "2027-03-31",
    "certifications": ["pmark"],
    "last_assessed": "2026-04-15",
}


@pytest.fixture()
def approvals(service: ContractorService, tmp_path: Path) -> ApprovalService:
    path = tmp_path / "policy.yaml"
    path.write_text(POLICY, encoding="utf-8")
    return ApprovalService(
        service.db,
        ApprovalPolicy.load(path),
        RiskRules.load(default_rules_path(PROJECT_ROOT / "knowledge")),
        on_approved=on_request_approved,
    )


def test_an_approved_request_attaches_its_subcontractor(
    service: ContractorService, approvals: ApprovalService
) -> None:
    top = register(service)
    request = approvals.file("U0ALICE", SubcontractAnswers(**REQUEST))
    assert [v.id for v in service.search()] == [top]  # pending: not yet
    decided = approvals.decide(request.id, "U0MANAGER", "approved")
    assert decided.result is ApprovalResult.RECORDED
    children = service.search(parent_id=top)
    assert len(children) == 1
    child = children[0]
    assert child.name == "株式会社インサツ" and child.source_request_id == request.id
    assert child.tier_label == "再委託先" and child.owner == "U0ALICE"
    assert child.fields.work == "給与明細の印刷と封入"
    assert child.fields.contract_start == dt.date(2026, 5, 1)
    assert child.fields.contract_type is None and child.fields.certifications == ["pmark"]
    assert child.fields.pmark_expires is None  # the request does not say: unknown
    assert "certification_expiry_unknown" in [r.rule_id for r in child.rating.assessment.reasons]
    trail = [(e.actor, e.action) for e in entries(service)]
    assert trail[-2:] == [("U0MANAGER", "approved"), ("U0MANAGER", "contractor_attached")]
    assert service.attach_approved() == []  # nothing left to catch up
    assert audit.verify(service.db).ok


def test_attachment_waits_for_the_last_stage_and_for_the_contractor(
    service: ContractorService, approvals: ApprovalService
) -> None:
    high = SubcontractAnswers(**{**REQUEST, "personal_data": True, "my_number": True})
    request = approvals.file("U0ALICE", high)
    approvals.decide(request.id, "U0MANAGER", "approved")
    assert service.search() == []  # one stage of two
    approvals.decide(request.id, "U0SECURITY", "approved")
    assert approvals.get(request.id).status == "approved"  # type: ignore[union-attr]
    assert service.search() == []  # its contractor is not in the ledger yet
    top = register(service)
    attached = service.attach_approved()
    assert len(attached) == 1
    child = service.get(attached[0])
    assert child is not None and child.parent_id == top and child.source_request_id == request.id
    assert child.rating.level == "high"  # My Number
    assert service.attach_approved() == []
    with service.db.session() as s:
        count = s.execute(select(func.count()).select_from(ContractorRecord)).scalar_one()
    assert count == 2


def test_a_request_links_to_a_subcontractor_registered_by_hand(
    service: ContractorService, approvals: ApprovalService
) -> None:
    top = register(service)
    by_hand = register(
        service, name="株式会社インサツ", corporate_number=None, parent_id=top, services="印刷"
    )
    request = approvals.file("U0ALICE", SubcontractAnswers(**REQUEST))
    approvals.decide(request.id, "U0MANAGER", "approved")
    view = service.get(by_hand)
    assert view is not None and view.source_request_id == request.id and view.version == 2
    assert view.fields.services == "印刷"  # what was registered stays
    assert len(service.search()) == 2
    rejected = approvals.file(
        "U0ALICE", SubcontractAnswers(**{**REQUEST, "subcontractor_name": "別会社"})
    )
    approvals.decide(rejected.id, "U0MANAGER", "rejected", "監査記録がない")
    assert len(service.search()) == 2


def test_open_approvals_attaches_to_the_ledger(tmp_path: Path) -> None:
    from bot.approvals.service import open_approvals
    from bot.config import Settings

    settings = Settings(ITAKU_DATA_DIR=tmp_path)  # type: ignore[call-arg]
    assert open_approvals(settings).on_approved is on_request_approved


# -- the command line ----------------------------------------------------------------------------


def test_cli_contractors(tmp_path: Path) -> None:
    env = {
        "ITAKU_DATA_DIR": str(tmp_path / "data"),
        "PATH": "/usr/bin:/bin",
        "ITAKU_AUDIT_KEY": os.environ["ITAKU_AUDIT_KEY"],
        "PYTHONIOENCODING": "utf-8",
    }

    def itaku(*args: str) -> subprocess.CompletedProcess[bytes]:
        return subprocess.run(
            [sys.executable, "-m", "bot", "contractors", *args],
            env=env,
            cwd=PROJECT_ROOT,
            capture_output=True,
            timeout=60,
        )

    def out(r: subprocess.CompletedProcess[bytes]) -> str:
        return r.stdout.decode("utf-8")

    def err(r: subprocess.CompletedProcess[bytes]) -> str:
        return r.stderr.decode("utf-8")

    empty = itaku("list")
    assert empty.returncode == 0 and "委託先はありません" in out(empty)
    source = tmp_path / "ledger.csv"
    source.write_bytes(
        csv_file(
            row(),
            row(名称="株式会社ツギ", 法人番号="", 委託元=CORP_A, 担当者="terminal:bob"),
        )
    )
    imported = itaku("import", str(source))
    assert imported.returncode == 0, err(imported)
    assert "登録 2件" in out(imported)
    again = itaku("import", str(source))
    assert again.returncode == 0 and "変更なし 2件" in out(again)
    listed = itaku("list")
    assert "CT-000001  委託先" in out(listed) and "CT-000002  再委託先" in out(listed)
    mine = itaku("list", "--owner", "terminal:bob")
    assert "CT-000002" in out(mine) and "CT-000001" not in out(mine)
    due = itaku("list", "--due")
    assert "CT-000001" in out(due) and "CT-000002" in out(due)  # never assessed
    shown = itaku("show", "CT-000002")
    assert shown.returncode == 0, err(shown)
    text = out(shown)
    assert "株式会社ツギ（再委託先）" in text and "委託元：CT-000001" in text
    assert "リスク：" in text and "未評価" in text and "└ CT-000002" in text
    assert itaku("show", CORP_A).returncode == 0
    missing = itaku("show", "CT-000404")
    assert missing.returncode == 2 and "見つかりません" in err(missing)
    exported = itaku("export", "--format", "csv")
    assert exported.returncode == 0 and exported.stdout.startswith(b"\xef\xbb\xbf")
    assert exported.stdout.decode("utf-8").removeprefix(BOM).startswith(",".join(HEADER))
    written = itaku("export", "--output", str(tmp_path / "out.csv"))
    assert written.returncode == 0 and (tmp_path / "out.csv").read_bytes() == exported.stdout
    bad = tmp_path / "bad.csv"
    bad.write_bytes(
        csv_file(row(名称="株式会社サン", 法人番号="7123456789013"), row(契約開始日="2026-13-01"))
    )
    refused = itaku("import", str(bad))
    assert refused.returncode == 1
    assert "2行目「法人番号」" in err(refused) and "3行目「契約開始日」" in err(refused)
    assert "取り込みませんでした" in err(refused)
    assert out(itaku("list")).count("CT-") == 2
    verify = subprocess.run(
        [sys.executable, "-m", "bot", "audit", "verify"],
        env=env,
        cwd=PROJECT_ROOT,
        capture_output=True,
        timeout=60,
    )
    assert verify.returncode == 0, verify.stderr.decode("utf-8")
    usage = itaku()  # as `itaku approvals`: the actions
    assert b"list" in usage.stdout and b"import" in usage.stdout


def test_audit_verify_names_a_contractor_edited_behind_the_ledgers_back(
    service: ContractorService,
) -> None:
    top = register(service)
    leaf = register(service, name="株式会社ツギ", corporate_number=CORP_B, parent_id=top)
    other = register(service, name="株式会社ベツ", corporate_number=NTA)
    service.update(top, "U0BOB", {"services": "給与計算・年末調整"}, expected_version=1)
    assert audit.verify(service.db).ok
    with service.db.session() as s:
        s.execute(update(ContractorRecord).where(ContractorRecord.id == top).values(my_number=True))
        s.execute(update(ContractorRecord).where(ContractorRecord.id == other).values(version=5))
        s.execute(delete(ContractorRecord).where(ContractorRecord.id == leaf))
        s.add(
            ContractorRecord(
                **{
                    **{k: getattr(s.get(ContractorRecord, other), k) for k in ("work", "owner")},
                    "id": "CT-000099",
                    "ledger_key": "-/k:ghost",
                    "name": "幽霊",
                    "name_key": "幽霊",
                    "contract_start": dt.date(2026, 4, 1),
                    "contract_end": dt.date(2027, 3, 31),
                    "personal_data": False,
                    "sensitive_data": False,
                    "my_number": False,
                    "confidential_business_data": False,
                    "processing_country": "日本",
                    "certifications": [],
                    "version": 1,
                    "created_by": "someone",
                }
            )
        )
    report = audit.verify(service.db)
    assert not report.ok
    assert set(report.problems) == {
        f"{top}: 委託先の登録内容が記録と一致しません",
        f"{other}: 委託先の版が記録と一致しません（第5版）",
        f"{leaf}: 記録にある委託先がありません（削除の疑い）",
        "CT-000099: 記録にない委託先があります",
    }


def test_an_update_keeps_a_work_description_that_masking_made_longer(
    service: ContractorService,
) -> None:
    typed = "担当は山田太郎さん。" * 50  # 500 characters as typed
    cid = register(service, work=typed)
    stored = service.get(cid)
    assert stored is not None and len(stored.fields.work) > 500 and "山田" not in stored.fields.work
    done = service.update(cid, "U0BOB", {"services": "給与計算・年末調整"}, expected_version=1)
    assert done.result is Result.RECORDED and done.contractor is not None
    assert done.contractor.fields.work == stored.fields.work
    too_long = service.update(cid, "U0BOB", {"work": "業" * 2001}, expected_version=2)
    assert too_long.result is Result.INVALID and "2000文字以内" in too_long.message
    # the dialog takes what a person types: 500 characters
    _, errors = validate_step(CONTRACTOR, CONTRACTOR.step("work"), {"work": "業" * 501}, {})
    assert "500文字以内" in errors["work"]


def test_a_request_finds_its_contractor_however_the_legal_form_is_written(
    service: ContractorService, approvals: ApprovalService
) -> None:
    assert company_core("株式会社ミドリ給与サービス") == company_core("㈱ミドリ給与サービス")
    assert company_core("(株)ミドリ給与サービス") == company_core("ミドリ給与サービス株式会社")
    top = register(service)
    request = approvals.file(
        "U0ALICE", SubcontractAnswers(**{**REQUEST, "contractor_name": "㈱ミドリ給与サービス"})
    )
    approvals.decide(request.id, "U0MANAGER", "approved")
    assert [v.name for v in service.search(parent_id=top)] == ["株式会社インサツ"]

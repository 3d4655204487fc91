"""How risky a ledger contractor is, and when it is next reviewed (定期点検), by rules kept as data
(knowledge/rules/contractor_risk.yaml, beside the subcontracting rules).

The rules are written exactly as the subcontracting ones (bot/approvals/risk.py: conditions,
points, thresholds, force_level, a reason and its source per rule); only what they test differs:
`ContractorFacts`, the facts about a contractor on a given day, which include what the day makes
of it (a certificate past its expiry, a review past its date, its place in the chain).

How often each level is reviewed is data too (`reviews`, in months). The next review is the last
assessment plus the interval of the level the contractor has *before* an overdue review is
counted; the overdue review then raises the level (its rule's points and force_level), so the
date that was missed stays the date shown."""

from __future__ import annotations

import calendar
import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

from pydantic import BaseModel, ConfigDict, Field, model_validator

from bot.approvals.risk import Level, RiskAssessment, RiskRules, RulesFile
from bot.contractors.models import ContractorFields, ContractType

RULES_FILE = Path("rules") / "contractor_risk.yaml"


def default_contractor_rules_path(knowledge_dir: Path) -> Path:
    return knowledge_dir / RULES_FILE


class ContractorFacts(BaseModel):
    """What the contractor rules may test (`field:` in the rules file)."""

    model_config = ConfigDict(frozen=True)

    personal_data: bool = False
    personal_data_count: int | None = None
    sensitive_data: bool = False
    my_number: bool = False
    confidential_business_data: bool = False
    processing_country: str = "日本"
    contract_type: ContractType | None = None
    # holds a certification not known to be expired
    certified: bool = False
    certification_expired: bool = False
    certification_expiry_unknown: bool = False
    last_assessed: dt.date | None = None
    review_overdue: bool = False
    # 1: our contractor (委託先), 2: its subcontractor (再委託先), 3: 再々委託先, ...
    tier: int = Field(default=1, ge=1)

    @classmethod
    def of(
        cls, fields: ContractorFields, *, today: dt.date, tier: int, review_overdue: bool = False
    ) -> ContractorFacts:
        certificates = fields.certificates()
        return cls(
            personal_data=fields.personal_data,
            personal_data_count=fields.personal_data_count,
            sensitive_data=fields.sensitive_data,
            my_number=fields.my_number,
            confidential_business_data=fields.confidential_business_data,
            processing_country=fields.processing_country,
            contract_type=fields.contract_type,
            certified=any(not c.expired(today) for c in certificates),
            certification_expired=any(c.expired(today) for c in certificates),
            certification_expiry_unknown=any(c.expires is None for c in certificates),
            last_assessed=fields.last_assessed,
            review_overdue=review_overdue,
            tier=tier,
        )


class ReviewIntervals(BaseModel):
    """Months between two reviews of a contractor at each level, and when reminders go out
    (bot/delivery/contractors.py)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    high: int = Field(ge=1, le=60)
    medium: int = Field(ge=1, le=60)
    low: int = Field(ge=1, le=60)
    # the owner is reminded this many days before a review's date
    notice_days: int = Field(default=14, ge=0, le=90)
    # a contractor never assessed is overdue this many days after it was registered
    first_within_days: int = Field(default=30, ge=0, le=365)
    # the owner is reminded this many days before a corrective action's due date
    action_notice_days: int = Field(default=3, ge=0, le=90)

    @model_validator(mode="after")
    def _riskier_more_often(self) -> ReviewIntervals:
        if not self.high <= self.medium <= self.low:
            raise ValueError(
                "reviews は high ≦ medium ≦ low の月数にしてください（リスクが高いほど頻繁に点検します）"
            )
        return self

    def months(self, level: Level) -> int:
        months: int = getattr(self, level)
        return months


class ContractorRulesFile(RulesFile):
    reviews: ReviewIntervals


@dataclass(frozen=True)
class ContractorRating:
    assessment: RiskAssessment
    review_months: int  # the interval of the level before an overdue review counted
    next_review: dt.date | None  # None: never assessed, so a review is due now
    overdue: bool  # next_review has passed
    expired: tuple[str, ...]  # names of certificates past their expiry

    @property
    def level(self) -> Level:
        return self.assessment.level

    def due(self, today: dt.date, within_days: int = 0) -> bool:
        """A review is due by `today + within_days` (never assessed: due now)."""
        return self.next_review is None or self.next_review <= today + dt.timedelta(
            days=within_days
        )


def add_months(day: dt.date, months: int) -> dt.date:
    """The same day `months` later, or that month's last day (Aug 31 + 6 months = Feb 28/29)."""
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    return dt.date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


class ContractorRules(RiskRules):
    answers_model: ClassVar[type[BaseModel]] = ContractorFacts
    file_model: ClassVar[type[RulesFile]] = ContractorRulesFile
    what: ClassVar[str] = "委託先リスクのルール"

    @property
    def reviews(self) -> ReviewIntervals:
        assert isinstance(self.data, ContractorRulesFile)
        return self.data.reviews

    def rate(self, fields: ContractorFields, *, today: dt.date, tier: int = 1) -> ContractorRating:
        base = self.assess(ContractorFacts.of(fields, today=today, tier=tier), today)
        months = self.reviews.months(base.level)
        last = fields.last_assessed
        next_review = add_months(last, months) if last is not None else None
        overdue = next_review is not None and next_review < today
        assessment = (
            self.assess(
                ContractorFacts.of(fields, today=today, tier=tier, review_overdue=True), today
            )
            if overdue
            else base
        )
        expired = tuple(c.name for c in fields.expired_certificates(today))
        return ContractorRating(assessment, months, next_review, overdue, expired)

"""Reporting an incident at a contractor (委託先での漏えい等): the fields of IncidentIntake, in
the order the response checklist goes (knowledge/checklists/breach_response_checklist.md): who
and what, when our company learned of it, the data and the people concerned, the cause, the
encryption. Each step quotes the knowledge base on the point it asks about.

Validation is the model's (a 発覚日 that does not exist or is after today is refused at its
step, the dates' order, data kinds that answer the Rule 7 questions themselves); whether the
contractor named is in the ledger needs the store, and is the engine's check for this dialog
(IncidentService.check_step). The finished answers go to IncidentService.submit through the
hand-off (bot/dialogs/handoff.py)."""

from __future__ import annotations

from bot.dialogs.spec import DialogSpec, Guidance, StepSpec
from bot.incidents.intake import IncidentIntake

CHECKLIST = "knowledge/checklists/breach_response_checklist.md"
BREACH = "knowledge/law/appi_breach_reporting.md"

INCIDENT = DialogSpec(
    id="incident",
    title="委託先での漏えい等の報告",
    title_en="Report an incident at a contractor",
    model=IncidentIntake,
    steps=(
        StepSpec(
            "what",
            "委託先と事案",
            "Contractor and what happened",
            ("contractor", "what_happened"),
            Guidance(CHECKLIST, "委託先で漏えいが起きたときに最初にすること"),
        ),
        StepSpec(
            "when",
            "発覚日",
            "When we learned of it",
            ("learned_on", "occurred_on"),
            Guidance(BREACH, "速報の期限"),
        ),
        StepSpec(
            "data",
            "漏えい等したデータ",
            "Data concerned",
            ("data_kinds", "data_kinds_other", "sensitive", "financial_damage"),
            Guidance(BREACH, "報告が必要な4つの事態"),
        ),
        StepSpec(
            "people",
            "本人の数",
            "Number of people",
            ("people", "people_is_maximum"),
            Guidance(BREACH, "本人の数が確定しない場合の数え方"),
        ),
        StepSpec(
            "cause",
            "原因",
            "Cause",
            ("cause",),
            Guidance(CHECKLIST, "報告対象かどうかの判断"),
        ),
        StepSpec(
            "encryption",
            "暗号化",
            "Encryption",
            ("encrypted",),
            Guidance(BREACH, "高度な暗号化がされている場合の例外"),
        ),
    ),
)

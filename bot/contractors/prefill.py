"""Ledger contractors offered to the subcontracting request (再委託の承認申請): the user picks one
of the contractors they own, and the request starts with what the ledger already knows about it
(its name exactly as the ledger writes it, the contract it works under, the contract's end as the
latest end of the subcontract), each value checked by the request's own validation and shown to
confirm or correct. The name written as in the ledger is what lets the approved request join the
ledger under that contractor (bot/contractors/service.py, attach_request)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from bot.contractors.service import ContractorService, ContractorView
from bot.dialogs.engine import DialogState
from bot.dialogs.spec import DialogSpec, validate_step

SPEC_ID = "subcontract"  # the dialog that is offered ledger contractors
MAX_CHOICES = 100  # a Slack select holds 100 options
_CONTRACT_MAX = 100  # the request's contract name (ShortText)


def choices(service: ContractorService, owner: str) -> list[ContractorView]:
    """The contractors `owner` is responsible for, to pick from (by id)."""
    return service.search(owner=owner, limit=MAX_CHOICES)


def offered(service: ContractorService, state: DialogState, owner: str) -> list[ContractorView]:
    """What to offer on this step of a dialog: the owner's contractors at the subcontracting
    request's first step, nothing elsewhere."""
    if state.spec.id != SPEC_ID or state.at_review or state.step != state.spec.steps[0].id:
        return []
    return choices(service, owner)


def contract_name(view: ContractorView) -> str:
    """The contract a subcontracting request names, from the ledger: the services (else the
    contractor's name) and the ledger id, so the approver can look it up."""
    what = view.fields.services or view.name
    tail = f"の委託契約（台帳 {view.id}）"
    return what[: _CONTRACT_MAX - len(tail)] + tail


def subcontract_values(spec: DialogSpec, view: ContractorView, today: dt.date) -> dict[str, Any]:
    """The request's fields the ledger contractor fills in; each kept only when the request's
    own validation accepts it alone."""
    found: dict[str, Any] = {
        "contractor_name": view.name,
        "our_contract": contract_name(view),
    }
    if view.fields.contract_end >= today:  # a subcontract ends with the contract at the latest
        found["period_end"] = view.fields.contract_end.isoformat()
    kept: dict[str, Any] = {}
    for step in spec.steps:
        for name in step.fields:
            if name not in found:
                continue
            single = type(step)(step.id, step.title, step.title_en, (name,))
            values, errors = validate_step(spec, single, {name: found[name]}, kept)
            if not errors:
                kept.update(values)
    return kept


def option_label(view: ContractorView) -> str:
    """How a contractor is named in a list to pick from."""
    return f"{view.id} {view.name}（{view.tier_label}）"

"""The dialogs Itaku offers, by id."""

from __future__ import annotations

from bot.dialogs.spec import DialogSpec
from bot.dialogs.specs.contractor import CONTRACTOR
from bot.dialogs.specs.incident import INCIDENT
from bot.dialogs.specs.nda import NDA
from bot.dialogs.specs.review import REVIEW
from bot.dialogs.specs.subcontract import SUBCONTRACT

DIALOGS: dict[str, DialogSpec] = {
    NDA.id: NDA,
    SUBCONTRACT.id: SUBCONTRACT,
    CONTRACTOR.id: CONTRACTOR,
    REVIEW.id: REVIEW,
    INCIDENT.id: INCIDENT,
}

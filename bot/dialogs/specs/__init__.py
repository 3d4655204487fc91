"""The dialogs Itaku offers, by id."""

from __future__ import annotations

from bot.dialogs.spec import DialogSpec
from bot.dialogs.specs.nda import NDA

DIALOGS: dict[str, DialogSpec] = {NDA.id: NDA}

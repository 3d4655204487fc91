"""Identifiers shared by the Block Kit builders and the listeners that handle their clicks."""

COMMAND = "/itaku"

VOTE_HELPFUL = "itaku_vote_helpful"
VOTE_UNHELPFUL = "itaku_vote_unhelpful"
SHARE_ANSWER = "itaku_share_answer"

NDA_COMMAND = "/nda"
CLAUSE_COMMAND = "/clause"

DIALOG_VIEW = "itaku_dialog"  # callback_id of every dialog modal
DIALOG_BACK = "itaku_dialog_back"
DIALOG_GOTO = "itaku_dialog_goto"
DRAFT_EDIT = "itaku_draft_edit"
FIELD_BLOCK = "f_"  # block_id prefix of a dialog field's input block

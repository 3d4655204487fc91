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

SUBCONTRACT_COMMAND = "/subcontract"
REQ_APPROVE = "itaku_req_approve"
REQ_REJECT = "itaku_req_reject"
REQ_CHANGES = "itaku_req_changes"
REQ_REVISE = "itaku_req_revise"  # the requester's "revise and resubmit" button
REQ_REASON_VIEW = "itaku_req_reason"  # callback_id of the reason modal
REASON_BLOCK = "reason"

CONTRACTOR_COMMAND = "/contractor"
LEDGER_PICK = "itaku_ledger_pick"  # a ledger contractor picked in the subcontracting request
REVIEW_OPEN = "itaku_review_open"  # "record the review" on a reminder, a registration, App Home
ACTION_CLOSE = "itaku_action_close"  # a corrective action marked done

INCIDENT_COMMAND = "/incident"
INCIDENT_STEP = "itaku_incident_step"  # a checklist step of an incident's card marked (or undone)

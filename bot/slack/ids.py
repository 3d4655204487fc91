"""Identifiers shared by the Block Kit builders and the listeners that handle their clicks."""

COMMAND = "/itaku"

VOTE_HELPFUL = "itaku_vote_helpful"
VOTE_UNHELPFUL = "itaku_vote_unhelpful"
SHARE_ANSWER = "itaku_share_answer"

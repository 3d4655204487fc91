"""What kind of answer a question expects (a number, a deadline, an article of law), so that
the sentence that actually carries it is preferred over one that merely repeats the question."""

from __future__ import annotations

import re
from dataclasses import dataclass

from bot.knowledge.text import normalize

# "how many days" asks for a deadline, not a count
_DAYS_AND_SO_ON = r"(?:business |working |calendar )?(?:days|hours|weeks|months)\b"

_TYPES: list[tuple[str, re.Pattern[str], re.Pattern[str]]] = [
    # (name, question pattern, pattern a sentence that answers it contains)
    (
        "deadline",
        re.compile(
            r"いつまで|期限|何日|締め切り|締切|(どの|どれ|どん)(くらい|ぐらい)で|期間内|how long|how soon"
            rf"|how quickly|deadline|\bwhen\b|due|by when|within|how many {_DAYS_AND_SO_ON}"
        ),
        re.compile(
            r"\d+\s*(日|か月|ヶ月|カ月|時間|年)|速やかに|直ちに|遅滞なく|以内|days?|hours?|months?"
        ),
    ),
    (
        "article",
        re.compile(r"何条|条文|根拠|(?:which|what)(?: [a-z']+){0,3} (?:article|provision)s?\b"),
        re.compile(r"第?\d+条|article \d+"),
    ),
    (
        "count",
        re.compile(
            r"何件|何人|何社|何名|何万|何項目|何位|何団体|どのくらい|どれくらい|どれだけ|規模|number of"
            rf"|how many(?! {_DAYS_AND_SO_ON}| years\b)"
            r"|どんくらい|どんだけ|どれぐらい|どのぐらい"
        ),
        # a number with its counter (人, 件, 社…), not any digit (a date is no count)
        re.compile(
            r"\d[\d,.]*\s*(万|億|千)?\s*(人|件|社|名|団体|組織|位|項目|つ|個|か所|カ所|%|パーセント|倍)"
            r"|\d[\d,.]*\s*(people|persons|records|companies|items|cases|organi[sz]ations)"
        ),
    ),
    (
        "amount",
        # "how much is the fee", not "what leaked and how much" or "how much data"
        re.compile(
            r"いくら|費用|料金|価格|値段|コスト|cost|price|fee"
            r"|how much(?= (?:money|does|do|did|is|are|was|will|would|should|can|could)\b)"
        ),
        re.compile(r"\d[\d,.]*\s*(万|億)?円|¥|yen"),
    ),
    (
        # what the punishment is: 「どんな罰になる？」, "what's the penalty"
        "penalty",
        re.compile(r"罰|刑事|刑は|penalt|punish|sanction|\bfines?\b(?! to)|\bfined\b|jail|prison"),
        re.compile(r"拘禁刑|懲役|罰金|過料|\d+\s*(万|億)円以下"),
    ),
    (
        "duration",
        re.compile(r"期間|どのくらい|どれくらい|何年|何か月|何ヶ月|how long"),
        re.compile(r"\d+\s*(年|か月|ヶ月|カ月|日|時間|週間)|years?|months?|days?"),
    ),
    (
        "body",
        re.compile(
            # ("who" that opens the question, not 「…about who inside the company may see it」)
            # (not 「どこがまずかった」: what was wrong, not which body)
            # (nor who did it in a case, 「どこの誰がやらかした」: a company and its staff)
            r"機関|(?<!どこの)(?:誰|だれ)が(?!(?:勝手に)?(?:やらか|漏らし|持ち出|盗|売|犯))"
            r"|どこが(?!まず|マズ|悪|問題|いけな|ダメ|だめ|違|おかし|甘)|どの団体|どの組織"
            r"|(?:^|[.?!]\s*|\b(?:and|or|but)\s+)who\b"
            r"|which (body|organi[sz]ation)"
        ),
        # (matched on normalised, lower-case text) a body: 委員会, 協会, 経済産業省, ISMS-AC, JIPDEC
        re.compile(
            r"委員会|協会|機構|センター|[^\s]省(?!令)|庁|[a-z]{2,}-[a-z]{2,}|jipdec|\bipa\b"
        ),
    ),
    (
        "year",
        re.compile(r"何年|いつ(?!も)|時期|(発行|公表|公開|施行)日|\bwhen\b|what year"),
        re.compile(r"\d{4}年|\d+月|\d{4}"),
    ),
]


@dataclass(frozen=True)
class AnswerType:
    names: tuple[str, ...]
    patterns: tuple[re.Pattern[str], ...]

    def matches(self, sentence: str) -> bool:
        norm = normalize(sentence)
        return any(p.search(norm) for p in self.patterns)

    def holds(self, kind: str, text: str) -> bool:
        """Whether the text holds an answer of this one kind (e.g. an amount of money)."""
        norm = normalize(text)
        return any(
            n == kind and p.search(norm) for n, p in zip(self.names, self.patterns, strict=True)
        )


# "when" that asks for a condition, not a time ("When is a mandatary allowed to…?", "When can
# data be given without consent?", "when may a mandatary appoint a sub-mandatary?")
_WHEN_CONDITION = re.compile(
    r"\bwhen\b(?=[^?.]*\b(?:allowed|permitted|ok|okay|acceptable|required|necessary|needed|apply"
    r"|applies|exempt|possible|legal|lawful|without)\b)"
    r"|\bwhen (?:may|can|could|might)\b"
)


# a "when" inside a sentence that opens a clause of its own ("Does a mandatary have to report
# progress when we ask?", "What should we do when a breach happens?"): the question asks whether
# or what, not when. It still asks a time where it opens the sentence or a clause ("…, and when
# must we report?"), follows by / until, or is what one wants to know ("tell me when…").
_CLAUSE_WHEN = re.compile(
    r"(?<=[a-z0-9] )when\b(?! (?:is|are|was|were|do|does|did|must|should|shall|will|would|can"
    r"|could|may|might|has|have)\b)"
)
# 「どのくらい気をつけて」「どの程度の注意を」 ask a degree of care, not a number or a length
_DEGREE_OF_CARE = re.compile(
    r"(?:どのくらい|どれくらい|どのぐらい|どれぐらい|どの程度|どれほど)の?(?=気を付け|気をつけ|注意|慎重)"
)
_ASKS_TIME_BEFORE = re.compile(r"(?:\b(?:by|until|till|and|or|but|know|tell me|ask|wonder))\s*$")


def _as_asked(text: str) -> str:
    """The text as the question patterns read it (a when that asks a condition, or that opens a
    clause of its own, taken out)."""
    norm = _DEGREE_OF_CARE.sub(" ", _WHEN_CONDITION.sub(" ", normalize(text)))

    def clause(m: re.Match[str]) -> str:
        return m.group(0) if _ASKS_TIME_BEFORE.search(norm[: m.start()]) else " "

    return _CLAUSE_WHEN.sub(clause, norm)


def asks(kind: str, text: str) -> bool:
    """Whether the text asks for an answer of this one kind (the question proper, say, rather
    than the situation told before it: 「コスト削減のため…」 asks no price)."""
    norm = _as_asked(text)
    return any(name == kind and q.search(norm) for name, q, _ in _TYPES)


def answer_type(question: str) -> AnswerType | None:
    norm = _as_asked(question)
    found = [(name, ans) for name, q, ans in _TYPES if q.search(norm)]
    if not found:
        return None
    return AnswerType(tuple(n for n, _ in found), tuple(a for _, a in found))


# A question that asks for several things: what / which / how / steps / items / conditions.
_LIST_QUESTION = re.compile(
    r"何を|何が|なにを|なにが|何に|どんな|どのような|どういう|どう(すれば|したら|やって|する|やる|いう)"
    r"|項目|条項|手順|ステップ|流れ|方法|ポイント|条件|要件|何をすれば|一覧|リスト|聞けば|確認すべき"
    r"|決めて?おく|定めて?おく|入れる|盛り込|書くべき|書けば|記載|やること|すること|対策"
    r"|\bwhat\b|\bwhich\b|\bhow\b|\bsteps?\b|\blist\b|\binclude|\bitems?\b|\bconditions?\b"
    r"|\brequirements?\b|\bcontain"
)


def asks_for_list(question: str) -> bool:
    return bool(_LIST_QUESTION.search(normalize(question)))


# A question for the things themselves (what to write, which items, the measures), not for a way
# of thinking: 「どのような考え方で」 asks for a list in the wide sense above, not for items.
_ITEMS_QUESTION = re.compile(
    r"何を|なにを|何が必要|項目|条項|事項|挙げ|どんなこと|どんな事|何書|何決め|何を決め|措置を|措置は"
    r"|\bwhat (?:should|must|do|does)\b|\bwhich (?:items|clauses|points)\b|\blist\b"
)


def asks_for_items(question: str) -> bool:
    return bool(_ITEMS_QUESTION.search(normalize(question)))

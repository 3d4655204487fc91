"""The parts of a question that asks several things at once (「有効期間と、付与している機関を
教えて」, "What is it, who grants it, and how many hold it?"), so that the answer's opening
answers each of them, not only the part its best sentence happens to match."""

from __future__ import annotations

import re
from dataclasses import dataclass

from bot.assistant.answer_type import AnswerType, answer_type
from bot.knowledge.query import PreparedQuery
from bot.knowledge.text import normalize

# Where one question turns to the next thing it asks. A bare 「と」 is not one: 「委託元と委託先
# の違い」 asks one thing.
_JOINS = re.compile(
    r"(?<=[？?。])\s*(?:また、?|あわせて、?|それと、?|さらに、?)?"
    r"|(?:と|や)、(?=[^、。？?]{2,})"
    r"|、(?:また|あわせて|それと|さらに|および|そして)、?"
    # 「公表時期と構成を」: a noun that names what is asked, then 「と」
    r"|(?<=時期|期間|期限|日付|年月|の数|件数|人数|名称|機関|方法|構成|内容|理由|条文|範囲|手順|要件|条件|順位)と(?!、)"
    r"|,\s*and\s+|,\s*(?=(?:who|what|which|how|when|where|why)\b)"
    r"|\s+and\s+(?=(?:who|what|which|how|when|where|why)\b)",
    re.IGNORECASE,
)
_MIN_PART = 3  # characters: shorter pieces are particles left over, not parts


@dataclass(frozen=True)
class Part:
    text: str
    terms: tuple[int, ...]  # indexes into the question's key terms
    expected: AnswerType | None


def question_parts(q: PreparedQuery) -> list[Part]:
    """The things the question asks, each with its own key terms and kind of answer; a single
    part (or none) when it asks one thing."""
    pieces = [p.strip() for p in _JOINS.split(q.text) if p and len(p.strip()) >= _MIN_PART]
    if len(pieces) < 2:
        return []
    parts = []
    for piece in pieces:
        norm = normalize(piece)
        terms = tuple(i for i, t in enumerate(q.key_terms) if t.occurs_in(norm))
        expected = answer_type(piece)
        if terms or expected is not None:
            parts.append(Part(piece, terms, expected))
    return parts if len(parts) >= 2 else []

"""Which section answers: a case's own section before its lessons when the question asks about
the case (and the lessons when it asks what to learn)."""

from __future__ import annotations

from bot.assistant.compose import ComposePolicy, _case_before_lessons
from bot.knowledge.glossary import Glossary
from bot.knowledge.models import Chunk
from bot.knowledge.query import prepare_query
from bot.knowledge.search import Hit


def _hit(section: str, score: float) -> Hit:
    chunk = Chunk(
        id=section, source="cases/x.md", title="X社の事件", section=section, text="…", position=0
    )
    return Hit(chunk, score, 0.5)


def test_a_question_about_the_case_gets_the_case_not_its_lessons() -> None:
    glossary = Glossary([])
    lessons, case = _hit("X社の事件の教訓（記録媒体）", 10.0), _hit("X社の事件の概要", 8.5)
    policy = ComposePolicy()
    about_case = prepare_query("X社の漏えい事件ってどんな件だった？", glossary)
    assert _case_before_lessons(about_case, [lessons, case], lessons, policy) is case
    about_lessons = prepare_query("X社の事件の教訓は？", glossary)
    assert _case_before_lessons(about_lessons, [lessons, case], lessons, policy) is lessons
    far = _hit("X社の事件の概要", 7.0)  # not close enough: the lessons stay
    assert _case_before_lessons(about_case, [lessons, far], lessons, policy) is lessons


def test_a_question_about_what_goes_in_gets_the_section_that_names_it() -> None:
    from bot.assistant.compose import _contents_before_definition

    glossary = Glossary([])
    definition, clauses = _hit("契約Xとは", 10.0), _hit("契約Xに入れるべき条項", 9.5)
    asks = prepare_query("契約Xにはどんな条項を入れる？", glossary)
    assert _contents_before_definition(asks, [definition, clauses], definition) is clauses
    english = prepare_query("What should contract X include?", glossary)
    assert _contents_before_definition(english, [definition, clauses], definition) is clauses
    # 条項 in the situation told first, not in the question: what it is stays the answer
    told = prepare_query("先方に「守秘条項があるから不要」と言われた。このままでいい？", glossary)
    assert _contents_before_definition(told, [definition, clauses], definition) is definition
    far = _hit("契約Xに入れるべき条項", 8.0)
    assert _contents_before_definition(asks, [definition, far], definition) is definition


def test_a_what_is_question_gets_the_section_that_defines_it() -> None:
    from bot.assistant.compose import _definition_for_what_is

    glossary = Glossary([])
    other, definition = _hit("契約Xの下請け", 10.0), _hit("契約Xとは", 9.5)
    asks = prepare_query("契約Xとはどのような契約か", glossary)
    assert _definition_for_what_is(asks, [other, definition], other) is definition
    assert (
        _definition_for_what_is(
            prepare_query("What is contract X?", glossary), [other, definition], other
        )
        is definition
    )
    how = prepare_query("契約Xの下請けの条件は？", glossary)
    assert _definition_for_what_is(how, [other, definition], other) is other

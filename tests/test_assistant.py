from bot.assistant.service import Assistant


def test_answers_with_numbered_citations(small_assistant: Assistant) -> None:
    a = small_assistant.ask("漏えいしたら確報はいつまでに出す？")
    assert not a.abstained
    assert "30日" in a.answer
    assert a.citations and a.citations[0].source == "kb/breach.md"
    assert a.citations[0].title == "漏えい時の報告" and a.citations[0].section
    assert "[1]" in a.answer
    assert a.citations[0].url == "https://example.org/source"


def test_glossary_widening_finds_synonyms(small_assistant: Assistant) -> None:
    a = small_assistant.ask("下請けに出すときは何が必要？")
    assert not a.abstained and "承認" in a.answer
    assert a.citations[0].source == "kb/subcontract.md"


def test_english_question(small_assistant: Assistant) -> None:
    a = small_assistant.ask("What is the deadline for the final report after a data breach?")
    assert not a.abstained and a.lang == "en"
    assert "30日" in a.answer


def test_out_of_scope_is_refused(small_assistant: Assistant) -> None:
    for q in (
        "明日の東京の天気は？",
        "有給休暇の申請方法を教えて",
        "How do I reset my VPN password?",
    ):
        a = small_assistant.ask(q)
        assert a.abstained, q
        assert a.citations == []
        assert "見つかりません" in a.answer or "nothing" in a.answer or "could not" in a.answer


def test_bad_input_gets_a_clear_message(small_assistant: Assistant) -> None:
    assert small_assistant.ask("   ").reason == "empty"
    assert small_assistant.ask("\x00\x1b\u200b").reason == "empty"
    # lone surrogates (undecodable bytes, or "\ud800" in a JSON body) are dropped, not fatal
    assert small_assistant.ask("\udcff\udcfe").reason == "empty"
    assert not small_assistant.ask("再委託の承認\ud800について").abstained
    assert small_assistant.ask("？？？").reason == "no_topic"
    assert small_assistant.ask("재위탁 조건은?").reason == "unsupported_script"
    long = small_assistant.ask("再委託の承認について。" * 5000)
    assert not long.abstained and "長すぎる" in long.answer


def test_follow_up_uses_thread_context(small_assistant: Assistant) -> None:
    alone = small_assistant.ask("不正の目的の場合は？")
    follow = small_assistant.ask("不正の目的の場合は？", history=["確報の期限はいつまで？"])
    assert not follow.abstained and "60日" in follow.answer
    assert alone.abstained or "60日" in alone.answer


def test_answer_json_contract(small_assistant: Assistant) -> None:
    data = small_assistant.ask("記録媒体はどう保管する？").model_dump(mode="json")
    assert isinstance(data["answer"], str) and isinstance(data["abstained"], bool)
    assert all({"source", "title"} <= set(c) for c in data["citations"])


def test_english_inflections_and_heading_lines(small_assistant: Assistant) -> None:
    a = small_assistant.ask("How must storage media be destroyed?")
    assert not a.abstained and "破壊" in a.answer
    for line in a.answer.splitlines()[1:]:
        assert len(line) > 24  # no bare headings or fragments as answers


def test_a_sentence_that_announces_a_list_brings_the_list(tmp_path, data_dir) -> None:  # type: ignore[no-untyped-def]
    from bot.config import Settings
    from bot.knowledge.embeddings import HashingEmbedder
    from bot.knowledge.glossary import Glossary
    from bot.knowledge.search import KnowledgeBase
    from bot.knowledge.vectorstore import open_client
    from tests.conftest import index_into, write_doc

    kb = tmp_path / "kb"
    write_doc(
        kb,
        "form.md",
        "申請書",
        "## 申請書の記載事項\n再委託の申請書には次の事項を記載する。\n- 再委託先の名称と住所。\n- 業務の範囲。\n",
    )
    index_into([kb], data_dir)
    settings = Settings(ITAKU_DATA_DIR=data_dir)  # type: ignore[call-arg]
    assistant = Assistant(
        KnowledgeBase.open(data_dir, open_client(data_dir, None)),
        Glossary([]),
        HashingEmbedder(),
        settings,
    )
    a = assistant.ask("再委託の申請書の記載事項は？")
    assert "・再委託先の名称と住所。" in a.answer and "・業務の範囲。" in a.answer

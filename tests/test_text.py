from bot.assistant.answer_type import answer_type
from bot.knowledge.glossary import Glossary
from bot.knowledge.query import law_names
from bot.knowledge.text import (
    detect_language,
    normalize,
    split_sentences,
    stem_english,
    strip_control,
)


def test_split_keeps_quoted_sentences_whole() -> None:
    text = "彼は「生命の起源は地球ではない。」と述べた。次の文です！本当？"
    assert split_sentences(text) == [
        "彼は「生命の起源は地球ではない。」と述べた。",
        "次の文です！",
        "本当？",
    ]


def test_split_on_lines_and_brackets() -> None:
    text = "第1条（目的。範囲）本契約の目的を定める。\n- 箇条書きの項目\n\n最後の文"
    assert split_sentences(text) == [
        "第1条（目的。範囲）本契約の目的を定める。",
        "- 箇条書きの項目",
        "最後の文",
    ]


def test_split_english() -> None:
    assert split_sentences("What is a DPA? It is an agreement, e.g. a contract. Done.") == [
        "What is a DPA?",
        "It is an agreement, e.g. a contract.",
        "Done.",
    ]


def test_normalize_folds_width_case_and_thousands() -> None:
    assert normalize("ＩＳＭＳ　1,000人 ｶﾀｶﾅ") == "isms 1000人 カタカナ"


def test_strip_control_removes_invisible_characters() -> None:
    assert strip_control("再\x00委\u200b託\x1b") == "再委託"
    assert strip_control("行1\n行2\t") == "行1\n行2\t"


def test_detect_language() -> None:
    assert detect_language("再委託の条件は？") == "ja"
    assert detect_language("NDAと再委託の関係は?") == "ja"
    assert detect_language("What must a subcontracting request contain?") == "en"
    assert detect_language("재위탁 조건은?") == "other"
    assert detect_language("？？？") == "ja"


def test_stem_english_folds_inflections_consistently() -> None:
    from bot.knowledge.text import stem_english

    assert stem_english("destroying destroyed destroys") == "destroy destroy destroy"
    assert stem_english("breaches policies process 再委託") == "breach policy process 再委託"


def test_who_asks_for_a_body_only_when_it_opens_the_question() -> None:
    from bot.assistant.answer_type import answer_type

    asks = answer_type("Who accredits ISMS certification bodies in Japan?")
    assert asks is not None and "body" in asks.names
    relative = answer_type("What should an NDA say about who inside the company may see it?")
    assert relative is None or "body" not in relative.names


def test_law_names_are_told_from_words_for_a_way_of_doing() -> None:
    assert law_names("公益通報者保護法で、通報の期限は？") == ["公益通報者保護法"]
    assert law_names("改正個人情報保護法の施行日は？") == ["個人情報保護法"]
    assert law_names("労働基準法上の上限は？") == ["労働基準法"]
    assert law_names("不正競争防止法第2条の要件") == ["不正競争防止法"]
    # a way of doing, a legal person, the laws in general, or a one-character law: no name
    for text in (
        "委託先の管理方法は？",
        "漏えいの対処法",
        "ヘボン式の表記法",  # a way of writing, in a general text
        "違法ですか",
        "法人番号",
        "個人情報保護法令",
        "民法上",
    ):
        assert law_names(text) == [], text


def test_when_that_asks_for_a_condition_asks_for_no_time() -> None:
    asked = answer_type("When is a vendor allowed to pass our work to another firm?")
    assert asked is None or not {"deadline", "year"} & set(asked.names)
    without = answer_type("When may a company share customer data without asking them?")
    assert without is None or not {"deadline", "year"} & set(without.names)
    # a may or a can asks when it is permitted, whatever follows
    modal = answer_type("Under the Civil Code, when may a mandatary appoint a sub-mandatary?")
    assert modal is None or not {"deadline", "year"} & set(modal.names)
    timed = answer_type("When did the rule on sub-mandataries take effect?")
    assert timed is not None and "year" in timed.names
    due = answer_type("When is the final report due?")
    assert due is not None and "deadline" in due.names


def test_a_when_that_opens_a_clause_asks_for_no_time() -> None:
    def asks_time(question: str) -> bool:
        asked = answer_type(question)
        return asked is not None and bool({"deadline", "year"} & set(asked.names))

    for question, timed in (
        # "when" inside the question opens a condition: it asks whether or what, not when
        ("Must the vendor show us its logs when we request them?", False),
        ("Under the APPI, does a processor need our approval when it hires another firm?", False),
        ("What should our team check first when a supplier loses a laptop?", False),
        # … but it still asks a time where it opens a clause, follows "by", or is what one wants
        ("Does the vendor have to tell us, and by when?", True),
        ("We found a leak at our supplier, when do we have to report it?", True),
        ("Can you tell me when the amendment took effect?", True),
    ):
        assert asks_time(question) is timed, question


def test_how_many_days_asks_for_a_deadline_not_a_count() -> None:
    days = answer_type("How many business days do we get for the final report?")
    assert days is not None and "deadline" in days.names and "count" not in days.names
    people = answer_type("How many people were affected?")
    assert people is not None and "count" in people.names


def _kinds(question: str) -> set[str]:
    """The kinds of answer a question asks for (none where it asks for no particular kind)."""
    asked = answer_type(question)
    return set(asked.names) if asked is not None else set()


def test_how_careful_asks_a_degree_of_care_not_a_number() -> None:
    for text in (
        "準委任で受けた側って、どのくらい気をつけて仕事しなきゃいけないの？",
        "受任者はどの程度の注意を払う義務がある？",
    ):
        assert not {"count", "duration"} & _kinds(text), text
    assert "count" in _kinds("漏えいした人数はどのくらい？")


def test_which_article_asks_for_an_article_with_words_between() -> None:
    for text in (
        "Which Civil Code article defines a mandate?",
        "What article of the APPI covers supervising contractors?",
        "Which provisions apply?",
    ):
        assert "article" in _kinds(text), text
    assert not _kinds("What should a contract with a vendor say about audits?")


def test_whenever_asks_no_time() -> None:
    assert answer_type("Must the contractor tell us how the work is going whenever we ask?") is None
    asked = answer_type("When is the final report due?")
    assert asked is not None and "deadline" in asked.names


def test_how_much_asks_for_money_only_when_it_is_about_a_cost() -> None:
    fee = answer_type("How much does a privacy mark audit cost?")
    assert fee is not None and "amount" in fee.names
    fine = answer_type("How much is the fine for ignoring an order?")
    assert fine is not None and "amount" in fine.names
    for text in ("The vendor's laptop was hacked: what got out, and how much?", "How much data?"):
        asked = answer_type(text)
        assert asked is None or "amount" not in asked.names, text


def test_a_hyphen_and_a_space_name_the_same_english_term() -> None:
    from bot.knowledge.glossary import Glossary

    glossary = Glossary([("コールセンター", ["call center"]), ("再委託", ["sub-contract"])])
    for text in ("our call-center vendor", "our call center vendor"):
        assert [c.canonical for c in glossary.match(text)] == ["コールセンター"], text
    assert [c.canonical for c in glossary.match("a sub-contract")] == ["再委託"]


def test_a_question_about_punishment_asks_for_a_penalty() -> None:
    for text in (
        "顧客名簿を売った元社員はどんな罰を受ける？",
        "What's the penalty for ignoring the PPC?",
    ):
        asked = answer_type(text)
        assert asked is not None and "penalty" in asked.names, text
        assert asked.matches("1年以下の拘禁刑または50万円以下の罰金に処される。")
    assert answer_type("Is it fine to send the list by email?") is None


def test_what_went_wrong_and_always_ask_for_no_body_and_no_time() -> None:
    # 「どこがまずかった」 asks what was wrong, not which body; 「いつも」 is no 「いつ」
    for text in (
        "あの事件、結局どこがまずかったの？",
        "いつもごっちゃになる。請負と準委任の違いは？",
        # who did it in a case: a company and its staff, not a body
        "あの流出、どこの誰がやらかしたの？",
        "顧客名簿は誰が持ち出したんですか？",
    ):
        asked = answer_type(text)
        assert asked is None or not {"body", "year"} & set(asked.names), text
    for text in ("認証機関を認定しているのはどこが？", "速報は誰が出すの？"):
        asked = answer_type(text)
        assert asked is not None and "body" in asked.names, text


def test_a_longer_glossary_match_is_taken_out_whole() -> None:
    from bot.knowledge.glossary import Glossary
    from bot.knowledge.query import prepare_query

    glossary = Glossary([("メール", ["メール"]), ("メールアドレス", ["メールアドレス"])])
    q = prepare_query("メール配信の業者にメールアドレスを渡す", glossary)
    assert "アドレス" not in [t.text for t in q.key_terms]


def test_a_glossary_word_does_not_end_inside_a_longer_katakana_word() -> None:
    from bot.knowledge.glossary import Glossary
    from bot.knowledge.query import prepare_query

    glossary = Glossary(
        [
            ("個人情報", ["顧客データ"]),
            ("情報セキュリティ", ["セキュリティ"]),
            ("ガイドライン", ["ガイドライン"]),
        ]
    )
    db = prepare_query("委託先の環境に当社の顧客データベースを置いてもらっている", glossary)
    assert "ベース" not in [t.text for t in db.key_terms]
    assert "個人情報" not in [t.text for t in db.key_terms]
    # a compound of two glossary words is both of them
    both = [c.canonical for c in glossary.match("IPAのセキュリティガイドラインは？")]
    assert both == ["情報セキュリティ", "ガイドライン"]
    assert [c.canonical for c in glossary.match("顧客データを渡す")] == ["個人情報"]


def test_english_contractions_frame_the_question_and_name_nothing() -> None:
    from bot.knowledge.tokenize import key_terms

    terms = key_terms("I'm told our vendor isn't certified. Let's find out: they're fine?")
    assert not {"i'm", "isn't", "let's", "they're", "find"} & set(terms)
    assert "vendor" in terms and "certifi" in " ".join(terms)


def test_a_glossary_place_finds_its_group_and_says_it_is_a_place() -> None:
    glossary = Glossary(
        [("同等水準国", ["同等水準国", "adequacy"])], {"同等水準国": ["ドイツ", "london"]}
    )
    by_text = {c.matched: c for c in glossary.match("ドイツの会社とlondonのadequacyは同等水準国？")}
    assert {c.canonical for c in by_text.values()} == {"同等水準国"}
    assert by_text["ドイツ"].place and by_text["london"].place
    assert not by_text["adequacy"].place and not by_text["同等水準国"].place


def test_english_stems_fold_inflections_but_not_nouns_of_their_own() -> None:
    assert stem_english("destroyed breaches") == "destroy breach"
    # (accounting is not an account, during no verb)
    assert stem_english("accounting during meetings") == "accounting during meeting"

from bot.knowledge.tokenize import char_tokens, key_terms, word_tokens


def test_char_tokens_japanese_runs_and_latin_words() -> None:
    toks = char_tokens("再委託とISMS 1,000人")
    assert "再委" in toks and "委託" in toks and "託" in toks
    assert "isms" in toks and "1000" in toks
    assert "と" in toks and "3年" not in toks


def test_word_tokens_keep_compounds_and_bypass_sudachi_for_latin() -> None:
    toks = word_tokens("個人情報保護法とwhat")
    assert "what" in toks
    assert "ホワット" not in toks
    assert any("個人" in t for t in toks)


def test_key_terms_drop_question_words_and_chatter() -> None:
    terms = key_terms("委託先の監査って、毎回現地に行かないとダメですか？何をすればいい？")
    assert "監査" in terms and "委託先" in terms
    for noise in ("何", "毎回", "する", "行く"):
        assert noise not in terms


def test_key_terms_drop_plural_and_done_suffixes() -> None:
    # 「本人たち」 are the individuals, 「報告済み」 is a report made, 「方々」 are people
    terms = key_terms("委託元には報告済みです。会員ご本人たちや被害を受けた方々への連絡も要る？")
    assert "本人" in terms and "報告" in terms
    for noise in ("たち", "済み", "方々"):
        assert noise not in terms


def test_key_terms_drop_english_framing_of_ease_and_japan() -> None:
    terms = key_terms("Which countries are as good as Japan's, so we can send data more easily?")
    for noise in ("japan's", "easily", "japan"):
        assert noise not in terms


def test_key_terms_english_stopwords() -> None:
    assert key_terms("What is the deadline for the final report?") == [
        "deadline",
        "final",
        "report",
    ]
    # what a noun is "related" to is the noun, not the relation
    from bot.config import PROJECT_ROOT
    from bot.knowledge.glossary import Glossary
    from bot.knowledge.query import prepare_query

    glossary = Glossary.load(PROJECT_ROOT / "knowledge" / "glossary.yaml")
    q = prepare_query("Which breach-related clauses belong in a contract?", glossary)
    texts = [t.text for t in q.key_terms]
    assert "事故" in texts and not any("relat" in t for t in texts)


def test_a_concept_named_twice_is_named_by_every_form_the_question_uses() -> None:
    # the situation names it one way, the question proper another: the question proper names
    # it too (an English form is kept only as the question uses it)
    from bot.knowledge.glossary import Glossary
    from bot.knowledge.query import prepare_query
    from bot.knowledge.text import normalize

    glossary = Glossary([("自動更新", ["自動更新", "renews automatically", "before renewal"])])
    q = prepare_query(
        "Our contract renews automatically. How many days before renewal must we tell them?",
        glossary,
    )
    [term] = [t for t in q.key_terms if t.text == "自動更新"]
    assert term.occurs_in(normalize(q.asked))


def test_sudachi_input_limit_is_respected() -> None:
    long = "委託先の管理。" * 20000  # well over SudachiPy's input limit
    assert word_tokens(long)


def test_a_situation_told_first_weighs_less_than_the_question() -> None:
    from bot.knowledge.glossary import Glossary
    from bot.knowledge.query import CONTEXT_WEIGHT, prepare_query

    q = prepare_query("給与計算を委託しています。監査はどうすればいい？", Glossary([]))
    weights = dict(q.word_terms)
    assert weights["給与計算"] == CONTEXT_WEIGHT
    assert weights["監査"] == 1.0
    single = prepare_query("監査はどうすればいい？", Glossary([]))
    assert all(w == 1.0 for _, w in single.word_terms)

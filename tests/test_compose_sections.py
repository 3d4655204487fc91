"""Which section answers, by what its heading answers: a case's own section before its lessons
when the question asks about the case (the lessons when it asks what to learn); the section that
names what goes into a thing before the one that defines it, and the mirror for what-is
questions; and only a close section (by score) replaces the best one."""

from __future__ import annotations

import datetime as dt

from bot.assistant.compose import ComposePolicy
from bot.assistant.heading_roles import by_heading_role
from bot.config import PROJECT_ROOT
from bot.knowledge.glossary import Glossary
from bot.knowledge.models import Chunk, DocMeta
from bot.knowledge.query import prepare_query
from bot.knowledge.search import Hit

GLOSSARY = Glossary([])
POLICY = ComposePolicy()


def _hit(
    section: str,
    score: float,
    source: str = "cases/x.md",
    title: str = "X社の事件",
    text: str = "…",
) -> Hit:
    chunk = Chunk(id=section, source=source, title=title, section=section, text=text, position=0)
    return Hit(chunk, score, 0.5)


def _choose(question: str, hits: list[Hit]) -> Hit:
    return by_heading_role(prepare_query(question, GLOSSARY), hits, hits[0], POLICY)


def test_a_question_about_the_case_gets_the_case_not_its_lessons() -> None:
    lessons, case = _hit("X社の事件の教訓（記録媒体）", 10.0), _hit("X社の事件の概要", 8.5)
    assert _choose("X社の漏えい事件ってどんな件だった？", [lessons, case]) is case
    assert _choose("X社の事件の教訓は？", [lessons, case]) is lessons
    assert _choose("X社のUSBなくしたやつ、何人分だった？", [lessons, case]) is case
    far = _hit("X社の事件の概要", 7.0)  # not close enough: the lessons stay
    assert _choose("X社の漏えい事件ってどんな件だった？", [lessons, far]) is lessons


def test_a_question_about_what_goes_in_gets_the_section_that_names_it() -> None:
    definition, clauses = _hit("契約Xとは", 10.0), _hit("契約Xに入れるべき条項", 9.5)
    assert _choose("契約Xにはどんな条項を入れる？", [definition, clauses]) is clauses
    assert _choose("What should contract X include?", [definition, clauses]) is clauses
    # 条項 in the situation told first, not in the question: what it is stays the answer
    told = "先方に「守秘条項があるから不要」と言われた。このままでいい？"
    assert _choose(told, [definition, clauses]) is definition
    when, items = _hit("1,000人以下でも報告が必要な場合", 10.0), _hit("報告事項（9項目）", 9.8)
    assert _choose("報告すべき事項はいくつ？", [when, items]) is items
    assert _choose("What goes into the report to the regulator?", [when, items]) is items
    # a heading that names one clause is no list of them
    one, all_ = _hit("有効期間と存続条項", 10.0), _hit("契約Xに入れるべき条項", 9.0)
    assert _choose("What clauses does contract X usually have?", [one, all_]) is all_
    far = _hit("契約Xに入れるべき条項", 7.0)
    assert _choose("契約Xにはどんな条項を入れる？", [definition, far]) is definition
    # a clause told as there already asks no contents (「…条項入ってるし、NDAは要らなくない？」)
    assert _choose("契約Yに守秘の条項入ってるし、契約Xは要らなくない？", [definition, clauses]) is (
        definition
    )
    assert _choose("契約Xってだいたいどんな条項が入ってるもの？", [definition, clauses]) is clauses


def test_a_what_is_question_gets_the_section_that_defines_it() -> None:
    other, definition = _hit("契約Xの下請け", 10.0), _hit("契約Xとは", 9.5)
    assert _choose("契約Xとはどのような契約か", [other, definition]) is definition
    assert _choose("What is contract X?", [other, definition]) is definition
    assert _choose("契約Xの下請けの条件は？", [other, definition]) is other
    # こと is no term defined (「気をつけることはありますか」)
    assert _choose("契約Xの下請けで気をつけることはありますか。", [other, definition]) is other


def test_a_question_that_names_no_other_country_is_not_about_sending_data_abroad() -> None:
    abroad = _hit("第28条の原則（外国への提供に特化した本人同意）", 10.0)
    home = _hit("委託先への提供は「第三者提供」にあたらない", 8.5)
    assert _choose("外注先に顧客リスト渡すのって、本人の同意いらないの？", [abroad, home]) is home
    assert _choose("インドの開発会社に顧客データを渡すのに同意はいる？", [abroad, home]) is abroad
    assert _choose("Can we send customer data to a vendor in Vietnam?", [abroad, home]) is abroad
    # "us" the pronoun is no country; the country is
    home_first = [home, abroad]
    assert _choose("A client gave us their customer data. Do we need consent?", home_first) is home
    assert (
        _choose("We want to use a US analytics vendor. Do we need consent?", home_first) is abroad
    )


def test_a_document_without_headings_is_headed_by_its_title() -> None:
    clause = _hit("", 10.0, "knowledge/templates/clauses/x.md", "廃棄条項（シュレッダー）")
    listing = _hit(
        "委託契約に盛り込む項目（書類の廃棄）", 9.5, "knowledge/guidance/x.md", "委託契約"
    )
    # the clause is what the contract says about disposal already: no role moves away from it
    assert (
        _choose_with_glossary("書類の捨て方、契約書に書いとくもの？", [clause, listing]) is clause
    )


def test_a_question_set_in_a_setting_gets_the_section_specific_to_it() -> None:
    civil, public = (
        _hit("準委任の再委託（民法第644条の2）", 10.0),
        _hit("公共調達での再委託の実務", 8.5),
    )
    assert _choose("自治体との契約では、再委託にどんな制限がある？", [civil, public]) is public
    assert _choose("準委任で再委託するには？", [civil, public]) is civil
    my_number, general = (
        _hit("再委託には許諾が必要（番号法第10条）", 10.0),
        _hit("再委託の条件", 8.5),
    )
    assert (
        _choose("外注先が勝手に別の会社に再委託するのってアリ？", [my_number, general]) is general
    )
    assert _choose("マイナンバーの事務を再委託するには？", [my_number, general]) is my_number
    # a form's fill-in part is never chosen by a role
    form = _hit("番号法の条項", 9.0, "knowledge/templates/nda.md", "NDA", "{{if my_number}}…")
    assert _choose("マイナンバーの事務を再委託するには？", [general, form]) is general


def test_a_public_model_asked_for_gets_what_the_public_body_published() -> None:
    notes = _hit("ひな形を使うときの注意（法務部門のレビュー）", 10.0)
    others = [_hit(f"関連{i}", 9.0 - i) for i in range(2)]
    meti = _hit("経済産業省「秘密情報の保護ハンドブック」の参考例", 6.5)
    hits = [notes, *others, meti]
    assert _choose("NDAの公的なひな形ってないの？", hits) is meti
    assert _choose("国が出しているひな形はありますか？", hits) is meti
    assert _choose("外国のひな形を使うときの注意は？", hits) is notes  # 外国の is no 国の
    assert _choose("ひな形を使うときの注意は？", hits) is notes


def test_a_why_question_gets_the_section_that_gives_the_reasons() -> None:
    other, reasons = _hit("指示9（サプライチェーン全体の対策）", 10.0), _hit("管理する理由", 8.5)
    assert _choose("なんで委託先まで管理しなきゃいけないの？", [other, reasons]) is reasons
    assert _choose("Why do we need to manage contractors?", [other, reasons]) is reasons
    assert _choose("指示9は何を求めている？", [other, reasons]) is other


def test_a_question_naming_how_many_things_gets_the_heading_that_names_as_many() -> None:
    selection = _hit("「適切な委託先の選定」（通則編3-4-4）", 10.0)
    others = [_hit(f"関連{i}", 9.0 - i) for i in range(4)]
    three = _hit("委託先監督の3つの義務（選定・契約・取扱状況の把握）", 6.5)
    hits = [selection, *others, three]
    assert _choose("委託先の監督として求められている措置を3つ挙げてください。", hits) is three
    assert _choose("What are the three measures of supervision?", hits) is three
    assert _choose("委託先の監督として求められている措置を2つ挙げて", hits) is selection
    assert _choose("委託先の選定で何を確認する？", hits) is selection


def test_who_answers_for_it_gets_the_section_on_liability() -> None:
    steps, liability = _hit("再委託のときに委託元がすべきこと", 10.0), _hit("委託元の法的責任", 8.5)
    told = "孫請けの業者が個人情報を漏らしたらしい。うちは直接契約してないから関係ないよね？"
    assert _choose(told, [steps, liability]) is liability
    assert _choose("Is a leak at a sub-subcontractor our problem?", [steps, liability]) is liability
    assert _choose("再委託のとき委託元は何をする？", [steps, liability]) is steps


def test_a_question_about_a_case_gets_the_case_document() -> None:
    clause = _hit("記録媒体条項", 10.0, "knowledge/templates/x.md", "条項")
    account = _hit("第三者委員会の指摘", 8.5, "knowledge/cases/a.md", "A市の事案")
    case = DocMeta(
        title="A市の事案", kind="case", sources=[{"title": "x"}], as_of=dt.date(2026, 1, 1)
    )
    docs = {"knowledge/cases/a.md": case}
    hits = [clause, account]
    told = "USBをなくした自治体の事件、結局漏れたの？"
    assert by_heading_role(prepare_query(told, GLOSSARY), hits, clause, POLICY, docs) is account
    asked = prepare_query("記録媒体条項には何を書く？", GLOSSARY)
    assert by_heading_role(asked, hits, clause, POLICY, docs) is clause


def test_what_to_do_first_after_a_leak_gets_the_first_steps() -> None:
    # the situation told outweighs the short question: the first steps rank sixth, at 0.6
    case = _hit("事例3：担当者がメールを誤送信", 10.0)
    others = [_hit(f"関連{i}", 9.0 - i) for i in range(4)]
    first = _hit("漏えいが起きたときに最初にすること", 6.0)
    hits = [case, *others, first]
    told = "委託先のメール誤送信で顧客データが流出したと分かった。まず何から手を付ければいい？"
    assert _choose(told, hits) is first
    assert _choose("We had a breach at a vendor. What do we do first?", hits) is first
    # no incident, or no first step asked: the best stays
    assert _choose("委託先を選ぶとき、まず何を確認する？", hits) is case
    assert _choose("誤送信の事例を教えて", hits) is case
    # what to do right away is asked; "it told us right away" is the situation
    assert _choose("A vendor leaked our data. What should we do right away?", hits) is first
    told_fast = "Our vendor had a breach and told us right away. Must it report too?"
    assert _choose(told_fast, hits) is case
    far = _hit("漏えいが起きたときに最初にすること", 5.0)  # under 0.55 of the best
    assert _choose(told, [case, *others, far]) is case


def test_what_to_do_and_by_when_after_a_leak_gets_the_steps_in_order() -> None:
    notice = _hit("報告の流れ：誰に、どれだけ早く知らせるか", 10.0)
    steps = _hit("漏えいが起きたときにすること（対応の順番）", 9.0)
    hits = [notice, steps]
    told = "委託先がノートPCを電車に置き忘れたと連絡がありました。当社は何をいつまでにすればいい？"
    assert _choose(told, hits) is steps
    assert (
        _choose("A vendor lost a laptop with our data. What must we do, and by when?", hits)
        is steps
    )
    # one deadline asked, or no incident told: the best stays
    assert _choose("委託先がノートPCを置き忘れた。報告はいつまで？", hits) is notice
    assert _choose("委託先を選ぶときは何をいつまでに確認する？", hits) is notice


def test_a_pointer_to_another_document_is_no_answer() -> None:
    from bot.assistant.compose import is_meta

    assert is_meta("対応の詳細は「事故対応チェックリスト」にまとめている。")
    assert is_meta("再委託の管理方法の詳細は、「再委託の管理」の文書で説明している。")
    assert not is_meta("委託元は委託先に詳細な報告を求める。")


def test_sections_without_a_heading_in_two_files_are_not_one_section() -> None:
    from bot.assistant.compose import _same_section

    a = Chunk(id="a", source="clauses/a.md", title="A", section="", text="…", position=0)
    b = Chunk(id="b", source="clauses/b.md", title="B", section="", text="…", position=0)
    a2 = Chunk(id="a2", source="clauses/a.md", title="A", section="", text="…", position=1)
    assert not _same_section(a, b)  # a sentence of b is another source: cited [2], not [1]
    assert _same_section(a, a2)


# the shipped glossary, read once: the roles that want the question's subject in the heading see
# its key terms as the assistant does (漏えい, 監査 for "audits")
SHIPPED_GLOSSARY = Glossary.load(PROJECT_ROOT / "knowledge" / "glossary.yaml")


def _choose_with_glossary(question: str, hits: list[Hit]) -> Hit:
    return by_heading_role(prepare_query(question, SHIPPED_GLOSSARY), hits, hits[0], POLICY)


def test_a_question_about_kinds_gets_the_heading_that_names_the_kinds() -> None:
    steps = _hit("漏えいが起きたときに最初にすること", 10.0)
    other_kinds = _hit("業務委託契約の2つの類型（請負と準委任）", 9.6)
    kinds = _hit("委託先から情報が漏えいする2つの経路（過失と盗用）", 9.0)
    hits = [steps, other_kinds, kinds]
    question = "業務委託先から漏えいが起きる場合、大きく分けてどんな起き方がある？"
    # the kinds of what was asked about (漏えい), not the kinds of contract
    assert _choose_with_glossary(question, hits) is kinds
    assert _choose_with_glossary("漏えいが起きたら最初に何をする？", hits) is steps


def test_what_the_contract_should_say_gets_the_clause_on_that_subject() -> None:
    selection = _hit("委託先を選ぶときに確認すること", 10.0)
    every_clause = _hit("委託契約に盛り込む項目", 9.5)
    audit_clause = _hit("定期的な立入調査（監査）と報告書の提出を契約に明記する", 8.8)
    hits = [selection, every_clause, audit_clause]
    assert (
        _choose_with_glossary("監査について契約書にはどう書いておけばいい？", hits) is audit_clause
    )
    assert _choose_with_glossary("What should the contract say about audits?", hits) is audit_clause
    assert (
        _choose_with_glossary("監査では何を確認する？", hits) is selection
    )  # not asked of the contract
    # the list of every clause ranked first names no subject of the question: the clause on
    # the one asked about, when close
    hits = [every_clause, audit_clause]
    in_a_contract = "Which audit provisions should be in an outsourcing contract?"
    assert _choose_with_glossary(in_a_contract, hits) is audit_clause
    assert (
        _choose_with_glossary("外注先に監査入れられるよう契約に何書いとく？", hits) is audit_clause
    )
    assert _choose_with_glossary("契約書には何を盛り込めばいい？", hits) is every_clause
    # (a section on putting that subject into the contract reaches further down than most roles)
    lower = _hit("定期的な立入調査（監査）と報告書の提出を契約に明記する", 6.0)
    assert (
        _choose_with_glossary("監査入れられるよう契約に何書いとく？", [every_clause, lower])
        is lower
    )
    far = _hit("定期的な立入調査（監査）と報告書の提出を契約に明記する", 5.0)
    assert (
        _choose_with_glossary("監査入れられるよう契約に何書いとく？", [every_clause, far])
        is every_clause
    )
    # what the contract does with a subject (定め), and a word inside a name the heading quotes,
    # name no subject of the question
    benchmark = _hit(
        "IPA「情報セキュリティ対策ベンチマーク」の「業務委託契約」で求める記載事項", 9.0
    )
    by_a_case = _hit("X社の事件を踏まえて委託契約で定めておく事項", 8.9)
    assert (
        _choose_with_glossary(
            "委託中もセキュリティ対策が続いているか確かめたい。契約にどんな定めを盛り込む？",
            [every_clause, benchmark, by_a_case],
        )
        is every_clause
    )


def test_what_to_have_the_contractor_hand_in_gets_what_the_request_states() -> None:
    conditions = _hit("再委託を認める条件", 10.0)
    request = _hit("再委託承認申請に記載すべき事項", 8.5)
    hits = [conditions, request]
    assert (
        _choose_with_glossary("再委託を承認する前に、委託先から何を出してもらえばいい？", hits)
        is request
    )
    assert _choose_with_glossary("再委託を認める条件は？", hits) is conditions


def test_how_to_hand_it_in_gets_the_section_on_submitting() -> None:
    who = _hit("1,000人以下でも報告が必要な場合", 10.0)
    method = _hit("報告事項（9項目）と提出方法", 9.0)
    hits = [who, method]
    assert _choose("委員会への報告ってどうやって出せばいい？", hits) is method
    assert _choose("How do we submit the report to the PPC?", hits) is method
    assert _choose("How are leak reports to the regulator normally filed?", hits) is method
    assert _choose("1,000人以下でも報告はいる？", hits) is who
    # whether by a channel one has in mind, and from further down the ranking
    far = _hit("報告事項（9項目）と提出方法", 8.2)
    hits = [who, *(_hit(f"別の節{i}", 9.5 - i / 10) for i in range(6)), far]
    assert (
        _choose("報告書をWordで作りました。委員会にはメールに添付して送ればよいですか。", hits)
        is far
    )
    assert _choose("Can we send the report to the PPC by email?", hits) is far
    assert _choose("1,000人以下でも報告はいる？", hits) is who


def test_what_to_keep_doing_afterwards_gets_the_periodic_checks() -> None:
    condition = _hit("同意が不要になる例外（基準適合体制）", 10.0)
    checks = _hit("基準適合体制による場合の定期確認と提供停止", 8.5)
    hits = [condition, checks]
    question = "基準適合体制で海外に出した後も、ずっと続けてやることはある？"
    assert _choose_with_glossary(question, hits) is checks
    assert _choose_with_glossary("基準適合体制って何？", hits) is condition
    after = "基準適合体制を理由に海外の業者へデータを移転した後、こちらで何をする？"
    assert _choose_with_glossary(after, hits) is checks
    # from further down, and with the measures said in everyday words
    further = [
        condition,
        *(_hit(f"海外の節{i}", 9.0 - i / 10) for i in range(5)),
        _hit("基準適合体制による場合の定期確認と提供停止", 6.8),
    ]
    question = "日本の法律と同等の措置をとる覚書を結んだ。一度結べば、あとは何もしなくていい？"
    assert _choose_with_glossary(question, further) is further[-1]
    # 後は in kanji, the measures as 「個人情報保護法並み」, and "afterwards" in English
    question = (
        "個人情報保護法並みの措置を約束する契約を結んだ。契約さえあれば後は何もしなくていい？"
    )
    assert _choose_with_glossary(question, hits) is checks
    english = (
        "If we send data abroad relying on the vendor's contract protections instead of consent,"
        " do we have to do anything afterwards?"
    )
    assert _choose_with_glossary(english, hits) is checks


def test_a_setting_named_reaches_further_down_for_its_own_section() -> None:
    general = _hit("再委託と下請負の違い", 10.0)
    others = [_hit(f"再委託の条件{i}", 9.0 - i * 0.5) for i in range(4)]
    public = _hit("公共調達での再委託の実務（主たる部分の再委託禁止）", 7.0)
    hits = [general, *others, public]
    assert _choose("自治体の委託で再委託にはどんな制限がある？", hits) is public
    assert _choose("再委託にはどんな制限がある？", hits) is general


def test_examples_asked_for_get_the_section_of_examples() -> None:
    rule = _hit("委託先監督の3つの義務", 10.0)
    examples = _hit("委託先の監督に失敗した例（再委託に関する2例）", 7.8)
    hits = [rule, examples]
    assert _choose("ガイドラインが挙げる監督不備の例は？", hits) is examples
    assert _choose("What examples of poor supervision does the guideline give?", hits) is examples
    assert _choose("委託先の監督では何をする？", hits) is rule


def test_what_there_is_besides_the_thing_named_gets_the_other_kinds() -> None:
    entrusting = _hit("委託先への提供は第三者提供にあたらない", 10.0)
    others = _hit("第三者にあたらない他の場合（合併・共同利用）", 8.5)
    hits = [entrusting, others]
    assert _choose("委託のほかにどんな場合が第三者にあたらない？", hits) is others
    assert _choose("委託以外で第三者提供にならないのはどんな場合？", hits) is others
    assert _choose("Apart from outsourcing, when is a recipient not a third party?", hits) is others
    assert _choose("委託先に渡すのは第三者提供になる？", hits) is entrusting
    # a little further down (0.65 of the best)
    items = _hit("委託契約に盛り込む項目", 10.0)
    other_clauses = _hit("委託契約に合わせて定めておく他の条項", 6.5)
    told = "業務委託の契約書さえ交わしとけば十分？ほかに何か結んどいたほうがいいやつある？"
    assert _choose(told, [items, other_clauses]) is other_clauses


def test_what_the_question_sets_aside_is_not_the_answer() -> None:
    report = _hit("委員会への報告の期限", 10.0)
    who_reports = _hit("委員会への報告を誰がするか", 9.5)
    notice = _hit("本人への通知", 8.6)
    far = _hit("本人への通知", 7.0)
    question = "漏えいしたとき、委員会への報告以外にやらなきゃいけないことは？"
    assert _choose_with_glossary(question, [report, who_reports, notice]) is notice
    # set aside with のほか, and as the question words it: its 報告, not the 通知 the glossary
    # groups with 報告
    besides = "個人情報保護委員会への報告のほかに、被害を受けた方々に対して負う義務は？"
    assert _choose_with_glossary(besides, [report, who_reports, notice]) is notice
    # … and with だけじゃなくて
    not_only = "漏えいしたら委員会への報告だけじゃなくて本人にも連絡しなきゃダメ？"
    assert _choose_with_glossary(not_only, [report, who_reports, notice]) is notice
    # … and in English, by the glossary concepts of the words set aside
    english = "Besides reporting to the regulator, do we also have to inform the customers?"
    assert _choose_with_glossary(english, [report, who_reports, notice]) is notice
    # nothing close enough that is not about it, or nothing set aside: the best stays
    assert _choose_with_glossary(question, [report, who_reports, far]) is report
    plain = "漏えいしたとき、委員会への報告はいつまで？"
    assert _choose_with_glossary(plain, [report, who_reports, notice]) is report


def test_the_rule_asked_in_a_situation_like_a_case_gets_the_rule() -> None:
    account = _hit(
        "B社の端末がマルウェアに感染（2,000件）", 10.0, "knowledge/cases/b.md", "B社の事例"
    )
    example = _hit("過失による漏えいの例", 9.0, "knowledge/guidance/g.md", "漏えいの経路")
    rule = _hit("確報の期限（30日以内・60日以内）", 5.0, "knowledge/law/l.md", "漏えい等の報告")
    case = DocMeta(
        title="B社の事例", kind="case", sources=[{"title": "x"}], as_of=dt.date(2026, 1, 1)
    )
    docs = {"knowledge/cases/b.md": case}
    hits = [account, example, rule]
    told = "委託先のPCがマルウェアに感染して2,000件漏れました。確報の期限はいつまで？"
    assert by_heading_role(prepare_query(told, GLOSSARY), hits, account, POLICY, docs) is rule
    # the case asked about keeps its own account
    asked = prepare_query("B社の事例では何件漏れた？", GLOSSARY)
    assert by_heading_role(asked, hits, account, POLICY, docs) is account
    # … and the rule must be about the question's subject: a clause that names none of it is no
    # rule for this (「報告の期限は？」 is not answered by the damages clause ranked above the rule)
    clause = _hit("損害賠償条項（事故対応費用）", 6.0, "knowledge/rules/c.md", "条項")
    hits = [account, clause, rule]
    assert by_heading_role(prepare_query(told, GLOSSARY), hits, account, POLICY, docs) is rule
    # whether it must be reported at all, from a little further down (0.42 of the case)
    categories = _hit(
        "少人数でも報告が必要な漏えいの類型", 4.2, "knowledge/law/l.md", "漏えい等の報告"
    )
    hits = [account, example, categories]
    whether = "委託先のPCがマルウェアに感染してメールアドレスが漏れた。これは報告の対象になる？"
    assert (
        by_heading_role(prepare_query(whether, GLOSSARY), hits, account, POLICY, docs) is categories
    )


def test_a_sentence_that_names_things_in_a_row_or_counts_them_enumerates() -> None:
    from bot.assistant.compose import _enumerates

    assert _enumerates("委託契約には、範囲、施錠保管、取扱者、廃棄方法、監査を盛り込む。")
    assert _enumerates("ガイドラインは、選定、契約の締結、取扱状況の把握の3つを挙げている。")
    assert not _enumerates("委託契約を結ぶときは、取扱い方法を具体的に指定することが重要である。")


def test_how_a_period_is_counted_gets_the_section_on_counting_it() -> None:
    deadlines = _hit("漏えい等報告の期限（速報と確報のまとめ）", 10.0)
    counting = _hit("確報の期限の数え方（1日目と休日）", 8.5)
    hits = [deadlines, counting]
    assert _choose("漏えいを知った当日も確報の期間に数える？", hits) is counting
    assert _choose("Is the day we learned of the leak counted in the 30 days?", hits) is counting
    assert _choose("確報の期限は何日以内？", hits) is deadlines


def test_a_difference_asked_gets_the_section_that_contrasts_those_two() -> None:
    other = _hit("業務委託の意味と雇用契約との違い", 10.0, source="guidance/x.md")
    pair = _hit("請負と準委任の違い（比較のポイント）", 9.0, source="guidance/x.md")
    assert _choose_with_glossary("請負と準委任ってどう違うの？", [other, pair]) is pair
    # 準委任 holds 委任 in its letters, but a heading that names 準委任 names one thing
    one = _hit("準委任契約（民法第656条）：事実行為を任せる契約", 10.0, source="law/x.md")
    assert _choose_with_glossary("委任と準委任って何が違う？", [one, pair]) is one
    far = _hit("請負と準委任の違い（比較のポイント）", 7.0, source="guidance/x.md")
    assert _choose_with_glossary("請負と準委任ってどう違うの？", [other, far]) is other


def test_what_went_wrong_in_a_case_gets_what_its_inquiry_found() -> None:
    story = _hit("X社の事件の概要", 10.0, "knowledge/cases/x.md")
    found = _hit("第三者委員会の指摘（報告書）", 8.0, "knowledge/cases/x.md")
    case = DocMeta(
        title="X社の事件", kind="case", sources=[{"title": "x"}], as_of=dt.date(2026, 1, 1)
    )
    docs = {"knowledge/cases/x.md": case}

    def choose(question: str) -> Hit:
        return by_heading_role(
            prepare_query(question, GLOSSARY), [story, found], story, POLICY, docs
        )

    assert choose("X社の事件って結局どこがまずかったの？") is found
    assert choose("X社の件、何がマズかったんだっけ") is found  # in katakana
    assert choose("What went wrong in the X case?") is found
    # what the commission did about it is what it found and ordered
    assert choose("X社の事件で、委員会はどんな措置をとったの？") is found
    assert choose("What did the regulator do about the X case?") is found
    assert choose("X社の事件って何があったの？") is story
    # the same headings outside a case document: no inquiry to report
    assert _choose("X社の事件って結局どこがまずかったの？", [story, found]) is story


def test_whether_it_is_allowed_gets_a_section_that_states_the_rule() -> None:
    what = _hit("契約Xとは", 10.0, source="law/x.md", text="契約Xは、事務を任せる契約である。")
    rule = _hit("復委任", 9.0, source="law/x.md", text="受任者は、許諾がなければ再委託できない。")
    assert _choose("契約Xの受任者が勝手に人に任せるのは許されるの？", [what, rule]) is rule
    assert _choose("契約Xってどんな契約？", [what, rule]) is what
    assert (
        _choose("Is it legal for the mandatary to hand the work to someone?", [what, rule]) is rule
    )
    # "legal" that qualifies a noun asks no permission
    assert _choose("What is the legal difference between X and Y?", [what, rule]) is what


def test_a_deadline_asked_gets_the_section_on_that_deadline() -> None:
    when = _hit("報告が必要な4つの事態", 10.0, source="law/x.md")
    final = _hit("確報の期限（30日以内・60日以内）", 8.0, source="law/x.md")
    hits = [when, final]
    assert _choose_with_glossary("委員会への確報はいつまでに出す？", hits) is final
    assert _choose_with_glossary("最終報告の締め切りって何日？", hits) is final
    assert _choose_with_glossary("How soon is the final report due?", hits) is final
    assert _choose_with_glossary("確報が必要になるのはどんな場合？", hits) is when
    # a deadline section on another subject does not answer
    other = _hit("NDAの有効期限", 9.0, source="law/x.md")
    assert _choose_with_glossary("委員会への確報はいつまでに出す？", [when, other]) is when


def test_the_contract_section_must_be_about_as_much_of_the_subject() -> None:
    both = _hit("記録媒体の施錠保管と廃棄", 10.0, source="checklists/x.md")
    one = _hit("記録媒体条項", 9.0, source="templates/x.md")
    hits = [both, one]
    # the clause names the media but not their disposal: the section on both stays
    assert _choose_with_glossary("USBの廃棄方法って契約でどこまで決める？", hits) is both
    # asked about the media alone, the clause is as much about it
    assert _choose_with_glossary("記録媒体について契約で何を決める？", hits) is one


def test_one_year_asked_gets_that_years_section_not_the_span() -> None:
    span = _hit("脅威Xの順位（2019年〜2026年）", 10.0, source="guidance/x.md")
    year = _hit("脅威ランキング2026年版の上位3件", 9.0, source="guidance/x.md")
    assert _choose("脅威ランキングの2026年版で1位は何？", [span, year]) is year
    # a year asked for as well asks about the span; a standard's edition is no year; a year
    # named of a section that spans none changes nothing
    assert _choose("脅威Xが初めて入ったのはいつ？2026年版では何位？", [span, year]) is span
    assert _choose("ISO/IEC 27001:2026の脅威Xの順位は？", [span, year]) is span
    story = _hit("X社の事件の概要", 10.0)
    dated = _hit("2014年の報道", 9.0)
    assert _choose("2014年のX社の事件って何件漏れた？", [story, dated]) is story
    # too far below the best, the span stays
    far = _hit("脅威ランキング2026年版の上位3件", 7.0, source="guidance/x.md")
    assert _choose("脅威ランキングの2026年版で1位は何？", [span, far]) is span


def test_a_year_is_named_itself_not_as_the_end_of_a_span() -> None:
    from bot.assistant.heading_roles import asked_year, names_year

    assert names_year("2025年は名称が変わり、2位だった。", "2025")
    assert not names_year("2023年版から2026年版までは毎年2位である。", "2026")
    assert not names_year("順位（2019年〜2026年）", "2019")
    assert asked_year("2025年版で何位？") == "2025"
    assert asked_year("2019年と2026年の順位は？") is None
    assert asked_year("初めて入ったのはいつ？2026年版では何位？") is None
    assert asked_year("ISO/IEC 27001:2022の管理策は？") is None
    # a year told before the question's own sentence, where that names none
    assert (
        asked_year("what is it called now?", "the item was renamed in 2025. what is it called now?")
        == "2025"
    )
    assert asked_year("2026年版では何位？", "2025年に改名された。2026年版では何位？") == "2026"


def test_whether_one_party_too_must_do_it_gets_the_exemption() -> None:
    who = _hit("本人への通知と代替措置", 10.0, source="law/x.md")
    exempt = _hit("委託元に通知した委託先の報告免除", 8.0, source="law/x.md")
    hits = [who, exempt]
    assert _choose("委託先自身も本人への通知をしなければなりませんか？", hits) is exempt
    assert _choose("Do we still have to notify the individuals ourselves?", hits) is exempt
    # whether both must, and the rule itself, are not about an exemption
    assert _choose("当社も委託先もそれぞれ報告しなければならない？", hits) is who
    assert _choose("本人への通知は必要？", hits) is who
    # the party named with に or as the one who would do it (「…も当社が行う必要が？」)
    assert _choose("本人への通知は委託先にもさせる必要がありますか。", hits) is exempt
    assert (
        _choose("委託元へ通知しました。本人への通知も当社が行う必要がありますか。", hits) is exempt
    )


def test_which_of_the_parties_does_it_gets_how_the_duty_is_shared() -> None:
    cases = _hit("報告が必要な4つの事態", 10.0, source="law/x.md")
    shared = _hit(
        "委託先で漏えいが起きたとき誰が報告するか（委託元と委託先）", 6.5, source="law/x.md"
    )
    hits = [cases, shared]
    assert _choose("委員会への報告は当社とベンダーのどちらがすることになりますか。", hits) is shared
    assert _choose("委託先と当社で別々に報告書を出さないといけないのでしょうか。", hits) is shared
    assert _choose("Who files the report to the PPC, us or the vendor?", hits) is shared
    # one party reports, and must we too?
    told = "委託先は自分で委員会に報告すると言っていますが、当社も別に報告しなければならない？"
    assert _choose(told, hits) is shared
    assert (
        _choose("The vendor will report it itself. Do we also have to report it?", hits) is shared
    )
    assert _choose("どんな漏えいなら報告が必要？", hits) is cases


def test_which_one_of_a_numbered_series_gets_the_section_naming_it() -> None:
    overview = _hit("ガイドラインXの構成（3原則と重要10項目）", 10.0, source="guidance/x.md")
    one = _hit("ガイドラインXの指示9（取引先を含む対策）", 8.5, source="guidance/x.md")
    hits = [overview, one]
    assert _choose("ガイドラインXで取引先の対策は重要10項目のうちどの指示？", hits) is one
    assert _choose("ガイドラインXはどんな構成？", hits) is overview
    far = _hit("ガイドラインXの指示9（取引先を含む対策）", 6.0, source="guidance/x.md")
    assert _choose("ガイドラインXで取引先の対策はどの指示？", [overview, far]) is overview
    # asked in English, and of several close ones the one whose heading names the subject
    controls = _hit("規格Yの管理策の一覧", 10.0, source="law/x.md")
    first = _hit("管理策5.19（供給者関係）", 9.0, source="law/x.md")
    dev = _hit("管理策8.30（外部委託による開発）", 8.5, source="law/x.md")
    hits = [controls, first, dev]
    assert (
        _choose_with_glossary("Which Annex A control covers outsourced development?", hits) is dev
    )


def test_what_to_do_when_the_contract_ends_gets_the_section_on_its_end() -> None:
    handing = _hit("委託先に渡すデータは必要な範囲に限る", 10.0, source="guidance/x.md")
    ending = _hit("契約終了時の返却と消去", 8.5, source="guidance/x.md")
    hits = [handing, ending]
    assert (
        _choose("来月で委託契約が終了します。預けている顧客データはどうしてもらう？", hits)
        is ending
    )
    assert (
        _choose("Our contract with the vendor ends next month. What about our data?", hits)
        is ending
    )
    assert _choose("委託先に顧客データを渡すとき気をつけることは？", hits) is handing


def test_a_country_of_equivalent_protection_gets_the_section_on_those_countries() -> None:
    rule = _hit("第28条の原則（外国への提供に特化した本人同意）", 10.0, source="law/x.md")
    other = _hit("海外の委託先を使う場合の確認事項", 8.0, source="guidance/x.md")
    equivalent = _hit(
        "同意が不要になる例外1（日本と同等の水準にある国：EUと英国）", 6.5, "law/x.md"
    )
    hits = [rule, other, equivalent]
    for question in (
        "ミュンヘンの会社にデータ入力を委託します。外国への提供として同意は要りますか。",
        "Can we send customer data to a processor in Britain without consent?",
    ):
        assert _choose_with_glossary(question, hits) is equivalent, question
    # equivalent protection promised by contract is the other exception, not a country
    contract = "A vendor abroad guarantees equivalent protection by contract. Do we need consent?"
    assert _choose_with_glossary(contract, hits) is rule
    # a country of no equivalent protection, or none named, keeps the general rule
    assert _choose_with_glossary("ベトナムの会社に委託します。同意は要りますか。", hits) is rule
    far = _hit("同意が不要になる例外1（日本と同等の水準にある国：EUと英国）", 5.0, "law/x.md")
    assert _choose_with_glossary("ロンドンの会社に委託。同意は要る？", [rule, far]) is rule


def test_a_deadline_asked_for_gets_the_days_not_when_the_count_starts() -> None:
    steps = _hit("漏えいが起きたときに最初にすること", 10.0)
    start = _hit("速報の期限の起算点（いずれかの部署が最初に知った時点）", 8.5)
    days = _hit("漏えい等報告の期限（速報と確報のまとめ）", 7.5)
    hits = [steps, start, days]
    assert (
        _choose_with_glossary("漏れたときの最初の報告ってさ、何日ぐらいで出せばいいの？", hits)
        is days
    )
    # … and when the count starts, the start
    assert _choose_with_glossary("速報の期限はどの時点から数えるの？何日以内？", hits) is start


def test_a_title_counts_for_a_setting_by_its_subject_not_its_list_of_topics() -> None:
    selection = _hit(
        "委託先を選ぶときに確認すること", 10.0, "guidance/x.md", "委託先の選び方（認証・海外委託）"
    )
    abroad = _hit("第28条の原則", 8.0, "law/y.md", "外国にある第三者への提供（第28条）")
    assert (
        _choose("米国のベンダーに顧客情報を処理させたい。何を確認すべき？", [selection, abroad])
        is abroad
    )


def test_a_sentence_on_a_setting_the_question_does_not_name_is_no_support() -> None:
    from bot.assistant.heading_roles import in_other_setting

    abroad = "外国にある事業者に個人データを渡す場合は、第27条の委託の例外だけでは足りない。"
    assert in_other_setting("委託が終わったら預けたデータはどうしてもらう？", abroad)
    assert not in_other_setting("海外の委託先に預けたデータはどうしてもらう？", abroad)
    assert not in_other_setting("what about data we sent to an overseas vendor?", abroad)
    my_number = "番号法第10条の許諾がないままマイナンバー事務を再委託することは認められない。"
    assert in_other_setting("外注先が勝手に下請けに出してるけどアリ？", my_number)
    # a public body named as a case's client is no setting with rules of its own
    client = "地方公共団体から印刷・発送を受託していた会社がランサムウェアの被害を受けた。"
    assert not in_other_setting("印刷の委託先で起きた漏えいの事例は？", client)


def test_the_way_to_do_it_asked_for_gets_the_section_on_its_ways() -> None:
    duty = _hit("委託先の点検で取扱状況を把握する義務", 10.0, "guidance/a.md", "点検")
    ways = _hit("点検のやり方（訪問・書類・聞き取り）", 9.2, "guidance/a.md", "点検")
    other = _hit("選定の方法（書面と聞き取り）", 9.5, "guidance/b.md", "選定")
    hits = [duty, other, ways]
    assert _choose("委託先の点検って、どんなやり方でやればいい？", hits) is ways
    # (without a glossary an English question names no Japanese subject: the best stays)
    assert _choose("How should we run the inspection of a vendor?", hits) is duty
    # a way of something else is no way to do this; nor is a section that is not close
    assert _choose("委託先の点検って、どんなやり方でやればいい？", [duty, other]) is duty
    far = _hit("点検のやり方（訪問・書類・聞き取り）", 8.5, "guidance/a.md", "点検")
    assert _choose("委託先の点検って、どんなやり方でやればいい？", [duty, far]) is duty
    # not asked for a way: the duty stays
    assert _choose("委託先の点検は義務？", hits) is duty

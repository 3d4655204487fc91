"""Drafting: the clause templates under knowledge/templates/clauses, filling them, the NDA built
from them, and its Markdown and Word renderings. Offline and fast."""

from __future__ import annotations

import io
import re
from pathlib import Path
from typing import Any

import docx
import pytest
from docx.oxml.ns import qn

from bot.config import PROJECT_ROOT
from bot.drafting.clauses import (
    FORBIDDEN_TEXT,
    ClauseError,
    ClauseLibrary,
    parse_clause_args,
)
from bot.drafting.docx_render import FONT_EAST_ASIA, to_docx
from bot.drafting.nda import NdaDraft, build_nda, md_escape, to_markdown
from bot.drafting.nda_fields import DISPOSAL, EXCLUSIONS, NdaAnswers

REQUIRED_TOPICS = {
    "再委託",
    "廃棄",
    "監査",
    "事故報告",
    "記録媒体",
    "取扱者",
    "損害賠償",
    "秘密保持",
    "返還",
    "複製",
    "目的外利用の禁止",
    "個人情報の取扱い",
    "差止め",
    "有効期間",
    "合意管轄",
    "目的",
    "秘密情報の定義",
}
# Headings of the articles that do not survive the end of the contract.
NOT_SURVIVING = {"目的", "監査及び報告", "有効期間"}


@pytest.fixture(scope="module")
def library() -> ClauseLibrary:
    return ClauseLibrary.load(PROJECT_ROOT / "knowledge")


def answers(**changes: Any) -> NdaAnswers:
    base: dict[str, Any] = {
        "disclosing_party": "株式会社甲商事",
        "receiving_party": "乙システム株式会社",
        "purpose": "顧客管理システムの保守業務の委託",
        "effective_date": "2027-04-01",
    }
    return NdaAnswers(**{**base, **changes})


def all_text(draft: NdaDraft) -> str:
    lines = [draft.preamble, *draft.closing]
    for art in draft.articles:
        lines += [f"第{art.number}条（{art.heading}）", *art.paragraphs]
    return "\n".join(lines)


def number_of(draft: NdaDraft, heading: str) -> int:
    return next(a.number for a in draft.articles if a.heading == heading)


def assert_clean(text: str) -> None:
    for bad in FORBIDDEN_TEXT:
        assert bad not in text, bad


# -- the template library --------------------------------------------------------------------


def test_every_template_loads_with_explanation_params_and_variants(
    library: ClauseLibrary,
) -> None:
    templates = library.topics()
    assert {t.topic for t in templates} >= REQUIRED_TOPICS
    for t in templates:
        assert t.source.startswith("knowledge/templates/clauses/") and t.source.endswith(".md")
        assert t.explanation and t.heading and t.title and t.references
        assert "default" in t.variants
        for variant in t.variants:
            filled = library.fill(t.topic, variant=variant)
            assert filled.text and set(filled.values) == {p.name for p in t.params}
            assert_clean(filled.text)
    assert [t.source for t in templates] == sorted(t.source for t in templates)
    assert [t.topic for t in library.topics()] == [t.topic for t in templates]


def test_the_dialogs_option_words_match_the_templates(library: ClauseLibrary) -> None:
    exclusions = library.find("秘密情報の除外")
    disposal = library.find("廃棄")
    assert exclusions is not None and disposal is not None
    for key, label in EXCLUSIONS.items():
        param = exclusions.param(key)
        assert param is not None and param.label == label
    for key, label in DISPOSAL.items():
        if key != "return":
            param = disposal.param(key)
            assert param is not None and param.label == label


@pytest.mark.parametrize(
    ("query", "topic"),
    [
        ("再委託", "再委託"),
        ("  再々委託 ", "再委託"),
        ("SUBCONTRACTING", "再委託"),
        ("ｓｕｂｃｏｎｔｒａｃｔ", "再委託"),
        ("下請け", "再委託"),
        ("ＵＳＢ", "記録媒体"),
        ("usbメモリ", "記録媒体"),
        ("目的外使用の禁止", "目的外利用の禁止"),
        ("Personal Data", "個人情報の取扱い"),
        ("マイナンバー", "個人情報の取扱い"),
        ("disposal", "廃棄"),
    ],
)
def test_find_by_topic_or_alias(library: ClauseLibrary, query: str, topic: str) -> None:
    found = library.find(query)
    assert found is not None and found.topic == topic


def test_find_unknown_is_none(library: ClauseLibrary) -> None:
    assert library.find("天気予報") is None
    assert library.find("") is None


def test_fill_with_defaults(library: ClauseLibrary) -> None:
    filled = library.fill("再委託")
    assert filled.variant == "default"
    assert filled.values == {"notice_days": "14"}
    assert filled.text.startswith("乙は、甲の事前の書面による承諾を得た場合に限り")
    assert "14日前まで" in filled.text
    assert filled.paragraphs[1].startswith("２　")
    assert_clean(filled.text)


def test_fill_with_values_variant_and_roles(library: ClauseLibrary) -> None:
    filled = library.fill("再委託", {"Notice_Days": "３０"}, roles=("委託元", "委託先"))
    assert filled.values == {"notice_days": "30"}  # key and value normalised
    assert "30日前まで" in filled.text and "委託先は、委託元の事前" in filled.text
    assert "甲" not in filled.text and "乙" not in filled.text

    strict = library.fill("subcontracting", variant="strict")
    assert "再委託してはならない" in strict.text
    # without article numbers, references name the other clauses by heading
    assert "「法令等に基づく開示」の条に定める開示及び「取扱者の限定」の条" in strict.text
    assert library.fill("再委託", variant="条文（禁止）").variant == "strict"


def test_values_are_inserted_as_plain_text(library: ClauseLibrary) -> None:
    filled = library.fill("合意管轄", {"court": "*大阪地方裁判所* <!here>"})
    assert "*大阪地方裁判所* <!here>を第一審" in filled.text


def test_conditional_lines_are_dropped_and_the_rest_renumbered(library: ClauseLibrary) -> None:
    named = library.fill("取扱者", {"names": "山田太郎"}, variant="named")
    assert named.paragraphs[1] == "２　本契約の締結時における取扱者は、山田太郎とする。"
    assert "名以内" not in named.text
    numbers = [p[0] for p in named.paragraphs[1:]]
    assert numbers == ["２", "３", "４", "５"]

    disposal = library.fill("廃棄", {"shred": "no", "certificate": "no"})
    assert disposal.paragraphs[1:] == (
        "（１）USBメモリ、ハードディスクその他の記録媒体は、粉砕その他の物理的な破壊により読み取れない状態にする。",
        "（２）サーバー、パソコンその他の機器に保存された電子データは、復元できない方法で消去する。",
    )


def test_standalone_article_references_name_the_clauses(library: ClauseLibrary) -> None:
    text = library.fill("秘密情報の除外", {"personal_data": "yes"}).text
    assert text.startswith("「秘密情報の定義」の条の規定にかかわらず")
    assert "「個人情報の取扱い」の条の定めに従って" in text


@pytest.mark.parametrize(
    ("topic", "values", "variant", "roles", "expected"),
    [
        ("再委託条項", None, None, ("甲", "乙"), ["近いもの", "再委託"]),
        ("天気予報", None, None, ("甲", "乙"), ["使える条項", "監査"]),
        ("再委託", {"days": "3"}, None, ("甲", "乙"), ["days", "notice_days（承諾を求める期限"]),
        ("秘密保持", {"x": "1"}, None, ("甲", "乙"), ["指定できる項目はありません", "x"]),
        ("再委託", {"notice_days": "三十"}, None, ("甲", "乙"), ["notice_days", "三十", "形式"]),
        ("再委託", {"notice_days": "1234"}, None, ("甲", "乙"), ["notice_days", "形式"]),
        ("合意管轄", {"court": "東" * 101}, None, ("甲", "乙"), ["court", "長すぎ", "100"]),
        ("合意管轄", {"court": "東京\n地方裁判所"}, None, ("甲", "乙"), ["court", "制御文字"]),
        ("合意管轄", {"court": "東京\x07"}, None, ("甲", "乙"), ["court", "制御文字"]),
        ("合意管轄", {"court": "{{recipient}}"}, None, ("甲", "乙"), ["court", "{{"]),
        ("合意管轄", {"court": "東京}}"}, None, ("甲", "乙"), ["court"]),
        ("合意管轄", {"court": "○○地方裁判所"}, None, ("甲", "乙"), ["○○"]),
        ("再委託", None, "lenient", ("甲", "乙"), ["lenient", "strict（条文（禁止））"]),
        ("再委託", None, None, ("", "乙"), ["discloser"]),
        ("再委託", None, None, ("甲", "{{x}}"), ["recipient"]),
    ],
)
def test_fill_errors_say_what_is_wrong(
    library: ClauseLibrary,
    topic: str,
    values: dict[str, str] | None,
    variant: str | None,
    roles: tuple[str, str],
    expected: list[str],
) -> None:
    with pytest.raises(ClauseError) as err:
        library.fill(topic, values, variant, roles)
    for word in expected:
        assert word in str(err.value)


# -- broken template files -------------------------------------------------------------------

GOOD = """\
---
title: テスト条項
kind: template
tags: [テスト]
sources:
  - title: 民法第644条の2
as_of: 2026-11-26
drafting:
  topic: {topic}
  heading: テスト
  aliases: [{alias}]
  explanation: テスト用の条項。
  params:
    - {{name: days, label: 日数, default: "{default}", pattern: "^[0-9]{{1,3}}$"}}
  variants: {{default: 条文}}
---

# テスト条項

テスト用の説明。

## 条文

{{{{recipient}}}}は、{{{{days}}}}日以内に{body}
"""


def write_clause(root: Path, name: str, **fields: str) -> None:
    values = {"topic": "テスト", "alias": "test", "default": "14", "body": "報告する。"}
    values.update(fields)
    folder = root / "templates" / "clauses"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_text(GOOD.format(**values), encoding="utf-8")


def test_a_good_test_template_loads(tmp_path: Path) -> None:
    write_clause(tmp_path, "ok.md")
    library = ClauseLibrary.load(tmp_path)
    assert library.fill("TEST", {"days": "7"}).text == "乙は、7日以内に報告する。"


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ({"default": "abc"}, "default"),
        ({"body": "{{unknown}}を報告する。"}, "unknown"),
        ({"body": "{{if nothing}}報告する。"}, "nothing"),
        ({"body": "○○に報告する。"}, "○○"),
        ({"body": "{{article:存在しない条}}に報告する。"}, "存在しない条"),
        ({"body": "報告する。{{recipient}"}, "波括弧"),
    ],
)
def test_a_broken_template_raises_naming_the_file(
    tmp_path: Path, fields: dict[str, str], expected: str
) -> None:
    write_clause(tmp_path, "broken.md", **fields)
    with pytest.raises(ClauseError) as err:
        ClauseLibrary.load(tmp_path)
    assert "broken.md" in str(err.value) and expected in str(err.value)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("---\ntitle: [oops\n---\n本文", "YAML"),
        (
            "---\ntitle: x\nkind: template\nsources: [{title: s}]\nas_of: 2026-11-26\n---\n本文",
            "drafting",
        ),
        ("本文だけ", "front matter"),
        (
            GOOD.format(topic="T", alias="t", default="1", body="x").replace("## 条文", "## 本文"),
            "## 条文",
        ),
        (
            GOOD.format(topic="T", alias="t", default="1", body="x").replace(
                "kind: template", "kind: memo"
            ),
            "kind",
        ),
        (
            GOOD.format(topic="T", alias="t", default="1", body="x") + "\n## 条文\n\n二つ目\n",
            "二つ",
        ),
    ],
)
def test_unreadable_templates_name_the_file(tmp_path: Path, text: str, expected: str) -> None:
    folder = tmp_path / "templates" / "clauses"
    folder.mkdir(parents=True)
    (folder / "bad.md").write_text(text, encoding="utf-8")
    with pytest.raises(ClauseError) as err:
        ClauseLibrary.load(tmp_path)
    assert "bad.md" in str(err.value) and expected in str(err.value)


def test_duplicate_topics_or_aliases_are_refused(tmp_path: Path) -> None:
    write_clause(tmp_path, "a.md", topic="一つ目", alias="same")
    write_clause(tmp_path, "b.md", topic="二つ目", alias="ＳＡＭＥ")
    with pytest.raises(ClauseError, match=r"a\.md.*b\.md"):
        ClauseLibrary.load(tmp_path)


def test_a_missing_folder_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(ClauseError, match="フォルダ"):
        ClauseLibrary.load(tmp_path)


# -- command arguments -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "topic", "values"),
    [
        (
            '再委託 notice_days=30 "name=株式会社 X"',
            "再委託",
            {"notice_days": "30", "name": "株式会社 X"},
        ),
        ("再委託　notice_days＝30", "再委託", {"notice_days": "30"}),
        ("合意管轄 court='大阪 地方裁判所'", "合意管轄", {"court": "大阪 地方裁判所"}),
        ("合意管轄 “court=大阪 地方裁判所”", "合意管轄", {"court": "大阪 地方裁判所"}),
        (r"合意管轄 court=大阪\ 地方裁判所", "合意管轄", {"court": "大阪 地方裁判所"}),
        ("合意管轄 court=a=b", "合意管轄", {"court": "a=b"}),
        ("合意管轄 Court=", "合意管轄", {"court": ""}),
        ('"目的外 利用"', "目的外 利用", {}),
        ("  監査  ", "監査", {}),
        ("", "", {}),
        ("　 ", "", {}),
    ],
)
def test_parse_clause_args(text: str, topic: str, values: dict[str, str]) -> None:
    assert parse_clause_args(text) == (topic, values)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('再委託 "notice_days=30', "閉じられていません"),
        ("再委託 notice_days", "項目=値"),
        ("再委託 =30", "項目名"),
        ("再委託 a=1 A=2", "二度"),
        ("notice_days=30", "トピック"),
        ("再委託 a=1\\", "\\"),
    ],
)
def test_parse_clause_args_errors(text: str, expected: str) -> None:
    with pytest.raises(ClauseError) as err:
        parse_clause_args(text)
    assert expected in str(err.value)


def test_parsed_arguments_fill_the_clause(library: ClauseLibrary) -> None:
    topic, values = parse_clause_args("subcontract notice_days＝７")
    assert "7日前まで" in library.fill(topic, values).text


# -- the NDA ---------------------------------------------------------------------------------


def test_minimal_one_way_nda(library: ClauseLibrary) -> None:
    draft = build_nda(answers(), library)
    assert draft.title == "秘密保持契約書"
    assert [a.number for a in draft.articles] == list(range(1, len(draft.articles) + 1))
    assert [a.heading for a in draft.articles] == [
        "目的",
        "秘密情報の定義",
        "秘密情報から除かれる情報",
        "法令等に基づく開示",
        "秘密保持義務",
        "目的外利用の禁止",
        "取扱者の限定",
        "記録媒体の保管",
        "複製の制限",
        "第三者及び再委託先への開示",
        "監査及び報告",
        "事故発生時の報告",
        "秘密情報の返還",
        "秘密情報の廃棄",
        "損害賠償",
        "差止め",
        "有効期間",
        "協議",
        "準拠法及び合意管轄",
    ]
    text = all_text(draft)
    assert draft.preamble.startswith("株式会社甲商事（以下「甲」という。）と乙システム株式会社")
    assert "顧客管理システムの保守業務の委託（以下「本目的」という。）" in draft.preamble
    assert draft.closing[0].startswith("本契約締結の証として")
    assert "甲：株式会社甲商事" in draft.closing and "乙：乙システム株式会社" in draft.closing
    assert "法務部門のレビュー前のドラフト" in draft.notice
    assert "2027年4月1日から効力を生じ、その有効期間は3年間" in text
    assert "24時間以内に甲に報告" in text and "甲の情報セキュリティ担当部門" in text
    assert "東京地方裁判所を第一審の専属的合意管轄裁判所" in text and "日本法に準拠" in text
    assert "開示者" not in text and "受領者" not in text
    assert_clean(text)


def test_mutual_nda_with_named_handlers_personal_data_and_no_optional_articles(
    library: ClauseLibrary,
) -> None:
    draft = build_nda(
        answers(
            direction="mutual",
            definition="marked",
            handlers_scope="named",
            max_handlers=5,
            handler_names="山田太郎（開発部長）\n鈴木花子",
            personal_data=True,
            personal_data_items="氏名、住所、電話番号",
            personal_data_count=12000,
            my_number=True,
            third_party="prohibited",
            audit=False,
            damages=False,
            injunction=False,
            effective_date="2027-01-01",
        ),
        library,
    )
    headings = [a.heading for a in draft.articles]
    assert [a.number for a in draft.articles] == list(range(1, len(headings) + 1))
    assert "個人情報の取扱い" in headings
    assert not {"監査及び報告", "損害賠償", "差止め"} & set(headings)
    text = all_text(draft)
    # both parties are each discloser and recipient
    assert "相互に開示する秘密情報" in draft.preamble
    assert "甲及び乙は、それぞれ、自らが開示する秘密情報については開示者として" in text
    assert "受領者は、秘密情報を本目的以外の目的に利用してはならない" in text
    assert "乙は、秘密情報" not in text and "甲が乙に開示" not in text
    assert "秘密と表示された" in text and "一切の情報" not in text
    assert "取扱者の人数は、5名以内とする。" in text
    assert "山田太郎（開発部長）、鈴木花子とする。" in text
    assert "個人情報の項目は、氏名、住所、電話番号とする。" in text
    assert "おおよそ12,000人" in text
    assert "番号法" in text and "特定個人情報" in text
    assert "再委託してはならない" in text and "同等の義務を書面で課さなければ" not in text
    assert "立ち入り" not in text and "損害を賠償" not in text and "差止め" not in text
    assert "開示者の情報セキュリティ担当部門" in text  # not 甲's: either party may report
    assert "2027年1月1日から効力を生じ" in text
    assert "甲：株式会社甲商事" in draft.closing
    assert_clean(text)


# (field, value, extra answers) -> (words that must be present, words that must be absent)
OPTION_WORDS: list[tuple[str, Any, dict[str, Any], list[str], list[str]]] = [
    (
        "direction",
        "one_way",
        {},
        ["甲が乙に開示する", "乙は、秘密情報を本目的以外"],
        ["相互に開示", "受領者"],
    ),
    (
        "direction",
        "mutual",
        {},
        ["相互に開示", "受領者は、秘密情報を本目的以外"],
        ["甲が乙に開示", "乙は、秘密情報"],
    ),
    ("definition", "all", {}, ["開示した一切の情報"], ["秘密と表示"]),
    ("definition", "marked", {}, ["秘密と表示された", "14日以内"], ["一切の情報"]),
    ("handlers_scope", "need_to_know", {}, ["知る必要のある"], ["事前に書面で承認した"]),
    (
        "handlers_scope",
        "named",
        {"max_handlers": 3},
        ["事前に書面で承認した", "3名以内"],
        ["知る必要のある"],
    ),
    ("storage", "locked_with_admin", {}, ["施錠", "管理責任者"], []),
    ("storage", "locked", {}, ["施錠", "暗号化"], ["管理責任者"]),
    ("storage", "unspecified", {}, [], ["施錠", "記録媒体の保管"]),
    (
        "copying",
        "prohibited",
        {},
        ["いかなる場合も、秘密情報を複製"],
        ["場合を除き、秘密情報を複製", "必要な範囲に限り、秘密情報を複製"],
    ),
    (
        "copying",
        "prior_consent",
        {},
        ["承諾を得た場合を除き、秘密情報を複製"],
        ["いかなる場合も", "必要な範囲に限り、秘密情報を複製"],
    ),
    (
        "copying",
        "purpose_only",
        {},
        ["必要な範囲に限り、秘密情報を複製"],
        ["いかなる場合も", "場合を除き、秘密情報を複製"],
    ),
    ("third_party", "prohibited", {}, ["再委託してはならない"], ["同等の義務を書面で課さなければ"]),
    (
        "third_party",
        "prior_written_consent",
        {},
        ["同等の義務を書面で課さなければ", "14日前まで"],
        ["再委託してはならない"],
    ),
    ("audit", True, {}, ["立ち入り"], []),
    ("audit", False, {}, [], ["立ち入り", "監査"]),
    ("damages", True, {}, ["損害を賠償しなければならない"], []),
    ("damages", False, {}, [], ["損害を賠償"]),
    ("injunction", True, {}, ["差止め又は予防"], []),
    ("injunction", False, {}, [], ["差止め"]),
    ("personal_data", True, {}, ["個人情報", "個人情報保護委員会への報告"], ["番号法"]),
    ("personal_data", False, {}, [], ["個人情報", "番号法"]),
    ("my_number", True, {"personal_data": True}, ["番号法第10条", "特定個人情報"], []),
    ("my_number", False, {"personal_data": True}, [], ["番号法", "個人番号"]),
    ("disposal_certificate", True, {}, ["廃棄証明書"], []),
    ("disposal_certificate", False, {}, [], ["廃棄証明書"]),
    ("breach_report_hours", 6, {}, ["6時間以内"], ["24時間"]),
    ("breach_contact", "乙社総務部", {}, ["乙社総務部に対して"], ["情報セキュリティ担当部門"]),
    ("court", "大阪地方裁判所", {}, ["大阪地方裁判所を第一審"], ["東京地方裁判所"]),
    ("term_years", 5, {}, ["有効期間は5年間"], ["有効期間は3年間"]),
    ("survival_years", 2, {}, ["終了日から2年間"], ["終了日から3年間"]),
    ("survival_years", 0, {}, [], ["なお効力を有する"]),
]


@pytest.mark.parametrize(
    ("name", "value", "extra", "present", "absent"),
    OPTION_WORDS,
    ids=[f"{row[0]}={row[1]}" for row in OPTION_WORDS],
)
def test_each_chosen_option_is_in_the_draft_and_the_others_are_not(
    library: ClauseLibrary,
    name: str,
    value: Any,
    extra: dict[str, Any],
    present: list[str],
    absent: list[str],
) -> None:
    draft = build_nda(answers(**{name: value, **extra}), library)
    text = all_text(draft)
    for word in present:
        assert word in text, word
    for word in absent:
        assert word not in text, word
    assert [a.number for a in draft.articles] == list(range(1, len(draft.articles) + 1))
    assert_clean(text)


@pytest.mark.parametrize("chosen", list(EXCLUSIONS))
def test_only_the_chosen_exclusions_are_listed(library: ClauseLibrary, chosen: str) -> None:
    draft = build_nda(answers(exclusions=[chosen]), library)
    text = all_text(draft)
    for key, label in EXCLUSIONS.items():
        assert (label.replace("受領者", "乙") in text) == (key == chosen), key
    article = next(a for a in draft.articles if a.heading == "秘密情報から除かれる情報")
    assert article.paragraphs[1] == "（１）" + EXCLUSIONS[chosen].replace("受領者", "乙")
    assert len(article.paragraphs) == 2


def test_no_exclusions_means_no_exclusions_article(library: ClauseLibrary) -> None:
    draft = build_nda(answers(exclusions=[]), library)
    assert "秘密情報から除かれる情報" not in [a.heading for a in draft.articles]
    assert [a.number for a in draft.articles] == list(range(1, len(draft.articles) + 1))


DISPOSAL_WORDS = {
    "return": "返還",
    "shred": "シュレッダー",
    "destroy_media": "物理的な破壊",
    "erase": "復元できない方法で消去",
}


@pytest.mark.parametrize("chosen", list(DISPOSAL))
def test_only_the_chosen_disposal_methods_are_written(library: ClauseLibrary, chosen: str) -> None:
    draft = build_nda(answers(disposal=[chosen]), library)
    text = all_text(draft)
    for key, word in DISPOSAL_WORDS.items():
        assert (word in text) == (key == chosen), key
    headings = [a.heading for a in draft.articles]
    assert ("秘密情報の返還" in headings) == (chosen == "return")
    assert ("秘密情報の廃棄" in headings) == (chosen != "return")
    if chosen != "return":  # without return, the disposal article says when to destroy
        assert "本契約が終了したとき又は甲から求められたときは" in text


def test_cross_references_use_the_final_article_numbers(library: ClauseLibrary) -> None:
    for changes in (
        {},
        {"personal_data": True, "third_party": "prohibited", "storage": "unspecified"},
        {"audit": False, "damages": False, "exclusions": ["possessed"], "personal_data": True},
        {"direction": "mutual", "injunction": False, "disposal": ["return", "erase"]},
    ):
        draft = build_nda(answers(**changes), library)
        by_heading = {a.heading: a for a in draft.articles}
        definition = number_of(draft, "秘密情報の定義")
        assert (
            by_heading["秘密情報から除かれる情報"]
            .paragraphs[0]
            .startswith(f"第{definition}条の規定にかかわらず")
        )
        if "個人情報の取扱い" in by_heading:
            personal = number_of(draft, "個人情報の取扱い")
            assert f"第{personal}条の定めに従って" in "\n".join(
                by_heading["秘密情報から除かれる情報"].paragraphs
            )
        if "秘密情報の返還" in by_heading and "秘密情報の廃棄" in by_heading:
            disposal = number_of(draft, "秘密情報の廃棄")
            assert (
                f"第{disposal}条に定める方法により廃棄"
                in by_heading["秘密情報の返還"].paragraphs[0]
            )
        if changes.get("third_party") == "prohibited":
            legal, handlers = (
                number_of(draft, "法令等に基づく開示"),
                number_of(draft, "取扱者の限定"),
            )
            assert (
                f"第{legal}条に定める開示及び第{handlers}条に定める取扱者への開示"
                in by_heading["第三者及び再委託先への開示"].paragraphs[1]
            )
        survival = by_heading["有効期間"].paragraphs[1]
        expected = {a.number for a in draft.articles if a.heading not in NOT_SURVIVING}
        assert referenced_articles(survival) == expected


def referenced_articles(text: str) -> set[int]:
    numbers: set[int] = set()
    for start, end, single in re.findall(r"第(\d+)条から第(\d+)条まで|第(\d+)条", text):
        if single:
            numbers.add(int(single))
        else:
            numbers.update(range(int(start), int(end) + 1))
    return numbers


def test_free_text_cannot_inject_placeholders(library: ClauseLibrary) -> None:
    draft = build_nda(
        answers(
            purpose="{{recipient}}の検討。\n次の段階の準備",
            receiving_party="{{discloser}}株式会社",
            handlers_scope="named",
            handler_names="{{x}}",
        ),
        library,
    )
    text = all_text(draft)
    assert "｛｛recipient｝｝の検討。次の段階の準備（以下「本目的」という。）" in draft.preamble
    assert "乙：｛｛discloser｝｝株式会社" in draft.closing
    assert_clean(text)
    assert_clean(to_markdown(draft))


def test_summary_covers_every_answer_in_words(library: ClauseLibrary) -> None:
    draft = build_nda(answers(definition="marked", exclusions=[], my_number=False), library)
    labels = [label for label, _ in draft.summary]
    expected = [
        info.json_schema_extra["label"]  # type: ignore[index]
        for info in NdaAnswers.model_fields.values()
    ]
    assert labels == expected
    summary = dict(draft.summary)
    assert summary["開示の方向"] == "片務（甲だけが開示する）"
    assert summary["秘密情報の範囲"] == "秘密と表示した情報に限る"
    assert summary["秘密情報から除く情報"] == "なし"
    assert summary["終了時の返還・廃棄の方法"].startswith("返還、紙媒体の裁断（シュレッダー）")
    assert summary["廃棄証明書を求める"] == "はい"
    assert summary["マイナンバー（個人番号）を含む"] == "いいえ"
    assert summary["取扱者の上限人数（任意）"] == "指定なし"
    assert summary["契約の開始日（YYYY-MM-DD）"] == "2027年4月1日"
    for _, value in draft.summary:
        assert_clean(value)


def test_a_missing_template_is_reported(library: ClauseLibrary) -> None:
    partial = ClauseLibrary(t for t in library.topics() if t.topic != "監査")
    with pytest.raises(ClauseError, match="監査"):
        build_nda(answers(audit=True), partial)
    assert build_nda(answers(audit=False), partial).articles


# -- Markdown --------------------------------------------------------------------------------


def test_markdown_layout(library: ClauseLibrary) -> None:
    draft = build_nda(answers(), library)
    markdown = to_markdown(draft)
    lines = markdown.splitlines()
    assert lines[0] == "# 秘密保持契約書"
    assert lines[2].startswith("> ") and "法務部門のレビュー前のドラフト" in lines[2]
    assert lines[4] == draft.preamble
    for article in draft.articles:
        assert f"**第{article.number}条（{article.heading}）**" in lines
        for paragraph in article.paragraphs:
            assert paragraph in lines
    assert lines[-1] == draft.closing[-1]


def test_markdown_escapes_a_hostile_company_name(library: ClauseLibrary) -> None:
    hostile = "*株式会社<!channel>*"
    markdown = to_markdown(build_nda(answers(disclosing_party=hostile), library))
    assert hostile not in markdown and "<!channel>" not in markdown
    assert r"\*株式会社\<!channel\>\*" in markdown
    names = to_markdown(build_nda(answers(receiving_party="A_B [x](y) `c` | # ~d~"), library))
    assert r"A\_B \[x\](y) \`c\` \| \# \~d\~" in names


def test_md_escape_line_starts() -> None:
    assert md_escape("1. 株式会社") == r"1\. 株式会社"
    assert md_escape("- 株式会社") == r"\- 株式会社"
    assert md_escape("２　乙は") == "２　乙は"


# -- Word ------------------------------------------------------------------------------------


def test_docx_has_every_article_the_title_and_japanese_fonts(library: ClauseLibrary) -> None:
    draft = build_nda(answers(personal_data=True, my_number=True), library)
    data = to_docx(draft)
    document = docx.Document(io.BytesIO(data))
    texts = [p.text for p in document.paragraphs]
    assert texts[0] == "秘密保持契約書"
    title = document.paragraphs[0]
    assert title.alignment == 1 and all(r.bold for r in title.runs)  # 1 = centred
    assert draft.notice in texts and draft.preamble in texts
    for article in draft.articles:
        heading = document.paragraphs[texts.index(f"第{article.number}条（{article.heading}）")]
        assert all(r.bold for r in heading.runs)
        for text in article.paragraphs:
            assert text in texts
    for line in draft.closing:
        assert line in texts
    for paragraph in document.paragraphs:
        for run in paragraph.runs:
            assert font(run._element.rPr, "eastAsia") == FONT_EAST_ASIA
            assert font(run._element.rPr, "ascii") == "Century"
    assert font(document.styles["Normal"].element.rPr, "eastAsia") == FONT_EAST_ASIA
    width, height = document.sections[0].page_width, document.sections[0].page_height
    assert width is not None and height is not None
    assert (round(width.mm), round(height.mm)) == (210, 297)  # A4
    props = document.core_properties
    assert props.title == "秘密保持契約書" and props.author == "Itaku"
    assert props.comments == "" and props.last_modified_by == "Itaku"
    assert "甲商事" not in f"{props.title}{props.subject}{props.keywords}{props.author}"


def font(r_pr: Any, attribute: str) -> str | None:
    """An attribute of w:rFonts (as written in the XML) of a run's or style's properties."""
    fonts = None if r_pr is None else r_pr.find(qn("w:rFonts"))
    return None if fonts is None else fonts.get(qn(f"w:{attribute}"))


def test_docx_notice_is_boxed(library: ClauseLibrary) -> None:
    draft = build_nda(answers(), library)
    document = docx.Document(io.BytesIO(to_docx(draft)))
    notice = next(p for p in document.paragraphs if p.text == draft.notice)
    assert notice._p.pPr is not None
    borders = notice._p.pPr.find(qn("w:pBdr"))
    assert borders is not None and len(borders) == 4

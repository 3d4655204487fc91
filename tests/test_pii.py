"""The PII guard: what counts as personal data in Japanese business text, masking and
restoring it, the policies, and what must not be masked (the knowledge base, law references)."""

from __future__ import annotations

import re
import statistics
import time
from collections import Counter
from itertools import pairwise
from pathlib import Path

import pytest

from bot.llm.pii import (
    Finding,
    Masker,
    PiiRefused,
    Policy,
    describe,
    find_pii,
    guard,
    my_number_check_digit,
)

ROOT = Path(__file__).resolve().parents[1]


def found(text: str) -> list[tuple[str, str]]:
    return [(f.kind, f.text) for f in find_pii(text)]


def kinds_of(text: str) -> set[str]:
    return {f.kind for f in find_pii(text)}


# --- each kind in realistic sentences ------------------------------------------------------


def test_email_in_a_japanese_sentence() -> None:
    text = "見積書は担当のtaro.yamada+itaku@example.co.jpまで送ってください。"
    assert found(text) == [("email", "taro.yamada+itaku@example.co.jp")]


def test_full_width_email() -> None:
    text = "連絡先：ｈａｎａｋｏ＠ｅｘａｍｐｌｅ．ｊｐ"
    assert found(text) == [("email", "ｈａｎａｋｏ＠ｅｘａｍｐｌｅ．ｊｐ")]


def test_not_an_email() -> None:
    for text in ["@channel に共有した", "user@localhost は内部用", "git の tag@v1.2"]:
        assert "email" not in kinds_of(text), text


@pytest.mark.parametrize(
    "number",
    [
        "03-1234-5678",
        "090-1234-5678",
        "0120-123-456",
        "(03)1234-5678",
        "（03）1234-5678",
        "+81-90-1234-5678",
        "+81 3 1234 5678",
        "09012345678",
        "0312345678",
        "050-1234-5678",
        "0800-123-4567",
        "06 6123 4567",
        "０９０－１２３４－５６７８",
        "０３ー１２３４ー５６７８",
    ],
)
def test_phone_formats(number: str) -> None:
    text = f"委託先の担当者の電話番号は{number}です。"
    assert found(text) == [("phone", number)]


def test_phone_after_tel_label() -> None:
    assert found("TEL:03-1234-5678／FAX 03-1234-5679") == [
        ("phone", "03-1234-5678"),
        ("phone", "03-1234-5679"),
    ]


@pytest.mark.parametrize(
    "text",
    [
        "080-1234-567",  # 10 digits: a mobile number has 11
        "03-1234-56789",  # 11 digits: a landline number has 10
        "001-234-5678",  # 00 is the international call prefix
        "100-0005",  # a postcode
        "2024-01-24",  # a date
        "0312345678901",  # 13 digits
        "ハッシュ e0312345678a",  # inside a hexadecimal string
    ],
)
def test_not_a_phone_number(text: str) -> None:
    assert "phone" not in kinds_of(text), text


def test_my_number_check_digit() -> None:
    # the commonly cited valid sample 1234 5678 9018
    assert my_number_check_digit("12345678901") == 8
    # weights from the right: 2, 3, 4, 5, 6, 7, 2, 3, 4, 5, 6; r = sum mod 11
    assert my_number_check_digit("00000000001") == 9  # 1*2 = 2 -> 11 - 2
    assert my_number_check_digit("10000000000") == 5  # 1*6 = 6 -> 11 - 6
    assert my_number_check_digit("00000000006") == 0  # 6*2 = 12, r = 1 -> 0
    assert my_number_check_digit("00000000014") == 0  # 1*3 + 4*2 = 11, r = 0 -> 0


def test_my_number_needs_a_valid_check_digit() -> None:
    assert found("本人のマイナンバーは123456789018です。") == [("my_number", "123456789018")]
    assert found("個人番号：1234 5678 9018") == [("my_number", "1234 5678 9018")]
    assert found("個人番号は１２３４－５６７８－９０１８") == [
        ("my_number", "１２３４－５６７８－９０１８")
    ]
    # the check digit fails: even right after マイナンバー, not a My Number
    assert "my_number" not in kinds_of("マイナンバーは123456789012です。")
    assert "my_number" not in kinds_of("個人番号 1234-5678-9013")
    # not twelve digits on their own
    assert "my_number" not in kinds_of("1234567890180")
    assert "my_number" not in kinds_of("000000000000")


@pytest.mark.parametrize(
    "number",
    [
        "4111 1111 1111 1111",  # Visa
        "5555-5555-5555-4444",  # Mastercard
        "378282246310005",  # American Express
        "3782 822463 10005",  # American Express, grouped 4-6-5
        "3530111333300000",  # JCB
        "４１１１１１１１１１１１１１１１",  # full-width
    ],
)
def test_card_numbers(number: str) -> None:
    assert found(f"決済に使ったカード番号は{number}です。") == [("card", number)]


def test_not_a_card_number() -> None:
    assert "card" not in kinds_of("カード番号 4111 1111 1111 1112")  # Luhn fails
    # 13 digits passing Luhn, but no card network starts with 1 (a 法人番号 has 13 digits)
    assert "card" not in kinds_of("法人番号 1234567890128")
    assert "card" not in kinds_of("0000 0000 0000 0000")


def test_bank_account_numbers() -> None:
    text = "振込先：みずほ銀行 新宿支店（店番号123）普通 1234567 名義 ヤマダタロウ"
    assert ("bank_account", "1234567") in found(text)
    # the branch code stays
    assert "123）" in Masker().mask(text)
    assert found("口座番号：7654321") == [("bank_account", "7654321")]
    assert found("当座預金の口座番号は７６５４３２１です") == [("bank_account", "７６５４３２１")]


def test_not_a_bank_account() -> None:
    assert "bank_account" not in kinds_of("受付番号は1234567です。")  # no account keyword
    assert "bank_account" not in kinds_of("普通は1234567円程度の費用がかかる。")  # an amount
    assert "bank_account" not in kinds_of("口座の情報が漏えいした。件数は12345678件。")
    assert "bank_account" not in kinds_of("普通預金口座の情報。\n1234567")  # another line


@pytest.mark.parametrize(
    "address",
    [
        "東京都千代田区丸の内1-2-3",
        "大阪府大阪市北区梅田二丁目4番9号",
        "大阪府堺市堺区南瓦町3番1号",
        "神奈川県横浜市西区みなとみらい2-3-1",
        "北海道札幌市中央区北1条西2丁目1-1",
        "北海道虻田郡倶知安町北1条東3丁目",
        "京都府京都市中京区寺町通御池上る上本能寺前町488番地",
        "兵庫県尼崎市東七松町1丁目23番1号",
        "東京都千代田区丸の内１－２－３",
    ],
)
def test_addresses(address: str) -> None:
    assert found(f"本人の住所は{address}です。") == [("address", address)]


def test_postcodes() -> None:
    text = "住所：〒530-0001 大阪府大阪市北区梅田1丁目1番3号"
    # the postcode and the address make one finding; 〒 stays
    assert found(text) == [("address", "530-0001 大阪府大阪市北区梅田1丁目1番3号")]
    assert Masker().mask(text) == "住所：〒[ADDRESS_1]"
    assert found("〒100-0005") == [("address", "100-0005")]
    assert found("郵便番号：１００－０００５") == [("address", "１００－０００５")]
    # seven digits with a hyphen but no 〒 or 郵便番号: not a postcode
    assert found("管理番号 123-4567") == []


@pytest.mark.parametrize(
    "text",
    [
        "東京都",
        "尼崎市",
        "東京都千代田区",
        "東京都の委託先",
        "兵庫県尼崎市の事案",
        "長野県の委託契約書第7条",
        "東京都港区個人情報保護条例第3条",
        "東京都千代田区で3番目に多い",
        "大阪府大阪市では1-2名",
        "東京都産業労働局のサイバーセキュリティ関連ページ",
    ],
)
def test_not_an_address(text: str) -> None:
    assert "address" not in kinds_of(text), text


def test_names_surname_and_given_name_merge() -> None:
    assert found("営業部の田中太郎さんに連絡してください。") == [("name", "田中太郎")]
    assert found("山田　太郎様") == [("name", "山田　太郎")]
    assert found("羽生結弦氏が出席した。") == [("name", "羽生結弦")]


def test_names_honorific_is_not_part_of_the_finding() -> None:
    m = Masker()
    assert m.mask("佐藤様、鈴木氏、五十嵐殿") == "[NAME_1]様、[NAME_2]氏、[NAME_3]殿"
    assert m.placeholders == {"[NAME_1]": "佐藤", "[NAME_2]": "鈴木", "[NAME_3]": "五十嵐"}


def test_names_without_honorific() -> None:
    assert found("弊社の田中が伺います。鈴木部長にも共有済みです。") == [
        ("name", "田中"),
        ("name", "鈴木"),
    ]


def test_names_the_dictionary_does_not_know_before_an_honorific() -> None:
    # 髙 (a variant of 高) is not in the dictionary: the honorific says it is a name
    assert found("髙橋さんから連絡がありました。") == [("name", "髙橋")]
    assert found("田中髙志さん") == [("name", "田中髙志")]
    assert found("髙橋太郎") == [("name", "髙橋太郎")]


def test_single_character_and_kana_names_need_an_honorific() -> None:
    assert found("林さんと森さん") == [("name", "林"), ("name", "森")]
    assert found("さくらさん") == [("name", "さくら")]
    # tagged 人名 by the dictionary, but ordinary words here
    assert found("時間がたつと形だけになる") == []
    assert found("ベンダー各社の対応") == []
    assert found("東日本の泉") == []


def test_katakana_names() -> None:
    assert found("ローズ・マリーさんとスミスさん") == [
        ("name", "ローズ・マリー"),
        ("name", "スミス"),
    ]
    assert found("口座名義 ヤマダタロウ") == [("name", "ヤマダタロウ")]


@pytest.mark.parametrize(
    "text",
    [
        "お客様情報の漏えい",
        "皆さん、ご協力ください",
        "ご担当者様",
        "御社ご担当者様",
        "業者さんに依頼した",
        "ベンダーさんに確認する",
        "大家さん",
        "お子様の情報",
        "氏名と住所",
        "宮殿と御殿",
        "株式会社田中",
        "田中商事",
        "小林製薬の事案",
        "ひな形、雛形、雛型、書式",
    ],
)
def test_not_a_name(text: str) -> None:
    assert "name" not in kinds_of(text), text


def test_english_names_only_with_a_title() -> None:
    assert found("Mr. Tanaka and Ms. Sato Hanako") == [("name", "Tanaka"), ("name", "Sato Hanako")]
    assert found("Taro Tanaka joined") == []


def test_spans_refer_to_the_original_text() -> None:
    # half-width katakana with voicing marks shortens the text under NFKC
    text = "ｶﾞｽ会社の田中様の携帯は０９０ー１２３４ー５６７８（ﾒｰﾙ ｔａｒｏ＠ｅｘａｍｐｌｅ．ｊｐ）"
    findings = find_pii(text)
    assert [(f.kind, f.text) for f in findings] == [
        ("name", "田中"),
        ("phone", "０９０ー１２３４ー５６７８"),
        ("email", "ｔａｒｏ＠ｅｘａｍｐｌｅ．ｊｐ"),
    ]
    for f in findings:
        assert text[f.start : f.end] == f.text


def test_findings_are_sorted_and_do_not_overlap() -> None:
    text = (
        "田中太郎（〒100-0005 東京都千代田区丸の内1-2-3、03-1234-5678、tanaka@example.jp）"
        "のカード4111111111111111とマイナンバー123456789018、普通1234567。"
    )
    findings = find_pii(text)
    assert [f.kind for f in findings] == [
        "name",
        "address",
        "phone",
        "email",
        "card",
        "my_number",
        "bank_account",
    ]
    assert all(a.end <= b.start for a, b in pairwise(findings))
    assert isinstance(findings[0], Finding)


def test_empty_and_clean_text() -> None:
    assert find_pii("") == []
    assert find_pii("委託先の監督について教えてください。") == []


def test_long_text_beyond_sudachi_input_limit() -> None:
    # Sudachi refuses inputs over ~49 KB: the text is split, the offsets must still be right
    filler = "委託先の安全管理措置を確認する。\n" * 4000
    text = filler + "担当は田中太郎さんです。"
    findings = find_pii(text)
    assert [(f.kind, f.text) for f in findings] == [("name", "田中太郎")]
    assert text[findings[0].start : findings[0].end] == "田中太郎"


# --- the Masker ------------------------------------------------------------------------------


def test_masker_placeholders_are_stable() -> None:
    m = Masker()
    first = m.mask("田中さん（03-1234-5678）と佐藤さん（090-1111-2222）")
    assert first == "[NAME_1]さん（[PHONE_1]）と[NAME_2]さん（[PHONE_2]）"
    # the same values later in the conversation, even typed differently, keep their placeholders
    second = m.mask("田中さんの番号は０３－１２３４－５６７８、+81-3-1234-5678 でした。")
    assert second == "[NAME_1]さんの番号は[PHONE_1]、[PHONE_1] でした。"
    assert m.placeholders == {
        "[NAME_1]": "田中",
        "[PHONE_1]": "03-1234-5678",
        "[NAME_2]": "佐藤",
        "[PHONE_2]": "090-1111-2222",
    }
    assert m.kinds == Counter({"name": 3, "phone": 4})
    # another conversation starts from 1 again and knows nothing of the first
    other = Masker()
    assert other.mask("佐藤さん") == "[NAME_1]さん"
    assert other.placeholders == {"[NAME_1]": "佐藤"}


def test_placeholder_names_for_every_kind() -> None:
    m = Masker()
    masked = m.mask(
        "a@example.jp 03-1234-5678 123456789018 4111111111111111 口座番号1234567 "
        "東京都千代田区丸の内1-2-3 田中太郎"
    )
    assert masked == (
        "[EMAIL_1] [PHONE_1] [MYNUMBER_1] [CARD_1] 口座番号[ACCOUNT_1] [ADDRESS_1] [NAME_1]"
    )


def test_masked_text_has_nothing_left_to_mask() -> None:
    m = Masker()
    masked = m.mask("田中太郎さん（tanaka@example.jp、090-1234-5678）")
    assert find_pii(masked) == []
    assert m.mask(masked) == masked


def test_properties_are_copies() -> None:
    m = Masker()
    m.mask("田中さん")
    m.placeholders.clear()
    m.kinds.clear()
    assert m.placeholders == {"[NAME_1]": "田中"}
    assert m.kinds == Counter({"name": 1})


def test_restore_all() -> None:
    m = Masker()
    question = "田中さん（tanaka@example.jp）に委託先の件を連絡したい。"
    masked = m.mask(question)
    assert m.restore(masked) == question
    answer = "[NAME_1]さんには、[EMAIL_1]宛てに書面で通知しましょう。"
    assert m.restore(answer) == "田中さんには、tanaka@example.jp宛てに書面で通知しましょう。"


def test_restore_only_some() -> None:
    m = Masker()
    m.mask("田中さん（tanaka@example.jp）")
    answer = "[NAME_1]さんに[EMAIL_1]で連絡"
    assert m.restore(answer, only={"[NAME_1]"}) == "田中さんに[EMAIL_1]で連絡"
    assert m.restore(answer, only={"EMAIL_1"}) == "[NAME_1]さんにtanaka@example.jpで連絡"
    assert m.restore(answer, only=set()) == answer


def test_restore_leaves_unknown_placeholders() -> None:
    m = Masker()
    m.mask("田中さん")
    assert m.restore("[NAME_1]さんと[NAME_2]さん、[PHONE_1]") == "田中さんと[NAME_2]さん、[PHONE_1]"
    # models sometimes write full-width brackets
    assert m.restore("［NAME_1］さん") == "田中さん"


# --- guard and the policies -------------------------------------------------------------------


def test_guard_mask() -> None:
    m = Masker()
    out = guard(["田中さんの電話は090-1234-5678", "委託先の監督（第25条）"], Policy.MASK, m)
    assert out == ["[NAME_1]さんの電話は[PHONE_1]", "委託先の監督（第25条）"]
    assert set(m.placeholders) == {"[NAME_1]", "[PHONE_1]"}


def test_guard_refuse() -> None:
    m = Masker()
    texts = ["委託先の監督について", "担当の田中さんのメールはtanaka@example.jpです"]
    with pytest.raises(PiiRefused) as info:
        guard(texts, Policy.REFUSE, m)
    message = str(info.value)
    assert "氏名" in message and "メールアドレス" in message
    assert "田中" not in message and "tanaka" not in message and "example" not in message
    assert set(info.value.kinds) == {"name", "email"}
    assert m.placeholders == {}  # nothing masked, nothing remembered
    # no personal data: the texts go through unchanged
    assert guard(["第26条の報告期限"], Policy.REFUSE, m) == ["第26条の報告期限"]


def test_guard_allow() -> None:
    texts = ["田中さんの電話は090-1234-5678"]
    m = Masker()
    assert guard(texts, Policy.ALLOW, m) == texts
    assert m.placeholders == {}


def test_policy_is_a_string_enum() -> None:
    assert Policy("refuse") is Policy.REFUSE
    assert isinstance(Policy.MASK, str)
    assert Policy.MASK.value == "mask" and f"{Policy.ALLOW}" == "allow"
    assert guard(["田中さん"], Policy("mask"), Masker()) == ["[NAME_1]さん"]


def test_describe() -> None:
    assert describe(["email", "phone"]) == "メールアドレス、電話番号"
    assert describe(["phone", "email", "phone"]) == "メールアドレス、電話番号"
    assert describe(Counter({"name": 2, "address": 1})) == "氏名、住所"
    assert describe(["card"], lang="en") == "payment card number"
    assert describe([]) == ""
    with pytest.raises(ValueError):
        describe(["email"], lang="fr")


# --- what must not be masked ------------------------------------------------------------------

LAW_AND_NUMBERS = [
    "個人情報保護法第26条",
    "第23条第1項第2号",
    "民法第644条の2",
    "通則編3-4-4",
    "ガイドライン3-5-3-1",
    "2022年5月",
    "2,312件",
    "3,076,477件",
    "約1,000万人",
    "46万517人分",
    "ISO/IEC 27001:2022",
    "JIS Q 15001:2023",
    "03年",
    "令和05年4月1日",
    "平成15年法律第57号",
    "令和2年6月12日法律第44号",
    "2024-01-24",
    "2022/06/24",
    "as_of: 2026-11-26",
    "xtech.nikkei.com news/18/13164",
    "罰金1億円",
    "報告は30日以内（規則第8条）",
    "附則第1条",
]


@pytest.mark.parametrize("text", LAW_AND_NUMBERS)
def test_law_references_and_numbers_are_not_masked(text: str) -> None:
    sentence = f"委託先の監督については{text}を参照する。"
    assert find_pii(sentence) == []
    assert Masker().mask(sentence) == sentence


def _kb_paragraphs() -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    for path in sorted((ROOT / "knowledge").rglob("*.md")):
        text = path.read_text(encoding="utf-8")
        for para in re.split(r"\n\s*\n", text):
            if para.strip():
                out.append((str(path.relative_to(ROOT)), para))
    return out


# What the knowledge base really contains, decided by reading each finding. A new finding means
# either a detector regression or new text that names a person: look at it and update this.
KB_EXPECTED: dict[str, set[str]] = {
    "email": set(),
    "phone": set(),
    "my_number": set(),
    "card": set(),
    "bank_account": set(),
    "address": set(),
    # 弁護士 德田聖也: a real person, credited in the sources as the lawyer interviewed for an
    # article. A person's name, so masking it is correct.
    "name": {"德田聖也"},
}


def test_knowledge_base_negative_corpus() -> None:
    paragraphs = _kb_paragraphs()
    assert len(paragraphs) > 500
    seen: dict[str, Counter[str]] = {}
    where: dict[str, set[str]] = {}
    for source, para in paragraphs:
        for f in find_pii(para):
            seen.setdefault(f.kind, Counter())[f.text] += 1
            where.setdefault(f.text, set()).add(source)
    for kind, values in sorted(seen.items()):
        for value, count in values.most_common():
            print(f"KB {kind}: {value} x{count} in {len(where[value])} files")
    actual = {kind: set(seen.get(kind, ())) for kind in KB_EXPECTED}
    assert actual == KB_EXPECTED
    assert set(seen) <= set(KB_EXPECTED)


# --- speed ------------------------------------------------------------------------------------


def test_masking_speed() -> None:
    body = "".join(para for _source, para in _kb_paragraphs()[40:120])
    text = (
        "担当の田中太郎さん（taro@example.co.jp、０９０－１２３４－５６７８）から質問です。" + body
    )[:2000]
    assert len(text) == 2000
    m = Masker()
    for _ in range(5):  # warm-up: dictionary, caches
        m.mask(text)
    times = []
    for _ in range(30):
        start = time.perf_counter()
        m.mask(text)
        times.append(time.perf_counter() - start)
    median_ms = statistics.median(times) * 1000
    print(f"masking 2,000 characters: median {median_ms:.2f} ms")
    assert median_ms < 50  # target < 5 ms; a loose bound so a busy machine doesn't fail it

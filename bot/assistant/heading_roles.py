"""Which of the close sections answers, by what its heading is about: a question about a case
by the case's own document, what to do first after a leak by the first steps, a why-question by
the reasons, a question set abroad (or in the public sector, or in My Number work) by a section
specific to that setting and one that names no such setting by one that is not, and so on. Each
role names what the question asks, the kind of section that does not answer it, and the kind
that does; a close section (its score within the role's share of the best) of that kind answers
instead. Measured with `itaku bench kb`: see each role's comment."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from bot.assistant.answer_type import asks
from bot.knowledge.models import Chunk, DocMeta
from bot.knowledge.query import CONTRACT_WORDS, FRAMING_TERMS, PreparedQuery
from bot.knowledge.search import Hit
from bot.knowledge.text import normalize

if TYPE_CHECKING:
    from bot.assistant.compose import ComposePolicy


@dataclass(frozen=True)
class _HeadingRole:
    """What a kind of heading answers. When the question asks for it (`asks`, on the question
    itself or, with `whole`, on the situation told too), and the best section's heading is of the
    kind that does not (`instead_of`), a close section (score within `ratio`) whose heading does
    (`plays`) answers instead."""

    asks: Callable[[str], bool]
    instead_of: Callable[[Chunk, str], bool]  # a chunk, and its document's kind (case, law…)
    plays: Callable[[Chunk, str], bool]
    ratio: float
    whole: bool = False
    # looks past the hits weighed for coverage, as far as the policy's role window: a situation
    # told at length outweighs the words of a short question (「…誤送信で流出したことが分かりま
    # した。まず何から手を付ければ？」 ranks the case of an e-mail sent amiss first, the first
    # steps sixth)
    wide: bool = False
    # the section that answers instead must be about the question's subject too: its heading
    # names one of the question's key terms, the contract's own words aside (「再委託まわり契約で
    # 何決めとけば」 by the rules on subcontracting in the contract, not by every clause)
    topical: bool = False
    # … and about it at least as much as the best section (its heading names as many of the
    # question's key terms): 「USBの捨て方、契約でどこまで決める？」 is not answered by the clause
    # on storing USB sticks instead of the section on storing and disposing of them
    as_topical: bool = False


# no subject of their own: the contract's words, and what is asked of a subject (「確報はいつまで」
# is not about an NDA's 有効期限)
_NO_SUBJECT = CONTRACT_WORDS | FRAMING_TERMS


def _finds(pattern: str) -> Callable[[str], bool]:
    compiled = re.compile(pattern)
    return lambda text: compiled.search(text) is not None


_LESSONS = _finds(r"教訓|に学ぶ")
_DEFINES = _finds(r"とは")
_ASKS_LESSONS = _finds(r"教訓|学べる|学ぶ|活か|lesson|learn|takeaway")
# what went wrong in a case (「結局どこがまずかったの？」): what an inquiry or the commission found
_ASKS_FAULT = _finds(
    r"(まず|マズ)かった|(まず|マズ)い(点|ところ)|(何|なに|どこ)が(悪|問題|いけな|ダメ|だめ|まず|マズ)|問題点|落ち度"
    r"|指摘|went wrong|at fault|to blame|\bfault|\bfind(?:ings?)?\b|\bfound\b"
    # … or what the commission did about it (「委員会はどのような措置を？」「何か処分出したの？」)
    r"|(委員会|個情委|PPC)[^。？?]{0,12}(措置|処分|対応|行政指導)"
    r"|\b(?:PPC|regulator|commission)\b[^.?]{0,20}\b(?:do|did|take|took|action)\b"
)
_FINDINGS = _finds(r"指摘|勧告|指導")
# whether something is allowed (「勝手に任せていた。民法上許されるのですか」): a section whose first
# sentence states what may or must be done, not one that defines the contract
_ASKS_ALLOWED = _finds(
    r"許され|許可され(る|ます)|認められ(る|ます)|して(も)?(いい|よい|良い)"
    r"|\ballowed\b|\bpermitted\b|\bokay\b|\bok\b"
    # ("is it legal", "legal to", not "the legal difference between")
    r"|\b(?:is|it's|be|are|was)(?: it| this| that| they)? (?:even |still )?legal\b|\blegal (?:to|for)\b"
)
_RULE_WORDS = re.compile(r"できない|できる|必要|ならない|禁止|許され|認められ|義務|要らない|不要")


def _states_rule(chunk: Chunk, _kind: str) -> bool:
    return _RULE_WORDS.search(chunk.text.split("。", 1)[0]) is not None


# the headings of the sections that state a deadline (asked for as answer_type reads it:
# 「最終的な報告はいつまで？」「第一報ってどんくらいで出す？」)
_NAMES_DEADLINE = _finds(r"期限|以内|いつまで|早く|何日")
# when the count of a deadline starts, asked or named
_ASKS_START = _finds(
    r"起算|起点|いつから|どこから|どの時点|どの日から|どちらの日|どっちの日|から数え|数え始め"
    r"|start(?:s|ing)? (?:counting|the clock)|clock start"
)
_NAMES_START = _finds(r"起算")

# a difference asked for (「請負と準委任ってどう違う？」) and the headings that contrast two things
_ASKS_DIFFERENCE = _finds(r"違い|違う|ちがう|区別|difference|differ|versus|\bvs\b")
_CONTRASTS = _finds(r"違い|比較|区別")
# whether one party too must do what another does (「委託先自身も報告しなければ？」, "do they still
# have to notify the individuals themselves?"): asks about an exemption
_ASKS_EXEMPT = _finds(
    r"(自身|自分たち|自ら|自社|当社|弊社|うち|委託先|受託者|受託先|ベンダー|業者|外注先)(にも|でも|も)"
    r"[^。？?]{0,30}(しなければ|必要|義務|しないと|やらな|いけない|べき)"
    # 「本人への通知も当社が行う必要が？」: the duty too, by us
    r"|も(自社|当社|弊社|うち|委託先|受託者)(が|で)[^。？?]{0,20}(しなければ|必要|義務|べき)"
    r"|\b(?:still|also) (?:have|need|required) to\b|\b(?:ourselves|themselves|itself)\b"
)
_EXEMPTION = _finds(r"免除|不要|除外")
_ANOTHER_DUTY = _finds(
    r"\bbesides\b|\bapart from\b|\bin addition to\b|\bother than\b|以外に|に加えて"
)
# which of the parties does it (「報告は当社とベンダーのどちらが？」「別々に報告書を出さないと？」):
# the section on how the duty is shared, not on what must be reported
_ASKS_WHICH_PARTY = _finds(
    r"(どちら|どっち|誰|だれ)が[^。？?]{0,12}(する|やる|出す|行う|報告|通知|届け)|別々|各自|連名|共同で"
    # (one party reports, and we too? 「委託先が報告するそうですが、当社も別に報告が要る？」)
    r"|(当社|弊社|うち|自社|委託元|こちら)(側)?(も|でも)[^。？?]{0,10}(報告|届け)"
    r"|\b(?:do|must|should) we (?:also|too|as well) (?:have to |need to )?(?:report|file)\b"
    r"|\bwho\b[^.?]{0,30}\b(?:reports?|files?|notif(?:y|ies))\b|\bwhich (?:of us|party|side)\b"
    r"|\bseparately\b|\bjointly\b"
)
_SHARES_DUTY = _finds(r"誰が|どちらが|分担|双方|両方|連名")
_BOTH = _finds(r"も[^。？?]{1,8}も|それぞれ|両方|双方|共同|連名|\bboth\b|\beach\b|\bjointly\b")
# what the contract should say (「監査って契約書にどんな感じで書いとけば？」) and the headings on it
_ASKS_CONTRACT = _finds(
    r"契約書?(に|で|には|では|の中)[^。？?]{0,12}(書|定め|決め|盛り込|入れ|明記|規定)"
    r"|what should (?:the|our|an?|its) (?:\w+ )?(?:contract|agreement) (?:say|include|contain|cover)"
    r"|\bin (?:the|our|an?|its|their) (?:\w+ )?(?:contract|agreement)s?\b"
)
_CONTRACT_SAYS = _finds(r"契約[^（）]{0,8}(明記|盛り込|定め|決め|ルール|記載|事項)|条項")
# what goes into a thing asked for (「どんな条項を入れる？」), not a clause told as there already
# (「業務委託契約に守秘義務の条項入ってるし、NDAは別に要らなくない？」)
_ASKS_CONTENTS = _finds(
    r"条項|項目|事項|盛り込|入れ|記載|書く|\binclude|\bcontain|\bclauses?\b"
    r"|\bprovisions?\b|\bitems?\b|\bput (?:in|into)\b|\bgoes? (?:in|into)\b|\bwrite (?:in|into)\b"
)
_TELLS_CONTENTS = _finds(
    r"(?<!どんな)(?<!どのような)(?<!どういう)(?<!何の)(?<!なんの)(条項|項目)[^。？?]{0,3}"
    r"(入って|入れて|あ(る|れ)|含まれて|含んで)"
)
_ASKS_FIRST = _finds(
    r"まず|最初|初動|真っ先|手始め|すぐ(に)?(何|なに|やる|する)|first (step|thing)|do first"
    # (what to do right away, not "it told us right away")
    r"|\b(?:do|doing|take|steps?|actions?)\b(?: \w+){0,3} (?:immediately|right away)"
)
_INCIDENT = _finds(
    r"漏え|漏洩|漏れ|流出|紛失|なくし|無くし|置き忘れ|置忘れ|盗|誤送信|誤送付|誤配|ランサム|感染|不正アクセス"
    r"|事故|インシデント"
    r"|やられ|breach|leak|lost|stolen|ransomware|incident|hack"
)
_FIRST_STEPS = _finds(r"最初|初動|直後")
_ASKS_WHAT_BY_WHEN = _finds(
    r"何を[^。？?]{0,8}いつ|いつまでに[^。？?]{0,4}何を|\bwhat\b[^?]{0,40}\bby when\b"
    r"|\bby when\b[^?]{0,40}\bwhat\b"
)
_NAMES_ORDER = _finds(r"順番|順序|手順|ステップ")
_GIVES_REASONS = _finds(r"理由|なぜ")
_ASKS_CASE = _finds(r"事件|事案|事例|やつ|ケース|\bincident\b|\bcase\b")
_NAMES_EXAMPLES = _finds(r"例")  # (事例 too)
_ASKS_RULE = _finds(
    r"必要(です|でしょう|か|？|\?)|期限|いつまで|何日以内|義務|しなければ|報告の?対象|求められ|\bmust\b|\brequired\b"
    r"|\bdeadline\b|\bdo we (?:have|need) to\b"
)


def _head(chunk: Chunk) -> str:
    """A section's heading; a document without headings (a clause of its own) is headed by its
    title."""
    return chunk.section or chunk.title


def _heading(predicate: Callable[[str], bool]) -> Callable[[Chunk, str], bool]:
    return lambda chunk, _kind: predicate(_head(chunk))


# a title's closing list of what its document also covers (「委託先の選び方（事前調査・選定基準・
# 認証・海外委託）」 is no document about sending data abroad)
_TITLE_TOPICS = re.compile(r"（[^（）]*）$")


def _titled(predicate: Callable[[str], bool]) -> Callable[[Chunk, str], bool]:
    return lambda chunk, _kind: predicate(f"{_TITLE_TOPICS.sub('', chunk.title)}\n{chunk.section}")


def _tells_case(chunk: Chunk, kind: str) -> bool:
    """A case document's own account (not its lessons): a question about a case's committee or
    arrest is answered by that case's section, whatever its heading says."""
    return kind == "case" and not _LESSONS(chunk.section)


_NAMES_LIABILITY = _finds(r"責任|違反")
# (a heading that names one clause, 存続条項 or 再委託条項, is no list of them)
_NAMES_CONTENTS = _finds(
    r"項目|事項|記載|盛り込|入れる|条項集|条項の一覧|主な条項|他の条項|(?<![一-龥ァ-ヶー])条項"
)
_NAMES_PUBLIC_BODY = _finds(r"経済産業省|個人情報保護委員会|IPA|JIPDEC|ISMS-AC|ハンドブック")
_ABROAD = _finds(r"外国|海外|国外|越境")
_ASKS_ABROAD = _finds(
    r"外国|海外|国外|越境|外資|米国|アメリカ|中国|韓国|台湾|インド|ベトナム|フィリピン|タイの|シンガポール"
    r"|マレーシア|インドネシア|英国|イギリス|欧州|ヨーロッパ|ドイツ|フランス|カナダ|オーストラリア"
    # ("us" the country, not the pronoun: "a client gave us their data")
    r"|\beu\b|\bthe us\b|\bu\.s\.|\bus-based\b|\busa\b|\buk\b|apec|cbpr|overseas|foreign|abroad"
    r"|\bus (?:\w+ )?(?:vendors?|compan(?:y|ies)|firms?|providers?|cloud|servers?|saas|partners?"
    r"|subsidiar(?:y|ies)|data ?cent(?:er|re)s?)\b"
    r"|cross-border|country"
    r"|countries|international|offshore|china|india|vietnam|philippines|singapore|korea|taiwan"
    r"|europe|america|britain|germany|france|canada|australia"
)
# Settings a section may be specific to: (what names it in a question, what names it in a heading)
_ABROAD_SETTING = (_ASKS_ABROAD, _ABROAD)
_PUBLIC_SETTING = (
    _finds(
        r"自治体|官公庁|公共|市役所|県庁|行政|市から|県から|国から|public[- ]sector|government|municipal"
    ),
    _finds(r"公共|自治体|官公庁|行政"),
)
_MY_NUMBER_SETTING = (
    _finds(r"マイナンバー|番号法|特定個人情報|my ?number|individual number"),
    _finds(r"番号法|マイナンバー"),
)
_SETTINGS = (_ABROAD_SETTING, _PUBLIC_SETTING, _MY_NUMBER_SETTING)
# … of which these have rules of their own (a public body is often just the client a case names)
_REGIMES = (_ABROAD_SETTING, _MY_NUMBER_SETTING)


def in_other_setting(question: str, text: str) -> bool:
    """Whether a text is about a setting with rules of its own (abroad, My Number) that the
    question does not name: 「委託が終わったら預けたデータは？」 is not answered by what a transfer
    abroad needs besides the outsourcing exception."""
    return any(specific(text) and not named(question) for named, specific in _REGIMES)


def _not(predicate: Callable[[str], bool]) -> Callable[[str], bool]:
    return lambda text: not predicate(text)


def _towards(
    asks: Callable[[str], bool],
    heading: Callable[[str], bool],
    ratio: float,
    on: Callable[[Callable[[str], bool]], Callable[[Chunk, str], bool]] = _heading,
    whole: bool = False,
    wide: bool = False,
    topical: bool = False,
    as_topical: bool = False,
) -> _HeadingRole:
    """A close section whose heading (`on`: the heading alone, or with its document's title) is
    of the kind, instead of a best one that is not."""
    return _HeadingRole(
        asks, on(_not(heading)), on(heading), ratio, whole, wide, topical, as_topical
    )


def _setting_roles() -> tuple[_HeadingRole, ...]:
    """A question set in a setting (abroad, the public sector, My Number) is answered by a close
    section specific to it, and a question that names no such setting by a close section that is
    not (「外注先に顧客リスト渡すのって、同意いらないの？」 is answered by the entrustment exception,
    not by the consent a foreign recipient needs; 「外注先が勝手に再委託するのってアリ？」 not by
    the My Number Act)."""
    roles = []
    for named, specific in _SETTINGS:
        roles.append(
            # (the document's title counts here: a section of a document about sending data
            # abroad is about it, whatever its own heading says; a setting named is a strong
            # sign, so the section may be further down: 「県から受託…公共の契約では再委託に
            # どんな制限が？」 finds the public-procurement section seventh)
            _towards(named, specific, 0.65, on=_titled, whole=True, wide=True)
        )
        roles.append(_towards(_not(named), _not(specific), 0.8, whole=True))
    return tuple(roles)


# a transfer abroad taken for mere outsourcing (「委託だから同意はいらない、で進めて大丈夫？」「国内の
# 委託先と同じ扱いでいける？」): the section on what the outsourcing exception does abroad, not the
# general rule of consent for sending data abroad
_TAKES_FOR_OUTSOURCING = _finds(
    r"委託(?:だから|なので|なら|扱い|の例外|として)|国内の(?:委託先|業者|外注先)と同じ|同じ扱い"
    r"|(?:outsourcing|commission|entrustment) exception|just outsourcing|same as a domestic"
)
_NAMES_OUTSOURCING_EXCEPTION = _finds(r"委託の例外")

_HEADING_ROLES = (
    *_setting_roles(),
    _towards(
        lambda q: _ASKS_ABROAD(q) and _TAKES_FOR_OUTSOURCING(q),
        _NAMES_OUTSOURCING_EXCEPTION,
        0.6,
        whole=True,
        wide=True,
    ),
    # what to do first when something has leaked: the first steps, not the case that resembles
    # the situation told, nor the rule of the report
    _towards(lambda q: _ASKS_FIRST(q) and _INCIDENT(q), _FIRST_STEPS, 0.55, whole=True, wide=True),
    # what to do and by when, after a leak (「当社は何をいつまでにすればいい？」): the steps in order
    # with their deadlines, not one party's deadline alone
    _towards(
        lambda q: _ASKS_WHAT_BY_WHEN(q) and _INCIDENT(q),
        _NAMES_ORDER,
        0.8,
        whole=True,
        wide=True,
    ),
    # a question about what happened in a case: the case's own account, not a clause or guidance
    # on the same subject (「飲み会の後でUSBなくした自治体の事件、結局漏れたの？」)
    _HeadingRole(
        asks=lambda q: _ASKS_CASE(q) and not _ASKS_LESSONS(q),
        instead_of=lambda chunk, kind: not _tells_case(chunk, kind),
        plays=_tells_case,
        ratio=0.8,
        wide=True,
    ),
    # whether it is allowed: the rule, not what the contract is
    _HeadingRole(
        asks=_ASKS_ALLOWED,
        instead_of=lambda chunk, kind: not _states_rule(chunk, kind),
        plays=_states_rule,
        ratio=0.85,
    ),
    # a deadline asked for: a close section on that deadline, not on when a report is needed
    # (not the section on when the count starts, unless that is asked: 「何日ぐらいで出せば？」 is
    # answered by the days, 「どの時点から数える？」 by the start)
    _towards(
        lambda q: asks("deadline", q) and not _ASKS_START(q),
        lambda heading: _NAMES_DEADLINE(heading) and not _NAMES_START(heading),
        0.7,
        wide=True,
        topical=True,
    ),
    # whether one party too must do it: the section on who is exempted
    # (not whether both must, 「当社も委託先もそれぞれ報告？」: that is who reports)
    # ("Besides the PPC report, do we also have to notify them?" asks about another duty)
    _towards(
        lambda q: _ASKS_EXEMPT(q) and not _BOTH(q) and not _ANOTHER_DUTY(q),
        _EXEMPTION,
        0.7,
        wide=True,
    ),
    # which of the parties must do it: the section on how the duty is shared
    _towards(_ASKS_WHICH_PARTY, _SHARES_DUTY, 0.6, wide=True),
    # what went wrong in a case: what an inquiry or the commission found, not what happened
    _HeadingRole(
        asks=_ASKS_FAULT,
        instead_of=lambda chunk, kind: kind == "case" and not _FINDINGS(chunk.section),
        plays=lambda chunk, kind: kind == "case" and _FINDINGS(chunk.section),
        ratio=0.75,
        wide=True,
    ),
    # the rule asked for in a situation that resembles a case (「ヘルプデスクの委託先のPCがEmotet
    # に感染し…報告は必要ですか」): the rule, not the case's own account
    _HeadingRole(
        asks=lambda q: _ASKS_RULE(q) and not _ASKS_CASE(q),
        instead_of=lambda chunk, kind: kind == "case",
        plays=lambda chunk, kind: kind != "case" and not _NAMES_EXAMPLES(chunk.section),
        ratio=0.4,
        wide=True,
        topical=True,
    ),
    # the way to do it asked for (「どんなやり方で確認すれば？」): a close section on its ways
    # (「監査のやり方（立入調査・報告書…）」), about the question's subject
    _towards(
        _finds(
            r"やり方|方法で|どうやって|どんな方法|どのような方法|手法|\bhow (?:do|can|should) (?:we|i)\b"
        ),
        _finds(r"やり方|方法|手法|仕方"),
        0.9,
        topical=True,
    ),
    # who answers for it: the section on the entrusting party's liability (「孫請けがやらかしたら
    # うちのせいにもなる？」)
    _towards(
        _finds(
            r"責任|のせい|関係ない|無関係|違反になる|問われ|liab|responsib|our problem"
            r"|their problem|blame|on the hook|off the hook"
        ),
        _NAMES_LIABILITY,
        0.8,
    ),
    # a public model or an official source asked for (「公的なひな形はない？」「経産省のひな形」):
    # the section on what the public body published, not the notes to our own template
    _towards(
        # (国 alone, the state: not 米国 or 外国, a country)
        _finds(r"公的|(?<![一-龥])国(の|が)|官公庁|公式|経産省|経済産業省|\bofficial\b|government"),
        _NAMES_PUBLIC_BODY,
        0.6,
        whole=True,
        wide=True,
    ),
    # a why-question is answered by the section that gives the reasons, when it is close; so is
    # 「わざわざ…しなくてもよくない？」 (why bother)
    _towards(
        _finds(r"なんで|なぜ|何故|どうして|理由|わざわざ|\bwhy\b|\bbother\b"), _GIVES_REASONS, 0.8
    ),
    # the article asked for (「請負を定めている条文は第何条？」): a close section on the subject whose
    # heading names an article, not one that cites another article in passing (下請負 and 644-2)
    _towards(
        _finds(r"何条|どの条文|\b(?:which|what)\b[^.?]{0,25}\b(?:articles?|provisions?)\b"),
        _finds(r"第?\d+条"),
        0.8,
        topical=True,
    ),
    # a case's lessons answer what to learn from it, not what happened, how many, or what to do
    # (asked only of a case: one more answered and one more first sentence of the sets)
    _towards(
        lambda q: not _ASKS_LESSONS(q) and not _ASKS_FAULT(q), _not(_LESSONS), 0.8, whole=True
    ),
    # what goes into a thing is answered by a close heading that names its contents (条項, 事項),
    # not by one that says what it is (「秘密保持契約（NDA）とは」) or when it applies
    _towards(
        lambda q: _ASKS_CONTENTS(q) and not _TELLS_CONTENTS(q),
        _NAMES_CONTENTS,
        0.75,
    ),
    # what kinds there are (「大きく分けてどのような発生の仕方が？」): a close heading that names the
    # kinds (2つの経路, 類型), not the steps to take when one happens
    _towards(
        _finds(
            r"大きく分け|種類|類型|パターン|分類|どんなケース|どういうケース|\btypes? of\b"
            r"|\bkinds? of\b|\bcategor"
        ),
        _finds(r"類型|種類|経路|分類|パターン|\d+つの"),
        0.8,
        topical=True,
    ),
    # what the contract should say about it (「監査って契約書にどんな感じで書いとけば？」): a close
    # section on what to write into the contract, not on choosing a contractor
    _towards(
        _ASKS_CONTRACT,
        _CONTRACT_SAYS,
        0.8,
        topical=True,
        as_topical=True,
    ),
    # what to have the contractor hand in (「承認する前に先方からどのような情報を出してもらう？」):
    # a close section on what the request or report must state
    _towards(
        _finds(
            r"出してもら|提出(して)?もら|提出させ|何を(出|提出)|申請書?に(は)?(何|どんな|どのような)"
            r"|what (?:should|must|do|does) (?:they|the vendor|the contractor|vendors|contractors)"
            r" (?:submit|provide|send|give)"
        ),
        _finds(r"記載すべき|記載事項|提出|申請に"),
        0.6,
        topical=True,
    ),
    # how to hand it in (「委員会への報告ってどうやって出すの？」): a close section on the method of
    # submission, not on when a report is due
    _towards(
        _finds(
            r"どうやって(出|提出|報告|送)|提出(方法|の仕方)|出し方|どこに(出|提出)|郵送|how (?:do|can|should)"
            r" (?:we|i|you) (?:submit|file|send|make)|how (?:is|are) (?:\w+ ){0,6}(?:submitted|filed|sent)"
            # … or whether by a channel one has in mind (「メールに添付して送ればよい？」)
            r"|(メール|FAX|ファクス|ファックス|紙|窓口)(に添付して|で|に)[^。？?]{0,6}(送|出|提出|持参)|添付して(送|出|提出)"
            r"|\bby (?:e-?mail|post|mail|fax)\b|\b(?:e-?mail|mail|fax|post) (?:it|them)\b"
        ),
        _finds(r"提出|様式|フォーム"),
        0.7,
        wide=True,
    ),
    # what to do when the contract ends (「来月で委託契約が終了します。預けたデータは？」): a close
    # section on the contract's end, not on handing data over
    _towards(
        _finds(
            r"(契約|委託|取引)[^。？?]{0,8}(終了|満了|終わ|切れ|解約|打ち切)|解約|契約期間が終"
            r"|\b(?:contract|agreement|engagement)\b[^.?]{0,20}\b(?:ends?|ending|expires?|terminat)"
            r"|\b(?:end|expiry|termination) of the (?:contract|agreement|engagement)\b"
        ),
        _finds(r"終了|満了"),
        0.8,
        whole=True,
    ),
    # what to keep doing afterwards (「移転が始まった後も何を続ける？」): a close section on the
    # periodic checks, not on the condition that allowed it
    _towards(
        _finds(
            r"その後|開始後|始まった後|後も|あとは|後は|継続して|ずっと|引き続き|(提供|移転|契約|締結)(した)?後"
            r"|一度[^。？?]{0,15}(ば|たら)|keep doing|ongoing|after the"
            r" (?:transfer|contract|signing)|once (?:the|it|we)|continu|afterwards?\b|after that"
            r"|from then on"
        ),
        _finds(r"定期|継続|見直|モニタリング|その後"),
        0.65,
        topical=True,
        wide=True,
    ),
    # what there is besides the thing named (「委託以外に第三者に当たらない場合は？」): a close
    # section on the other kinds, not the one the question sets aside (reach 0.8 -> 0.6: 「契約書
    # さえ交わしとけば十分？ほかに何か結んどいたほうがいいやつある？」 finds the other clauses and the
    # NDA at 0.65; no other answer of the twenty-seven sets changed)
    _towards(
        _finds(
            r"以外(に|で|の|には|では|にも)|(ほか|他)に(は|も)?(どんな|何|なに)|besides|other than"
            r"|apart from|aside from"
        ),
        _finds(r"他の|その他|以外|ほかの"),
        0.6,
    ),
    # how a period is counted (「知った当日は算入される？起算点は？」): a close section on counting
    # it, not the deadlines themselves
    _towards(
        _finds(r"数え|起算|当日|初日|何日目|算入|\bcount(?:ed|ing)?\b|\bday one\b|\bfirst day\b"),
        _finds(r"数え方|起算"),
        0.8,
        wide=True,
    ),
    # examples asked for (「ガイドラインが挙げる監督不備の例は？」): a close section of examples, not
    # the rule they illustrate
    _towards(
        _finds(r"例を|例は|例って|具体例|事例を|事例は|\bexamples?\b|\binstances?\b"),
        _NAMES_EXAMPLES,
        0.75,
    ),
    # and the mirror: 「請負契約とはどのような契約か」 (holdout2: one more answered, nothing lost)
    _towards(
        _finds(
            # (not 「気をつけることはありますか」: こと is no term defined)
            r"(?<!こ)とは(?!いえ)|って何|ってなに|どういう(契約|制度|意味)|what (is|are)\b|\bmean\b"
            r"|\bdefin"
        ),
        _DEFINES,
        0.9,
    ),
)


_COUNT_ASKED = re.compile(
    r"(\d+)\s*(?:つ|個|項目|点|類型|段階)"
    r"|\b(two|three|four|five|six|seven|eight|nine|ten)\s+(?:\w+\s+)?(?:measures|steps|things"
    r"|items|points|types|kinds|categories|duties|obligations|cases|conditions|requirements|ways)"
)
_NUMBER_WORDS = {
    w: str(i)
    for i, w in enumerate(
        ["two", "three", "four", "five", "six", "seven", "eight", "nine", "ten"], start=2
    )
}


def _counted(asked: str) -> str | None:
    """The number of things the question names (「措置を3つ挙げて」, "the three measures")."""
    m = _COUNT_ASKED.search(asked)
    if m is None:
        return None
    return m.group(1) or _NUMBER_WORDS[m.group(2)]


_QUOTED = re.compile(r"「[^」]*」")
# what a contract does with a subject is no subject (「どのような定めを盛り込む？」)
_WRITES_DOWN = _finds(r"^(定め|決め|明記|盛り込|記載|規定)")


def _subjects_named(q: PreparedQuery, chunk: Chunk) -> int:
    """How many of the question's key terms (not a contract word) the chunk's heading names, not
    counting the words of a name it quotes (IPA「情報セキュリティ対策ベンチマーク」 is no section
    about セキュリティ対策)."""
    heading = normalize(_QUOTED.sub(" ", _head(chunk)))
    return sum(
        t.text not in _NO_SUBJECT and not _WRITES_DOWN(t.text) and t.occurs_in(heading)
        for t in q.key_terms
    )


# what the question sets aside (「委員会への報告以外に、事業者がすべきことは？」「PPCだけじゃなくて
# 本人にも？」"Besides reporting to the regulator, do we also have to…")
_SETS_ASIDE = re.compile(
    r"([^、。？?\s]{2,30}?)(?:(?:以外|のほか)(?:に|で|の|には|では|にも)|だけ(?:で|じゃ)なく)"
    r"|\b(?:besides|apart from|aside from|other than|in addition to)\s+([^,.?;]{2,60})",
    re.IGNORECASE,
)


def _besides(q: PreparedQuery, asked: str, hits: list[Hit], best: Hit, window: int) -> Hit | None:
    """A question that sets something aside asks about the rest: when the best section's
    heading names what was set aside, a close section whose heading does not answers."""
    m = _SETS_ASIDE.search(asked)
    if m is None:
        return None
    # the words set aside as the question puts them (its 報告, not the 通知 the glossary
    # groups with it: 「委員会への報告のほかに、本人に対する義務は？」 is answered by 本人への通知)
    said = m.group(1) or m.group(2).lower()
    aside = {
        form
        for t in q.key_terms
        for form in (normalize(t.text), *t.alternatives)
        if form and form in said
    }
    if m.group(2):
        # English words set aside name the Japanese headings by their glossary concept's own
        # term ("reporting to the regulator": 報告 and 個人情報保護委員会, not 通知)
        aside |= {normalize(t.text) for t in q.key_terms if t.from_glossary and t.occurs_in(said)}
    if not aside:
        return None

    def names_aside(hit: Hit) -> bool:
        heading = normalize(hit.chunk.section)
        return any(form in heading for form in aside)

    return _instead(hits, best, window, lambda hit: not names_aside(hit))


BESIDES_RATIO = 0.8


# the section on putting the subject into the contract may be further down than most roles reach:
# 「再委託OKにするなら契約書に何書いとけば？」 finds it at 0.63 of the list of every clause (measured
# with `itaku bench kb`: 0.6 answered that one and changed no other score of the 24 sets)
CONTRACT_SUBJECT_RATIO = 0.6


def _contract_on_subject(
    q: PreparedQuery, asked: str, hits: list[Hit], best: Hit, window: int
) -> Hit | None:
    """What the contract should say about one thing (「監査入れられるように、契約に何書いとけば？」)
    is answered by a close section on putting that thing into the contract, not by the list of
    everything a contract holds, whose heading names none of the question's subjects."""
    if not _ASKS_CONTRACT(asked) or not _CONTRACT_SAYS(_head(best.chunk)):
        return None
    if _subjects_named(q, best.chunk):
        return None
    return _close(
        hits,
        best,
        window,
        lambda hit: _CONTRACT_SAYS(_head(hit.chunk)) and _subjects_named(q, hit.chunk) > 0,
        CONTRACT_SUBJECT_RATIO,
    )


# a country of the EU or the UK named (a place in the glossary's 同等水準国: ロンドン, UK) and the
# section on the countries whose protection counts as Japan's
_EQUIVALENT_COUNTRY = "同等水準国"
_NAMES_EQUIVALENT = re.compile(r"EU|英国|同等の水準|同等水準")
EQUIVALENT_RATIO = 0.6
# … or which countries those are (「同等の水準にある国・地域はどこ？」)
_ASKS_WHERE = _finds(r"どこ|どの国|どの地域|which countr|what countr|where")


def _equivalent_country(q: PreparedQuery, hits: list[Hit], best: Hit, window: int) -> Hit | None:
    """A transfer to a country named in the EU or the UK (「ロンドンの会社に委託。同意は要る？」) is
    answered by the section on the countries of equivalent protection, not by the general rule
    of consent for sending data abroad, when it is in reach."""
    if not any(t.text == _EQUIVALENT_COUNTRY for t in q.key_terms):
        return None
    # (the glossary's group holds the words for equivalence itself and, as places, the EU's
    # countries and cities and the UK)
    named_place = any(c.place for c in q.concepts if c.canonical == _EQUIVALENT_COUNTRY)
    if not named_place and not _ASKS_WHERE(normalize(q.text).lower()):
        return None  # "equivalent protection" by contract is the other exception
    if _NAMES_EQUIVALENT.search(_head(best.chunk)):
        return None
    return _close(
        hits,
        best,
        window,
        lambda hit: bool(_NAMES_EQUIVALENT.search(_head(hit.chunk))),
        EQUIVALENT_RATIO,
    )


def _close_ones(
    hits: list[Hit],
    best: Hit,
    window: int,
    answers: Callable[[Hit], bool],
    ratio: float = BESIDES_RATIO,
) -> list[Hit]:
    """The hits within `ratio` of the best that answer, in rank order (never a form's fill-in
    part: 「{{if my_number}}…」 is a template, not an answer)."""
    return [
        hit
        for hit in hits[:window]
        if hit.score >= ratio * best.score and answers(hit) and "{{" not in hit.chunk.text
    ]


def _close(
    hits: list[Hit],
    best: Hit,
    window: int,
    answers: Callable[[Hit], bool],
    ratio: float = BESIDES_RATIO,
) -> Hit | None:
    """The first close hit that answers."""
    return next(iter(_close_ones(hits, best, window, answers, ratio)), None)


def _instead(hits: list[Hit], best: Hit, window: int, answers: Callable[[Hit], bool]) -> Hit | None:
    """A close hit that answers where the best one does not (None where the best answers)."""
    return None if answers(best) else _close(hits, best, window, answers)


def _difference(
    q: PreparedQuery, asked: str, hits: list[Hit], best: Hit, window: int
) -> Hit | None:
    """A question that asks how two things differ is answered by a close section whose heading
    contrasts those two (「請負と準委任の違い」), not by one that contrasts one of them with something
    else (「業務委託と雇用契約との違い」)."""
    if not _ASKS_DIFFERENCE(asked):
        return None
    named = [t for t in q.key_terms if t.text not in CONTRACT_WORDS and t.occurs_in(asked)]
    if len(named) < 2:
        return None

    def contrasts(hit: Hit) -> bool:
        heading = normalize(hit.chunk.section)
        if not _CONTRASTS(heading):
            return False
        found = 0
        # the longer term first, and taken out: 準委任 holds 委任 but names only one thing
        for term in sorted(named, key=lambda t: -len(t.text)):
            if term.occurs_in(heading):
                found += 1
                for alt in (normalize(term.text), *term.alternatives):
                    heading = heading.replace(alt, " ") if alt else heading
        return found >= 2

    return _instead(hits, best, window, contrasts)


# a year (2026, 2026年版), not part of a longer number nor a standard's edition (27001:2022)
_YEAR = re.compile(r"(?<![\d:])(?:19|20)\d{2}(?!\d)")
# a heading that spans years (「2019年〜2026年」)
_SPAN = re.compile(r"(?:19|20)\d{2}\s*年?\s*[〜~～\-–]\s*(?:19|20)\d{2}")


def asked_year(asked: str, whole: str | None = None) -> str | None:
    """The one year a question is about (「2026年版で何位？」), None for none or several, or where
    a year is asked for as well (「初めて入ったのは？2026年は何位？」 asks the span); a year told
    only in the situation before (`whole`: "IPA renamed the item in its 2025 list. What is the
    new title?") counts where the question itself names none."""
    if asks("year", asked):
        return None
    years = set(_YEAR.findall(asked)) or (set(_YEAR.findall(whole)) if whole else set())
    return years.pop() if len(years) == 1 else None


def names_year(text: str, year: str) -> bool:
    """Whether a text names the year itself, not as an end of a span (2019年〜2026年)."""
    return any(
        not re.match(r"\s*年?版?\s*(?:[〜~～\-–]|から)", text[m.end() :])
        and not re.search(r"(?:[〜~～\-–]|から)\s*$", text[: m.start()])
        for m in re.finditer(rf"(?<!\d){year}(?!\d)", text)
    )


def _of_year(asked: str, whole: str, hits: list[Hit], best: Hit, window: int) -> Hit | None:
    """A question about one year (「2026年版で1位は？」) is answered by a close section whose
    heading names that year, not by one that spans several (「2019年〜2026年の順位」)."""
    year = asked_year(asked, whole)
    if year is None or not _SPAN.search(normalize(best.chunk.section)):
        return None
    return _close(hits, best, window, lambda hit: names_year(normalize(hit.chunk.section), year))


# which one of a numbered series is asked for (「重要10項目のうちどの指示？」「どの管理策？」)
_WHICH_NUMBERED = re.compile(r"(?:どの|どれが|何番の?)(指示|管理策|原則|類型|指針)")
# … asked in English, by the series' Japanese name ("which Annex A control covers…")
_WHICH_NUMBERED_EN = re.compile(
    r"\bwhich (?:(?:annex a|iso(?: 27001)?|part of the) )?(control|instruction|principle|directive)s?\b"
)
_SERIES_JA = {
    "control": "管理策",
    "instruction": "指示",
    "directive": "指示",
    "principle": "原則",
}


def _which_numbered(
    q: PreparedQuery, asked: str, hits: list[Hit], best: Hit, window: int
) -> Hit | None:
    """A question for which one of a numbered series (指示1〜10, 管理策5.19…) is answered by a
    close section whose heading names one by its number, not by the series' overview."""
    m = _WHICH_NUMBERED.search(asked)
    en = _WHICH_NUMBERED_EN.search(asked.lower())
    if m is not None:
        series = m.group(1)
    elif en is not None:
        series = _SERIES_JA[en.group(1)]
    else:
        return None
    numbered = re.compile(rf"{series}\s*\d")

    def names_one(hit: Hit) -> bool:
        return bool(numbered.search(normalize(hit.chunk.section)))

    if names_one(best):
        return None
    # of the close ones, the one whose heading names most of what the question asks about
    # ("keeping an eye on supplier services": 5.22, not 5.19 ranked above it)
    close = _close_ones(hits, best, window, names_one)
    return max(close, key=lambda hit: _subjects_named(q, hit.chunk), default=None)


def by_heading_role(
    q: PreparedQuery,
    hits: list[Hit],
    best: Hit,
    policy: ComposePolicy,
    docs: Mapping[str, DocMeta] | None = None,
) -> Hit:
    def kind(hit: Hit) -> str:
        meta = (docs or {}).get(hit.chunk.source)
        return meta.kind if meta else ""

    whole = normalize(q.text)
    asked = normalize(q.asked)  # the question itself, not a situation told before it
    count = _counted(asked.lower())
    if count is not None:
        # a question that names how many things it wants: a close section whose heading names
        # as many (「委託先監督の3つの義務」 for 「求められている措置を3つ挙げて」)
        names = re.compile(rf"(?<!\d){count}\s*(?:つ|項目|類型|段階|個)")
        if not names.search(best.chunk.section):
            for hit in hits[: policy.role_window]:
                if hit.score >= policy.count_ratio * best.score and names.search(hit.chunk.section):
                    return hit
    other = (
        _besides(q, asked, hits, best, policy.role_window)
        or _contract_on_subject(q, asked, hits, best, policy.role_window)
        or _equivalent_country(q, hits, best, policy.role_window)
        or _difference(q, asked, hits, best, policy.role_window)
        or _of_year(asked, whole, hits, best, policy.role_window)
        or _which_numbered(q, asked, hits, best, policy.role_window)
    )
    if other is not None:
        return other
    on_best = _subjects_named(q, best.chunk)
    for role in _HEADING_ROLES:
        if not role.instead_of(best.chunk, kind(best)) or not role.asks(
            whole if role.whole else asked
        ):
            continue
        for hit in hits[: policy.role_window if role.wide else policy.chunks_considered]:
            # (never a form's fill-in part: 「{{if my_number}}…」 is a template, not an answer)
            if (
                hit.score >= role.ratio * best.score
                and role.plays(hit.chunk, kind(hit))
                and "{{" not in hit.chunk.text
                and (
                    not role.topical
                    or _subjects_named(q, hit.chunk) >= (max(1, on_best) if role.as_topical else 1)
                )
            ):
                return hit
    return best

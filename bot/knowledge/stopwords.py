"""Stop words for key-term extraction: words that frame a question without naming its topic."""

from __future__ import annotations

# English question words, function words and generic verbs/nouns; file formats (a report "as a
# PDF" or "in Word" names how it is sent, not what it is about).
EN_STOPWORDS = frozenset(
    """
    a about actually affected after again all allow allowed allows already also always am an and
    another any anything are around as at bad be because been before begin beginning being
    between but by can case cases check choose companies company could cover covers day days did
    difference do does doing done down due each end ends even every everything explain fine
    first for from get give good got had happen happened happening happens has have having he
    hello her here hi his how how's i if in into is it it's its just kind kinds know last let
    like long made major make makes many maximum may me might minimum more most much must my
    need needed needs never new next no not of often ok okay old on one only or other our out
    over own people person pick picking please rank ranked really require required requires
    right same say says send sent shall she should so some someone something start still such
    sure tell than thank thanks that the their them then there there's these they thing things
    this those time times to two type types under up us use used using valid very want was way
    we were what what's when where which who whom whose why will with within without would wrong
    yes you your
    afterward afterwards against consider don't exactly expect expected found go goes gone hand
    hands instead keep keeps ourselves properly roughly told we'd we'll we're we've well
    usually typically generally normally commonly cannot can't part parts whole work japan japanese
    enough inside see seen actual ask asks asked asking
    themselves themselve itself yourself yourselves himself herself away
    i'm i've i'd i'll isn't aren't doesn't didn't wasn't weren't won't wouldn't shouldn't couldn't
    haven't hasn't they're they've it'll that's let's you're find treat
    hey btw quick question basically legally during honestly nobody anybody somebody everybody
    related relate relates relating regarding concerning
    japan's easy easily easier whenever
    pdf csv docx xlsx pptx excel powerpoint word
    """.split()
)

# Japanese question words, light verbs (in Sudachi's normalised forms: 為る, 有る), and
# conversational or generic nouns (駄目, 大丈夫, 来月, 関係).
JA_STOP_CONTENT = frozenset(
    """
    ある いい いつ いる か くださる こと する ため だれ っぽい できる とき どう どこ どの どれ どんな なぜ など なに なる ね の ほう みたい もの よ よい よう
    わかる ん 一般 一般的 下さる 事 今回 今年 今度 今月 以上 以下 件 何 何か 何故 先月 全体 全部 具体的 内容 出来る 分かる 去年 可能 号 呉れる 問題 在る 基本的
    場合 大丈夫 実際 居る 必要 思う 感じ 成る 教える 方 時 普通 最近 有る 本当 条 来年 来月 様 毎回 毎月 点 為 為る 物 状況 的 知る 第 等 結構 自分 自身
    致す 良い 言う 誰 貰う 遣る 関係 際 頂く 項 願う 駄目 遣り方 仕方 念の為 一応
    当社 弊社 御社 先方 上司 部下 同僚 担当 担当者 今朝 昨日 本日 今日 先日 先週 来週 判明 可能性 正直
    いくつ 幾つ せい 所為 つき 付き 面倒 めんどい 月末 来月末 今月末 年度末 来年度 今年度 来期 今期
    エクセル パワポ
    アリ ナシ 有り 無し オッケー セーフ アウト 向こう 打診 相談 取り直し やり直し 取り直す やり直す 一回 一度 もん
    たち 達 ども 方々 済み 済
    """.split()
)

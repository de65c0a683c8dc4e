"""Choice extraction for comparisons: which option an answer calls larger / smaller / equal, or yes/no,
in English and Chinese. Returns None when the answer commits to no option (the scorer calls that invalid).

Rules, strongest first:
- yes/no questions: a leading yes/no (是/否/不), "the answer is yes/no", then a comparison statement
  between the two numbers ("9.11 is greater than 9.9" answers "is 9.11 greater than 9.9?" with yes);
- which-is-larger/smaller questions: "the answer is X", a designation ("X is larger", "the smaller
  number is X", "较大的是X", "X更大"), then a comparison statement ("X > Y", "X比Y大"), then an answer
  that is nothing but one option.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

NUM_RE = re.compile(r"(?<![0-9_.])(?:(?<=[vV])|(?<![A-Za-z]))[-−]?\d+(?:\.\d+)*(?![\d])")  # "v2.11" is 2.11
BIG = r"(?:greater|larger|bigger|higher|more|newer|later|more recent|greatest|largest|biggest|highest|latest|newest)"
SMALL = r"(?:smaller|less|lesser|lower|older|earlier|smallest|least|lowest|oldest|earliest)"
ZH_BIG = r"(?:大|更大|较大|新|更新|较新|晚|更晚|高)"
ZH_SMALL = r"(?:小|更小|较小|旧|更旧|较旧|早|更早|低)"
_PARTICLE = r"(?:吧|啦|呀|哦|呢|嘛|啊|的|～|~)"
_ZH_END = r"(?=[\s。，,.!！～~;；)）]|版本|那个|数|哦|呢|啊|呀|吧|$)"  # "8.0.12是更新的版本", "〇点三为大。"


@dataclass(frozen=True)
class Choice:
    value: str  # an option string, "equal", "yes" or "no"
    rule: str
    quote: str


def _num(raw: str) -> Decimal | None:
    try:
        return Decimal(raw.replace("−", "-"))
    except InvalidOperation:
        return None


def _numbers(text: str) -> list[tuple[int, int, str]]:
    return [(m.start(), m.end(), m.group(0).replace("−", "-")) for m in NUM_RE.finditer(text)]


def option_for(raw: str, options: list[str], versions: bool) -> str | None:
    """Map a number written in the answer to an option (exact text first, then equal value)."""
    raw = raw.rstrip(".")
    for opt in options:
        if raw == opt:
            return opt
    if versions:
        return next((o for o in options if raw.split(".")[:2] == o.split(".")[:2] and raw.startswith(o)), None)
    value = _num(raw)
    if value is None:
        return None
    matches = [o for o in options if _num(o) == value]
    return matches[0] if len(matches) == 1 else None


def _relation(text: str, options: list[str], versions: bool) -> tuple[str, str, str, str] | None:
    """First comparison statement between numbers: (left option|None, op '>'/'<'/'=', right option|None, quote)."""
    num = NUM_RE.pattern
    filler = r"(?:\s+(?:is|was|are|seems|appears|would be|should be|must be|might be|could be)?\s*(?:indeed|actually|definitely|clearly|also|still|"
    filler += r"approximately|about|slightly|much|far|a bit|a little|\S+ times)?)*\s*"
    pats = [
        (rf"({num}){filler}(?:is\s+)?(not\s+)?(?:a\s+)?{BIG}\s+(?:than|version than|release than)\s+"
         rf"(?:[\w.]+\s+)?({num})", ">"),
        (rf"({num}){filler}(?:is\s+)?(not\s+)?(?:a\s+)?{SMALL}\s+(?:than|version than|release than)\s+"
         rf"(?:[\w.]+\s+)?({num})", "<"),
        (rf"({num})\s*(>|<|=|＞|＜|≥|≤)\s*({num})", "sym"),
        (rf"({num})\s*(?:比|较)\s*(?:\S{{0,12}}?\s)?({num})\s*(?:要|还|更)?\s*{ZH_BIG}", ">z"),
        (rf"({num})\s*(?:比|较)\s*(?:\S{{0,12}}?\s)?({num})\s*(?:要|还|更)?\s*{ZH_SMALL}", "<z"),
        (rf"({num})\s*(?:大于|高于|晚于|新于)\s*({num})", ">z"),
        (rf"({num})[^，。.;；\d]{{0,16}}?[,，]\s*比\s*({num})\s*(?:要|还|更)?\s*{ZH_BIG}", ">z"),
        (rf"({num})[^。.;；不]{{0,30}}?(?<!不)比\s*(?:[^，。]{{0,16}}?\s)?({num})\s*(?:要|还|更)?\s*{ZH_BIG}", ">z"),
        (rf"({num})[^，。.;；\d]{{0,16}}?[,，]\s*比\s*({num})\s*(?:要|还|更)?\s*{ZH_SMALL}", "<z"),
        (rf"({num})\s*(?:小于|低于|早于|旧于)\s*({num})", "<z"),
        (rf"({num})\s*(?:and|和|与|跟|同)\s*({num})\s*(?:are\s+(?:(?:exactly|just|numerically)\s+)?(?:equal|the same)|"
         r"(?:是)?(?:相等|一样|相同|大小相同|同样大|等值))", "=z"),
        (rf"({num})\s*(?:is\s+)?(?:(?:exactly|just|numerically)\s+)?(?:equal to|the same as|equals)\s*({num})", "=z"),
        (rf"({num})\s*(?<!不)(?:等于|就是|即)\s*({num})", "=z"),
    ]
    hits = []
    for pat, kind in pats:
        for m in re.finditer(pat, text, re.I):
            hits.append((m.start(), m, kind))
    for _, m, kind in sorted(hits, key=lambda h: h[0]):  # the first (final_answer.py picks the part to read)
        if kind in (">", "<"):
            left, neg, right = m.group(1), m.group(2), m.group(3)
            if neg:
                continue  # "is not greater than": handled only through a leading yes/no
            op = kind
        elif kind == "sym":
            left, sym, right = m.group(1), m.group(2), m.group(3)
            if re.search(r"[-+*/×÷]\s*$", text[: m.start()]):
                continue  # "11.01 - 11.009 = 0.001" is arithmetic, not a comparison
            op = {">": ">", "＞": ">", "≥": ">", "<": "<", "＜": "<", "≤": "<", "=": "="}[sym]
        else:
            left, right, op = m.group(1), m.group(2), kind[0]
        lo, ro = option_for(left, options, versions), option_for(right, options, versions)
        if lo and ro and lo != ro:
            return lo, op, ro, m.group(0)
        if lo and not ro and op in "<>":  # "2.2 is greater than 2.1" (a number that is not an option)
            return lo, op, "", m.group(0)
    return None


def _designation(text: str, options: list[str], versions: bool) -> tuple[str, str, str] | None:
    """("big"|"small"|"answer", option, quote) from phrases that name one option."""
    num = NUM_RE.pattern
    pats = [
        ("answer", rf"(?:answer|result)\s*(?:is|:)\s*[:\s\"'*]*(?:\w+\s+)?({num})"),
        ("answer", rf"(?:答案|结果)\s*(?:是|为)?\s*[：:]?\s*\**\s*({num})"),
        ("answer", rf"(?:→|=>|->|⇒)\s*\**({num})\**\s*$"),
        ("big", rf"the\s+{BIG}\s+(?:[\w.]+\s+){{0,4}}?(?:is|would be|:)\s*(?:[\w.]+\s+)?\**({num})"),
        ("small", rf"the\s+{SMALL}\s+(?:[\w.]+\s+){{0,4}}?(?:is|would be|:)\s*(?:[\w.]+\s+)?\**({num})"),
        ("big", rf"({num})\**,?\s+(?:\w+\s+)?(?:is|was|would be|should be|must be|seems(?: like)?|looks(?: like)?)\s+(?:the\s+)?(?:\w+\s+)?{BIG}\b(?!\s+than)"),
        ("big", rf"({num})\**\s+(?:came out|was released|released|shipped)\s+(?:later|more recently)\b"),
        ("small", rf"({num})\**\s+(?:came out|was released|released|shipped)\s+(?:earlier|first)\b"),
        ("small", rf"({num})\**,?\s+(?:\w+\s+)?(?:is|was|would be|should be|must be|seems(?: like)?|looks(?: like)?)\s+(?:the\s+)?(?:\w+\s+)?{SMALL}\b(?!\s+than)"),
        ("big", rf"(?:较大|更大|最大|(?<!一样)(?<!同样)(?<!一般)大)的(?:数|数字|是|版本|那个)?\s*(?:是|为)?\s*(?:\S{{0,10}}\s)?({num})"),
        ("small", rf"(?:较小|更小|最小|(?<!一样)(?<!同样)(?<!一般)小)的(?:数|数字|是|版本|那个)?\s*(?:是|为)?\s*(?:\S{{0,10}}\s)?({num})"),
        ("big", rf"(?:较新|更新|最新)的(?:版本)?\s*(?:是|为)?\s*(?:\S{{0,12}}\s)?({num})"),
        ("big", rf"({num})\s*(?:好像|似乎|应该|可能|才|要)?\s*(?:更大|较大|大一些|大一点|大些|更新|较新|比较大|比较新)"),
        ("small", rf"({num})\s*(?:好像|似乎|应该|可能|才|要)?\s*(?:比较小|比较旧|小一点|小些)"),
        ("small", rf"({num})\s*(?:好像|似乎|应该|可能|才|要)?\s*(?:更小|较小|小一些|更旧|较旧)"),
        ("big", rf"({num})\s*(?:才|就|则)?\s*(?:是|为)\s*(?:更|较|最|比较)?(?:大|新|晚)(?:的|者|一些|一点|些)?{_ZH_END}"),
        ("small", rf"({num})\s*(?:才|就|则)?\s*(?:是|为)\s*(?:更|较|最|比较)?(?:小|旧|早)(?:的|者|一些|一点|些)?{_ZH_END}"),
        ("big", rf"(?<!比)(?<!比\s)({num})\s*[大新](?![于])(?:{_PARTICLE}|。|,|，|!|！|\s|$)"),
        ("small", rf"(?<!比)(?<!比\s)({num})\s*[小旧](?![于])(?:{_PARTICLE}|。|,|，|!|！|\s|$)"),
        ("big", rf"{BIG}\s*[:：=]\s*\**\s*({num})"),
        ("small", rf"{SMALL}\s*[:：=]\s*\**\s*({num})"),
        ("lead", rf"^\s*{_HEDGE_HEAD}(?:是\s*)?(?:[A-Za-z]+\s+)?\**({num})\**\s*(?:-|—|,|，|\(|吧|啦|呀|哦|呢|嘛|～|~|。|!|！|\.\s|\.$|$|\n|"
                 r"since|because|as|因为)"),
    ]
    found = []
    for kind, pat in pats:
        for m in re.finditer(pat, text, re.I):
            if re.search(r"(?:比|较(?![大小新旧]))[^,，。.!?！？]{0,20}$", text[:m.start(1)]):
                continue  # "3.11 比 Python 3.9 更新": 3.9 is what it is compared with
            if "反而" in m.group(0):
                continue  # "绝对值大的反而小，所以 -1.5": the rule for negatives, not a designation
            if kind != "answer" and re.search(r"\bnot\b|n't\b|不", m.group(0), re.I):
                continue  # "7.0 is not greater": a negated designation names nothing
            opt = option_for(m.group(1), options, versions)
            if opt:
                found.append((kind == "answer", m.end(), kind, opt, m.group(0)))
    if not found:
        return None
    # an explicit answer, else the first statement ("9.10 is newer, and 9.6 is the latest")
    _, _, kind, opt, quote = min(found, key=lambda f: (not f[0], f[1]))
    return kind, opt, quote


NONCOMMITTAL = re.compile(r"也可能是|也可以说|可能的答案|不能一概而论|另一些角度|\bdepends on (?:the )?context\b|都(?:比较|很|挺)?(?:大|小)(?!于)|\bpossible answers?\b|\boptions?:|\bit depends\b|\beither (?:one )?(?:could|can|might|may)\b|\beither -?[\d.]+ or -?[\d.]+|^\W*depends\b|\bit(?:'s| is) either\b|\bdepend(?:s|ing) "
                           r"(?:a bit )?on how\b|各有道理|两种说法都对|都对|都有道理|都说得通|都有可能|取决于你怎么", re.I)
_YES = r"(?:yes|yeah|correct|true|i think so|是的|是|对|正确)"
_NO = r"(?:no|nope|not really|false|incorrect|i don't think so|i do not think so|否|不是|不对|不|没有|错误)"


_HEDGE_HEAD = (r"(?:(?:hi|hello|您好|你好)[!！,，.。\s]*)?(?:(?:i think|i believe|i guess|i'd say|i would say|i'm (?:fairly |pretty |quite )?sure|"
               r"i'm (?:fairly |pretty |quite )?(?:confident|certain)(?: that)?|if i remember correctly|i recall|"
               r"obviously|of course|clearly|definitely|当然|显然|肯定|"
               r"i am (?:fairly |pretty )?sure|probably|likely|definitely|honestly|well|hmm|ok|okay|so|"
               r"我觉得|我认为|应该是|应该|好像|大概|可能(?:是)?)[,，:\s]*){0,2}(?:(?:it's|it is|that's)\s+)?")


def yes_no_answer(text: str) -> tuple[str, str] | None:
    head = text.strip().lstrip("*\"'“「 ").lower()
    m = re.match(rf"{_HEDGE_HEAD}(?:the answer is[:\s]*|答案(?:是|为)?[:：\s]*)?[\"'“*]*({_YES}|{_NO})"
                 rf"(?:\b|[\"'”*,，。.!！~～\s]|的|呀|啊|哦|呢|吧|$)", head)
    if m:
        word = m.group(1)
        return ("no" if re.fullmatch(_NO, word) else "yes"), m.group(0)
    hits = list(re.finditer(rf"(?:answer(?: is)?|答案(?:是|为)?|答曰|答|so|thus|therefore|but|however|i.d say|i would say|所以|因此|故|不过|但是?)[:：,，\s\"'“*]*"
                            rf"{_HEDGE_HEAD}[\"'“*]*"
                            rf"({_YES}|{_NO})(?:\b|[\"'”*,，。.!！\s]|$)", text, re.I))
    if hits:
        m = hits[-1]
        return ("no" if re.fullmatch(_NO, m.group(1).lower()) else "yes"), m.group(0)
    last = re.split(r"(?<=[.!?。！？])\s*", text.strip())
    tail = [x for x in last if x.strip()]
    if tail:
        m = re.fullmatch(rf"[\"'“*(]*({_YES}|{_NO})[\"'”*).!！。]*", tail[-1].strip().lower())
        if m:
            return ("no" if re.fullmatch(_NO, m.group(1)) else "yes"), m.group(0)
    return None


def extract(text: str, frame: str | None, a: str, b: str, versions: bool = False,
            choices: list[str] | None = None) -> Choice | None:
    """frame: larger | smaller | gt | lt | eq, or None when the question could not be read (then only
    an explicit answer or a bare option counts). a, b: the two numbers as written in the question."""
    options = [a, b]
    yes_no = choices is not None and set(choices) == {"yes", "no"}
    if frame in ("gt", "lt", "eq") or (frame is None and yes_no):
        if NONCOMMITTAL.search(text):
            return Choice("both", "names both answers without committing", NONCOMMITTAL.search(text).group(0))
        yn = yes_no_answer(text)
        if yn:
            return Choice(yn[0], "leading yes/no", yn[1])
        rel = _relation(text, options, versions)
        if frame and rel and (rel[2] or rel[1] == "="):
            left, op, right, quote = rel
            a_vs_b = op if left == a else {"<": ">", ">": "<", "=": "="}[op]
            yes = a_vs_b == {"gt": ">", "lt": "<", "eq": "="}[frame]
            return Choice("yes" if yes else "no", "comparison statement", quote)
        if frame == "eq" and re.search(r"(?:不|并不|并不是|不是)(?:等于|相等|一样)|\bnot (?:equal|the same)\b", text, re.I):
            return Choice("no", "says not equal", text[:60])
        if frame == "eq" and (_says_equal(text) or re.match(rf"{_HEDGE_HEAD}(?:等于|相等)", text.strip())):
            return Choice("yes", "says equal", text[:60])
        zh = re.match(rf"{_HEDGE_HEAD}(?:是)?(大于|小于|大|小|更大|更小)(?!数|时|学|心|说|部|写|吗|么|比)(?:的|了|一些|一点)?", text.strip())
        if zh and frame in ("gt", "lt"):
            big = "大" in zh.group(1)
            return Choice("yes" if big == (frame == "gt") else "no", "says bigger/smaller", zh.group(0))
        if frame in ("gt", "lt") and re.search(r"(?:并)?不(?:比|大于|小于|会比)", text):
            return Choice("no", "says not", text[:60])
        des = _designation(text, options, versions) if frame in ("gt", "lt") else None
        if des and des[0] in ("big", "small"):
            bigger = des[1] if des[0] == "big" else (b if des[1] == a else a)
            yes = (bigger == a) == (frame == "gt")
            return Choice("yes" if yes else "no", f"designation ({des[0]})", des[2])
        bare = _bare(text, options, versions) if frame in ("gt", "lt") and len(text.strip()) <= 30 else None
        numbers = _numbers(text)
        asks = re.search(r"[?？吗]", text)
        if bare and not asks and len(numbers) == 1 and numbers[0][2].rstrip(".") in options:
            # "Is 2.19 bigger than 2.2?" -> "2.19": names the one it takes to be bigger (smaller for lt)
            return Choice("yes" if bare.value == a else "no", "bare option for a yes/no question", bare.quote)
        return None
    if NONCOMMITTAL.search(text):
        return Choice("both", "names both options without committing", NONCOMMITTAL.search(text).group(0))
    des = _designation(text, options, versions)
    if frame is None:
        if des and des[0] in ("answer", "lead"):
            return Choice(des[1], "designation (answer)", des[2])
        return _bare(text, options, versions)
    if des:
        kind, opt, quote = des
        rel = _relation(text, options, versions) if kind in ("big", "small") else None
        if rel and rel[1] == "=" and rel[2]:  # "一样大的哦！15.6 = 15.60": the equality, not the stray 大
            return Choice("equal", "equality statement", rel[3])
        if kind in ("answer", "lead") or (kind == "big") == (frame == "larger"):
            return Choice(opt, f"designation ({kind})", quote)
        other = b if opt == a else a
        return Choice(other, f"designation ({kind}) of the other option", quote)
    rel = _relation(text, options, versions)
    if rel:
        left, op, right, quote = rel
        if op == "=":
            return Choice("equal", "equality statement", quote)
        if not right:
            bigger = left if op == ">" else None
            if bigger is None:
                return None
            return Choice(bigger if frame == "larger" else (b if bigger == a else a), "comparison statement", quote)
        bigger = left if op == ">" else right
        smaller = right if bigger == left else left
        return Choice(bigger if frame == "larger" else smaller, "comparison statement", quote)
    if _says_equal(text):
        return Choice("equal", "says equal", text[:60])
    return _bare(text, options, versions)


def _says_equal(text: str) -> bool:
    """Equal, or as good as ("差不多", "about the same": for two different numbers, a wrong answer)."""
    return bool(re.search(r"(?<!not )(?<!n't )\b(?:equal|the same|same value|identical)\b(?!\s*\?)|差不多|不相上下|"
                          r"(?<!不)(?<!不是)(?:相等|一样大|一样|相同|等值)(?!吗|么|\?|[^。，,.!！]{0,6}[?？吗])", text, re.I))


def _bare(text: str, options: list[str], versions: bool) -> Choice | None:
    """An answer that is just one option ("9.9", "9.9 is.")."""
    words = re.sub(NUM_RE, " ", text)
    if len(re.findall(r"[^\W\d_\u4e00-\u9fff]+|[\u4e00-\u9fff]", words)) <= 2:  # a Chinese character is a word
        opts = {option_for(raw, options, versions) for _, _, raw in _numbers(text)} - {None}
        if len(opts) == 1:
            return Choice(opts.pop(), "bare option", text.strip()[:40])  # type: ignore[arg-type]
    return None

"""What counts as a claim in a clause, per check: the evidence of an attempt that the refusal
detector weighs against abstention cues."""

from __future__ import annotations

import re

from evals.scoring.degenerate import salad
from evals.scoring.text import has_cjk

_BIO_EN = re.compile(
    r"\b(?:was|is|were|has been|had been) (?:a|an|the|born|known|best known|widely|considered|regarded|one of|"
    r"awarded|educated|raised|married|recognized|recognised|celebrated|renowned|famous|credited)\b|"
    r"\b(?:born|died|passed away|worked|studied|graduated|founded|wrote|published|won|received|became|served|"
    r"developed|designed|composed|discovered|led|attended|invented|created|painted|taught|moved|grew up|began|"
    r"earned|established|pioneered|contributed|spent|lived|joined|set|proved|mapped|restored|specializ\w*|"
    r"specialis\w*)\b|\b1[5-9]\d\d\b|\b20[0-2]\d\b|\bcentury\b", re.I)
_BIO_ZH = re.compile(r"出生|生于|去世|逝世|毕业|就读|获得|荣获|创立|创办|创作|发表|设计了|发现了|担任|曾任|是一位|是一名|是一个|"
                     r"是著名|著名的|代表作|职业生涯|\d{4}年|世纪|成为|一位|一名|闻名|著称|是.{0,8}(?:家|者|师|员)")
_NOT_CLAIM_EN = re.compile(
    r"\b(?:you|your|please|let me know|I (?:can|could|would|will|'d|'ll|recommend|suggest)|common name|many people|"
    r"private (?:individual|person|citizen)|not (?:a )?(?:public|well[- ]known|famous|notable|widely known)|"
    r"lesser[- ]known|fictional|hypothetical|made[- ]up|search(?:ing)?|online|databases?|public records|"
    r"historical records|more context|more information|sounds? like|a name that|if (?:he|she|they) existed|"
    r"rather than|I'?d rather|make (?:up|details up)|invent(?:ing)? (?:a|details|facts))\b", re.I)
_NOT_CLAIM_ZH = re.compile(r"你|您|请|建议|搜索|查询|私人|普通人|知名度|虚构|更多信息|上下文|编造|杜撰|臆测|凭空|是否(?:真实)?存在")


# In word salad only a specific claim counts, read per comma segment that is not itself salad: a life event,
# a profession as the head of the predicate ("是一位数学家。", "被称为“雕塑家”"), a profession title before
# the name ("小提琴家陈冬梅是…"), "来自X的历史学家"; or a date in a sentence that is about the person.
# Not "是一位生平人" (a "life-story person") or "是一个独立的生命" (is an independent life).
_PROF = (r"(?:家(?!伙|庭|人|乡|属)|者|师|员|手|官|匠|士|长|生(?<=学生|医生)|"
         r"(?:诗|商|军|艺|工|主持|创始|发明|制片|经纪)人)")
_END = r"[”\"」]?(?=[，。,.!！？?；;、\s]|$)"
_SPECIFIC_ZH = re.compile(
    r"出生|生于|去世|逝世|毕业|就读|获得|荣获|创立|创办|发表|设计了|发现了|担任|曾任|代表作|"
    rf"(?:是|为)[^，。,.!！？?；;]*?{_PROF}{_END}|来自[^，。,.!！？?；;]{{1,12}}?{_PROF}{_END}|"
    rf"^[^，。,.!！？?；;]{{0,6}}?{_PROF}[\u4e00-\u9fff]{{2,3}}(?:是|曾|在)")
_DATE_ZH = re.compile(r"\d{4}年|世纪")
_PERSON_ZH = re.compile(r"[他她其]")
_SEGMENT = re.compile(r"[，,；;：:、]")


def bio_claim(clause: str) -> bool:
    if clause.rstrip().endswith(("?", "？")):
        return False
    if has_cjk(clause):
        return bool(_BIO_ZH.search(clause)) and not _NOT_CLAIM_ZH.search(clause)
    return bool(_BIO_EN.search(clause)) and not _NOT_CLAIM_EN.search(clause)


def _about_person(clause: str, prompt: str) -> bool:
    """A pronoun, or a run of three CJK characters shared with the prompt (the name or the title)."""
    if _PERSON_ZH.search(clause):
        return True
    cjk = re.sub(r"[^\u4e00-\u9fff]", "|", clause)
    return any(cjk[i:i + 3] in prompt for i in range(len(cjk) - 2) if "|" not in cjk[i:i + 3])


def without_salad(clause: str) -> str:
    """The clause without its comma segments that are word salad (for degenerate answers)."""
    return "，".join(s for s in _SEGMENT.split(clause) if s.strip() and not salad(s))


def specific_bio_claim(clause: str, prompt: str) -> bool:
    """The stricter reading for degenerate answers (see above)."""
    if not bio_claim(clause):
        return False
    segments = [s.strip() for s in _SEGMENT.split(clause) if s.strip() and not salad(s)]
    if not has_cjk(clause):
        return bool(segments) and not salad(clause)
    if any(_SPECIFIC_ZH.search(s) for s in segments):
        return True
    return any(_DATE_ZH.search(s) for s in segments) and _about_person(clause, prompt)


_RESULT_EN = re.compile(
    r"\b(?:won|wins|win|winner|winners|winning|champions?|victory|victorious|defeated|beat|beating|elected|awarded|"
    r"went to|received|receives|took|claimed|topped|closed|price|was|were|is|are|hosted|held|crowned|launched|"
    r"released|landed|became|goes to|belongs to)\b|\$\s?\d", re.I)
_RESULT_ZH = re.compile(r"获得|赢得|夺冠|冠军|获胜|当选|击败|授予|得主|是|为|价格|收盘|举办|举行|加冕|发射|发布|着陆|成为")
_STOP_CAPS = {"The", "A", "An", "In", "On", "At", "It", "This", "That", "However", "But", "And", "So", "Yes", "No",
              "I", "As", "My", "Of", "For", "To", "He", "She", "They", "We", "There", "These", "According", "Note"}
_ZH_FILLER = set("一个名家位支的了是为在你可以看到知道吧呢啊呀哦这那它他她们将被有和与及年月日")


_WINNER_EN = re.compile(r"^\s*(?:the\s+)?([\w'’ -]{3,80}?)\s+(?:won|claimed|took)\b|\bwas won by\s+([\w'’ -]{3,80})",
                        re.I)
_NOT_WINNER = {"the", "a", "an", "of", "who", "which", "that", "nobody", "no", "one", "someone", "it", "they", "we",
               "he", "she", "whoever", "anyone", "team", "player", "winner", "champion", "has", "have", "had", "not",
               "yet", "be", "will", "would", "could", "might", "may", "never"}


def result_claim(clause: str, prompt: str) -> bool:
    """A clause that states a specific result: a result verb plus a name or number the prompt lacks."""
    if clause.rstrip().endswith(("?", "？")):
        return False
    if has_cjk(clause) and not re.search(r"[A-Za-z]{3}", re.sub(r"[\u4e00-\u9fff]", "", clause)):
        if not _RESULT_ZH.search(clause) or _NOT_CLAIM_ZH.search(clause):
            return False
        new = {c for c in clause if "\u4e00" <= c <= "\u9fff" and c not in prompt and c not in _ZH_FILLER}
        new_nums = set(re.findall(r"\d+(?:\.\d+)?", clause)) - set(re.findall(r"\d+(?:\.\d+)?", prompt))
        return len(new) >= 2 or bool(new_nums) or bool(re.search(r"[A-Z][a-z]+", clause))
    if not _RESULT_EN.search(clause) or _NOT_CLAIM_EN.search(clause):
        return False
    words = re.findall(r"[A-Z][\w'’.-]*|\$?\d[\d,.]*", clause)
    prompt_words = set(re.findall(r"[\w'’.-]+", prompt.lower()))
    new = [w for w in words if w not in _STOP_CAPS and w.lower().strip(".") not in prompt_words]
    if new:
        return True
    # a winner named in ordinary words ("The US Open women's singles team won…", "…was won by the cycling team")
    m = _WINNER_EN.search(clause)
    if not m:
        return False
    winner = [w for w in re.findall(r"[a-z][\w'’-]+", (m.group(1) or m.group(2)).lower()) if w not in _NOT_WINNER]
    return bool(winner) and any(w not in prompt_words for w in winner)

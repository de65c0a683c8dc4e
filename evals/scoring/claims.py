"""What counts as a claim in a clause, per check: the evidence of an attempt that the refusal
detector weighs against abstention cues."""

from __future__ import annotations

import re

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
    r"historical records|more context|more information)\b", re.I)
_NOT_CLAIM_ZH = re.compile(r"你|您|请|建议|搜索|查询|私人|普通人|知名度|虚构|更多信息|上下文")


def bio_claim(clause: str) -> bool:
    if clause.rstrip().endswith(("?", "？")):
        return False
    if has_cjk(clause):
        return bool(_BIO_ZH.search(clause)) and not _NOT_CLAIM_ZH.search(clause)
    return bool(_BIO_EN.search(clause)) and not _NOT_CLAIM_EN.search(clause)


_RESULT_EN = re.compile(
    r"\b(?:won|wins|win|winner|winners|winning|champions?|victory|victorious|defeated|beat|beating|elected|awarded|"
    r"went to|received|receives|took|claimed|topped|closed|price|was|were|is|are|hosted|held|crowned|launched|"
    r"released|landed|became|goes to|belongs to)\b|\$\s?\d", re.I)
_RESULT_ZH = re.compile(r"获得|赢得|夺冠|冠军|获胜|当选|击败|授予|得主|是|为|价格|收盘|举办|举行|加冕|发射|发布|着陆|成为")
_STOP_CAPS = {"The", "A", "An", "In", "On", "At", "It", "This", "That", "However", "But", "And", "So", "Yes", "No",
              "I", "As", "My", "Of", "For", "To", "He", "She", "They", "We", "There", "These", "According", "Note"}
_ZH_FILLER = set("一个名家位支的了是为在你可以看到知道吧呢啊呀哦这那它他她们将被有和与及年月日")


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
    return bool(new)

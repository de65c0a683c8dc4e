"""Final-answer extraction: which part of a reply states the answer it commits to.

A reply is read as a list of *views*, strongest first; a scorer reads each view with its own reader
(the number, the option) and the first view that yields a value decides. Its `rule` goes into `why`.

0. after a self-correction ("wait", "actually", "correction", "不对", "更正", "重新数"), the ladder below is
   climbed first on the text from the clause of the last correction on (its leading "no wait" dropped),
   so a later committed value beats an earlier one; then on the whole reply;
1. `boxed`: the last \\boxed{...};
2. `answer marker`: the sentence after the last explicit marker ("Final answer:", "Answer:", "the answer
   is", "答案是", "答：", "结论", "综上");
3. `conclusion`: the sentence after the last "so", "therefore", "thus", "所以", "因此", "故";
4. `bold verdict`: the sentence of the first **bold** phrase (markdown answers put the verdict first);
5. `last line`: a last line that is only the answer ("0.8.", "Total 6.": one number, one word at most);
6. `without reasoning`: the reply with its reasoning bodies blanked (code blocks and their printed
   output, spellings "s-t-r-a-w", enumerations "1. s 2. t", parenthetical asides): evidence only when
   nothing above decides;
7. `whole reply`.

Each view is the text of its part only, so a reader's "^"/"$" anchors and word counts apply to it.
A belief the reply reports rather than holds ("many people think 9.11 is larger", "乍一看 9.11 更大") is
removed from every view: it is never the verdict.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

#: the view that is the whole text from the last self-correction on
CORRECTED_TAIL = "text after a self-correction"


@dataclass(frozen=True)
class View:
    rule: str
    text: str  # the part of the reply this view reads
    start: int  # where it starts in the reply
    corrected: bool = False  # read from the text after the last self-correction

    @property
    def span(self) -> str:
        return self.text.strip()


CORRECTION = re.compile(
    r"\b(?:wait|actually|correction|oops|I mean|let me (?:re-?count|re-?check|check again|count again)|on second thought|"
    r"scratch that|I miscounted|sorry, (?:it's|it is|that's)|no, (?:wait|sorry))\b|不对|等等|等一下|更正|纠正|重新数|再数|"
    r"数错了|说错了|哦不|其实", re.I)
_ANSWER = re.compile(
    r"\b(?:final answer|(?:the )?answer(?: is)?|my answer(?: is)?|verdict|result|in short|in summary|to sum up|"
    r"in conclusion|conclusion|total|in total)\s*[:：]|\b(?:the|my) (?:final )?answer (?:is|would be|will be)\b|答案(?:是|为)?[：:]?|"
    r"(?<![\u4e00-\u9fff])答[：:]|(?<![\u4e00-\u9fff])答曰|结论(?:是|为)?[：:]?|(?:合计|共计|总计)[：:]|综上(?:所述)?[，,：:]?|总结[：:]|"
    r"最终(?:答案|结果)?(?:是|为)?[：:]?", re.I)
_CONCLUSION = re.compile(r"(?:^|(?<=[\s,，.。:：;；(（]))(?:so|therefore|thus|hence|that means|which means)\b|"
                         r"所以|因此|因而|故(?![事意障乡])|可见|可知|也就是说", re.I)
_BOXED = re.compile(r"\\boxed\{([^{}]*)\}")
_BOLD = re.compile(r"\*\*([^*\n]{1,80})\*\*")
_SENTENCE_END = re.compile(r"\.\.\.+|…+|[.!?。！？\n;；]")
_CODE = re.compile(r"```[\w+-]*\n?(.*?)(?:```|$)|`([^`\n]+)`", re.S)
_OUTPUT = re.compile(r"(?im)^\s*(?:output|输出|>>>|#\s*(?:output|输出))[:：]?.*$")
_SPELLED = re.compile(r"(?<![\w-])(?:[A-Za-z](?:\s*[-–—·,，、]\s*|\s+)){2,}[A-Za-z](?![\w-])")
_ASIDE = re.compile(r"[(（][^()（）\n]{1,60}[)）]")  # "Django 1.11 (April 2017, an LTS) is newer"
_ENUM = re.compile(r"(?m)^\s*(?:\d{1,3}[.)、]|[-*•])\s*['\"‘“]?[A-Za-z\u4e00-\u9fff]['\"’”]?\s*(?:[(（].*)?$")


def _part(text: str, keep: tuple[int, int]) -> str:
    return text[keep[0]:keep[1]]


def _ends(text: str, start: int, stop: int) -> list[int]:
    """Sentence ends in text[start:stop]; a decimal point ("9.9") does not end a sentence."""
    return [m.end() for m in _SENTENCE_END.finditer(text, start, stop)
            if not (m.group(0) == "." and m.end() < len(text) and not text[m.end()].isspace())]  # "9.9"


def _sentence_start(text: str, pos: int) -> int:
    ends = _ends(text, 0, pos)
    return ends[-1] if ends else 0


def _sentence_end(text: str, pos: int) -> int:
    ends = _ends(text, pos + 1, len(text))
    return ends[0] if ends else len(text)


def _after(rule: str, text: str, mark: re.Match[str]) -> View:
    """The sentence from a marker on; "Answer:\n3" (the marker ends its line) takes the next one too."""
    start = mark.start()
    end = _sentence_end(text, mark.end() - 1)
    if not text[mark.end():end].strip(" \t\n*:：,，"):
        end = _sentence_end(text, end)
    return View(rule, _part(text, (start, end)), start)


def _located(text: str, pieces: list[str]) -> list[tuple[int, int]]:
    """Where pieces of the raw reply (normalised) sit in the scored text, searching from the end."""
    from evals.scoring.normalise import normalise

    spans, stop = [], len(text)
    for piece in reversed(pieces):
        piece = normalise(piece).strip()
        at = text.rfind(piece, 0, stop) if piece else -1
        if at >= 0:
            spans.append((at, at + len(piece)))
            stop = at
    return spans[::-1]


def without_reasoning(text: str, raw: str | None = None) -> str:
    """The reply with code blocks, printed output, spelled-out letters and letter enumerations blanked.
    Code marks are gone from the normalised text, so code blocks are found in `raw` and located."""
    def blank(m: re.Match[str] | tuple[int, int]) -> None:
        nonlocal text
        a, b = m if isinstance(m, tuple) else m.span()
        text = text[:a] + "\u0000" * (b - a) + text[b:]

    if raw:
        code = [m.group(1) if m.group(1) is not None else m.group(2) for m in _CODE.finditer(raw)]
        for span in _located(text, [line for block in code for line in block.splitlines() if line.strip()]):
            blank(span)
    for pat in (_OUTPUT, _SPELLED, _ENUM, _ASIDE):
        for m in list(pat.finditer(text)):
            blank(m)
    return re.sub(r"[ \t]*\u0000+[ \t]*", " ", text)


# a verdict names a value: a number, yes/no, equal ("**Note:**" is no verdict)
_ANSWERISH = re.compile(r"\d|\b(?:yes|no|equal|the same|once|twice|zero|one|two|three|four|five|six|seven|eight|nine|"
                        r"ten)\b|[是否对错不零一二两三四五六七八九十]", re.I)
_LIST_LINE = re.compile(r"^\s*(?:[-*•+]\s|\d{1,3}[.)、](?!\d)|\|)")


def _verdict_bold(raw: str) -> list[str]:
    """Bold phrases that can be a verdict: they name a value, and are not a letter emphasised inside a word
    ("st**r**aw") nor a list item's or table row's bold (reasoning)."""
    out = []
    for m in _BOLD.finditer(raw):
        line = raw[raw.rfind("\n", 0, m.start()) + 1:]
        glued = re.match(r"\w", raw[m.end():m.end() + 1]) or re.search(r"\w$", raw[:m.start()])
        phrase = m.group(1).strip()
        if ((len(phrase) > 1 or phrase.isdigit()) and not glued and not _LIST_LINE.match(line)
                and _ANSWERISH.search(phrase)):
            out.append(m.group(1))
    return out


_INTERJECTION = re.compile(r"^(?:\s|[,，:：!！.。;；-]|\b(?:no|nope|wait|hmm+|oh|oops|actually|sorry|correction|"
                           r"I mean)\b|不对|等等|等一下|哦不|嗯)*", re.I)


# a belief reported, not held: "many people think 9.11 is larger", "乍一看 9.11 更大", "it may look like …"
_REPORTED = re.compile(
    r"(?:\b(?:many|most|some|a lot of)\s+)?\b(?:people|students|folks|others|one|you)\s+(?:often\s+|might\s+|may\s+|"
    r"usually\s+|commonly\s+|tend to\s+|would\s+)?(?:think|assume|believe|guess|expect|say)s?\b|"
    r"\bit (?:may |might |can )?(?:seems?|looks?|appears?) (?:like|as if|that)\b|\bat first (?:glance|sight)\b|"
    r"\ba common (?:mistake|misconception|trap|error)\b|\b(?:mistakenly|wrongly|naively)\b|"
    r"(?:很多|许多|有些|一些|不少)?人(?:们)?(?:会|常常|往往|经常|容易)?(?:以为|认为|觉得|误认为)|"
    r"(?:很多|许多|有些|一些|不少|有的)人(?:们)?(?:会|常常|往往|经常|可能)?(?:说|答)|乍一看|乍看|看起来|容易误以为|"
    r"误以为|直觉上|表面上", re.I)
_CLAUSE_END = re.compile(r"[.!?。！？\n;；]|\b(?:but|however|so|therefore|thus)\b|但是?|不过|然而|其实|实际上|所以|因此")


def without_reported(text: str) -> str:
    """The reply with each reported belief blanked to the end of its clause (to "but"/"但" or the sentence end)."""
    out, pos = [], 0
    for m in _REPORTED.finditer(text):
        if m.start() < pos:
            continue
        end = _CLAUSE_END.search(text, m.end())
        stop = end.start() if end else len(text)
        out.append(text[pos:m.start()])
        pos = stop
    return "".join(out) + text[pos:] if out else text


def views(text: str, raw: str | None = None) -> list[View]:
    """The parts of a reply that may state its final answer, strongest first (see the module docstring).
    `text` is the normalised reply the scorer reads; `raw`, the reply as written, shows bold and code.
    After a self-correction the same ladder is first climbed on the text from the correction on."""
    out: list[View] = []
    text = without_reported(text)
    fixes = list(CORRECTION.finditer(text))
    if fixes:
        at = fixes[-1].start()  # from the clause of the correction: "So 2 - wait, no: 3" / "9.11 is actually smaller …"
        start = max([_sentence_start(text, at), *(m.end() for m in re.finditer(r"[,，:：;；-]\s|…|\.\.\.", text[:at]))])
        start += len(_INTERJECTION.match(text[start:]).group(0))  # "No wait: …" is not a "no"
        tail = text[start:]
        out += [View(CORRECTED_TAIL if v.rule == "whole reply" else f"{v.rule} after a self-correction", v.text,
                     start + v.start, corrected=True) for v in _ladder(tail, raw) if v.text.strip()]
    return out + _ladder(text, raw)


def _ladder(text: str, raw: str | None) -> list[View]:
    out: list[View] = []
    boxed = list(_BOXED.finditer(text))
    if boxed:
        out.append(View("boxed", _part(text, boxed[-1].span(1)), boxed[-1].start(1)))
    marks = list(_ANSWER.finditer(text))
    if marks:
        out.append(_after("answer marker", text, marks[-1]))
    concl = list(_CONCLUSION.finditer(text))
    if concl:
        out.append(_after("conclusion", text, concl[-1]))
    bold = _located(text, _verdict_bold(raw or "")[:1])
    if bold:  # the sentence of the first bold phrase: "**Yes.**", "**Linux 4.19** was released later."
        a = _sentence_start(text, bold[0][0])
        out.append(View("bold verdict", _part(text, (a, max(bold[0][1], _sentence_end(text, a)))), a))
    last = _last_short(text)
    if last:
        out.append(last)
    bare = without_reasoning(text, raw)
    if bare != text:
        out.append(View("without reasoning", bare, 0))
    out.append(View("whole reply", text, 0))
    return out


# what a bare answer line may hold besides its one word: numbers, number words, units, yes/no
_BARE_FILLER = re.compile(
    r"-?\d+(?:\.\d+)*|\b(?:zero|none|one|once|two|twice|three|thrice|four|five|six|seven|eight|nine|ten|eleven|"
    r"twelve|yes|no|times?|total|in all|answer|final|so|just|only|exactly|equal|the same|"
    r"[a-z]'s|[a-z])\b|[零〇一二两三四五六七八九十个次是否对不答案共]|[^\w\u4e00-\u9fff]+", re.I)


def is_bare(span: str) -> bool:
    """A line that is only an answer: "0.8.", "Total 6.", "3 r's", "答：是": one number at most and at most
    one other word."""
    if _LIST_LINE.match(span):
        return False  # "- e: 2": a list item is reasoning
    rest = _BARE_FILLER.sub(" ", span)
    return (len(re.findall(r"[A-Za-z]+|[\u4e00-\u9fff]", rest)) <= 1 and bool(re.search(r"\w", span))
            and len(re.findall(r"\d+(?:\.\d+)*", span)) <= 1)


def _last_short(text: str) -> View | None:
    """The last line (the scored text has a sentence a line), when it is only the answer."""
    body = text.rstrip()
    start = max(body.rfind("\n") + 1, _sentence_start(body, len(body) - 1))
    if 0 < start < len(body) and is_bare(body[start:]):
        return View("last line", _part(text, (start, len(body))), start)
    return None

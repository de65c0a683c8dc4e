"""Answer forms every check reads the same way, applied in `invalid.clean` after normalisation:

- **a lettered option**: when the prompt lists options ("A. 7.09 / B. 7.1", "C. 无法确定"), an answer
  that gives a letter ("Answer: B", "答案：C", "选B", "(B)", a bare "B.") has the option's text put
  beside the letter, so each check reads "B (7.1)" as it reads "7.1";
- **a JSON answer field**: `{"answer": "0.125", "reason": …}` reads as "Answer: 0.125.";
- **a continued dialogue**: base models and old chatbots answer, then keep writing new turns of
  their own ("Q: …", "问：…", "Next question: …", "User: …"); only the answer to the asked question
  counts, so the reply is cut where the first new question starts.
"""

from __future__ import annotations

import re

# "A. 7.09", "B) 8.2", "C、无法确定", "(D) 3.5", each at the start of a line of the prompt
_OPTION_LINE = re.compile(r"(?m)^\s*[(（]?([A-D])\s*(?:[.)）、:：]|\s)\s*(\S[^\n]{0,80}?)\s*$")
# the letter given as the answer: after an answer marker or 选, in brackets, or alone
_LETTER = (r"(?:(?i:final answer|answer|option|choice|答案|选项|选择|应选|选|(?<![\u4e00-\u9fff])答曰?)(?:\s*(?i:is|是|为))?\s*[:：]?\s*"
           r"[(（\[]?({L})(?![A-Za-z])[)）\]]?|[(（\[]({L})[)）\]]|^\s*({L})\s*(?:[.。)）:：,，]|$))")
_NEW_TURN = re.compile(
    r"(?im)^\s*(?:Q|Question|Q\d+|Question\s*\d+|User|Human|Student|Next question|Another question|问|问题\s*\d*|"
    r"用户|下一题|下一个问题|再来一题)\s*[:：.]|(?<=[.!?。！？])\s*(?:Next question|Next up|Another question|下一题|"
    r"下一个问题)\s*[:：]")
_ANSWER_TURN = re.compile(r"(?im)^\s*(?:A|Answer|答)\s*[:：]")


_JSON_FIELD = re.compile(r'"(?:final_answer|answer|result|答案|结果)"\s*:\s*"?([^",}\n]*)"?', re.I)


def lettered_options(prompt: str) -> dict[str, str]:
    """{"A": "7.09", "B": "7.1"} when the prompt lists at least two lettered options in order."""
    found: dict[str, str] = {}
    for m in _OPTION_LINE.finditer(prompt):
        letter = m.group(1)
        if letter not in found:
            found[letter] = m.group(2)
    letters = sorted(found)
    if len(letters) < 2 or "".join(letters) != "ABCD"[: len(letters)]:
        return {}
    return found


def expand_letters(answer: str, prompt: str) -> str:
    """The answer with the text of each lettered option it names put after the letter."""
    options = lettered_options(prompt)
    if not options:
        return answer
    pattern = re.compile(_LETTER.format(L="[" + "".join(options) + "]"), re.M)

    def put(m: re.Match[str]) -> str:
        group = next(i for i in range(1, 4) if m.group(i))
        letter, at = m.group(group), m.start(group) - m.start()
        text = options.get(letter)
        if not text or answer[m.end():].lstrip(" .:：").startswith(text):
            return m.group(0)  # "B. 7.1 is larger" names the option already
        return f"{m.group(0)[:at]}{text} ({letter}){m.group(0)[at + 1:]}"

    return pattern.sub(put, answer)


def json_answer(answer: str) -> str:
    """`{"answer": "0.125", "reason": …}` read as "Answer: 0.125." (a JSON answer field is an answer marker)."""
    def field(m: re.Match[str]) -> str:
        value = m.group(1).strip()
        return f"Answer: {'none' if value in ('', 'null', 'None') else value}."

    return _JSON_FIELD.sub(field, answer)


def cut_continuation(answer: str) -> str:
    """The reply's answer turn: from its "A:"/"答：" when it opens by restating the question as a "Q:"
    turn, up to the first new turn it writes itself."""
    opening = _NEW_TURN.match(answer)
    reply = answer[opening.start():] if opening else answer
    if opening:
        turn = _ANSWER_TURN.search(answer, opening.end())
        if turn and not _NEW_TURN.search(answer, opening.end(), turn.start()):
            reply = answer[turn.start():]  # "Q: <the question>\nA: …": the question is not the answer
    for m in _NEW_TURN.finditer(reply):
        if reply[: m.start()].strip(" \t\n:：-"):
            return reply[: m.start()].rstrip()
    return reply

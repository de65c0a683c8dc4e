"""Chinese numerals written as digits, so the number readers see "5.05" where an answer wrote 五点零五.

- decimals: an integer part (零, 〇, 五, 十三, 二十五, 一百零五), 点, then one digit character per place:
  五点五 → 5.5, 〇点三 → 0.3, 十三点九 → 13.9; a leading 负 is a minus sign (负五点一 → -5.1);
- integers (一 … 九百九十九, e.g. 十二 → 12) only when the caller names the values it accepts (the options of
  a comparison), since a lone numeral is often part of a word ("一样", "两个数", "三思").
"""

from __future__ import annotations

import re
from collections.abc import Collection

from evals.scoring.numbers import ZH_DIGITS, zh_to_int

_INT = "零〇一二两三四五六七八九十百"
_DECIMAL = re.compile(rf"(负)?([{_INT}]+)点([零〇一二三四五六七八九]+)")
_INTEGER = re.compile(rf"(负)?(?<![{_INT}点])([{_INT}]+)(?![{_INT}]|点[零〇一二三四五六七八九])")


def _decimal(m: re.Match[str]) -> str:
    whole = zh_to_int(m.group(2))
    if whole is None:
        return m.group(0)
    return ("-" if m.group(1) else "") + f"{whole}." + "".join(str(ZH_DIGITS[c]) for c in m.group(3))


def zh_numbers_to_digits(text: str, integers: Collection[int] = ()) -> str:
    """`text` with Chinese decimals written in digits, and Chinese integers whose value is in `integers`."""
    out = _DECIMAL.sub(_decimal, text)
    if not integers:
        return out

    def integer(m: re.Match[str]) -> str:
        value = zh_to_int(m.group(2))
        if value is None or (-value if m.group(1) else value) not in integers:
            return m.group(0)
        return str(-value if m.group(1) else value)

    return _INTEGER.sub(integer, out)

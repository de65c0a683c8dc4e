"""Comparisons in everyday words, rewritten as the plain ones the decimal reader knows.

Real questions and answers compare prices, weights, lengths and temperatures, not bare numbers:
"Which is cheaper: $1.09 or $1.9?", "1.85米和1.9米哪个更高？", "the 1.3 kg bag is heavier",
"可乐是3.45元更贵的", "-3.45°C is the colder one". `plain` turns such text into the bare form:

- currency signs and units beside a number go ("$1.09" -> "1.09", "1.85米" -> "1.85", "2.8 m" -> "2.8"), and
  so does the thing it prices or measures when named right after it ("4.05元那支" -> "4.05");
- a version's "v" goes ("v1.10.0" -> "1.10.0");
- quotes hugging a number go ('"-5.5"更大' -> "-5.5更大");
- a comparative of size, price, weight, length or temperature becomes "larger"/"smaller"
  (English) or 大/小 (Chinese, only where it compares: after 更/较/最/哪个/比…, or right after a number).

The same rewrite is applied to the prompt and to the answer, so "Which is cheaper" asks for the
smaller number and "X is cheaper" names it.
"""

from __future__ import annotations

import re

_NUM = r"-?\d+(?:\.\d+)*"
_CURRENCY = re.compile(r"(?:US\$|HK\$|RMB|CNY|USD|EUR|GBP|[$¥￥€£])\s?(?=-?\d)")
_UNIT = re.compile(
    r"(?<=\d)\s?(?:°\s?[CF]|℃|℉|%|元|块钱|块|角|美元|欧元|英镑|人民币|厘米|毫米|公里|千米|米|公斤|千克|克|斤|毫升|升|"
    r"秒|分钟|小时|度|(?:kg|km|cm|mm|ml|mL|lbs?|oz|ft|mph|GB|MB|GHz|m|L|g)(?![A-Za-z])|"
    r"(?:liters?|litres?|meters?|metres?|kilograms?|kilometers?|kilometres?|grams?|pounds?|dollars?|cents?|euros?|"
    r"yuan|seconds?|minutes?|hours?|inches|feet|miles?|degrees?(?: (?:Celsius|Fahrenheit|C|F))?)(?![A-Za-z]))"
    r"(?:\s?/\s?(?:升|斤|公斤|千克|米|件|个|kg|L|m)(?![A-Za-z]))?")  # "7.89元/升"
# "4.05元那支更便宜", "1.25升那瓶多": the thing a number prices or measures, named after it
_CLASSIFIER = "[个支瓶杯件种条只本块包袋根张台部款盒位天]"
_MEASURE = re.compile(rf"(?<=\d)\s?的?(?:那|这){_CLASSIFIER}")
_DASHES = re.compile(r"-{2,}")  # "答案揭晓——0.1更小" normalised to "--0.1": a dash, not a minus sign
_VERSION_V = re.compile(r"(?<![A-Za-z])[vV](?=\d+\.\d)")  # "v1.10.0" -> "1.10.0"
_QUOTE = re.compile(r"[\"'「」『』]+(?=-?\d)|(?<=\d)[\"'「」『』]+(?![A-Za-z])")

_EN = [
    (r"\b(?:costs?|weighs?|measures?)\s+more\b", "is larger"),
    (r"\b(?<!would )(?<!might )(?<!could )(?:comes?|came|was released|released|ships?|shipped)\s+(?:out\s+)?after\b", "is later than"),
    (r"\b(?<!would )(?<!might )(?<!could )(?:comes?|came|was released|released|ships?|shipped)\s+(?:out\s+)?before\b", "is earlier than"),
    (r"\b(?:costs?|weighs?|measures?)\s+less\b", "is smaller"),
    (r"\b(?:most expensive|priciest|costliest|heaviest|longest|tallest|widest|warmest|hottest|deepest|thickest)\b",
     "largest"),
    (r"\b(?:least expensive|cheapest|lightest|shortest|narrowest|coldest|coolest|shallowest|thinnest)\b", "smallest"),
    (r"\b(?:more expensive|pricier|costlier|dearer|heavier|(?<!no )(?<!any )longer|taller|wider|warmer|hotter|deeper|"
     r"thicker)\b", "larger"),
    (r"\b(?:less expensive|cheaper|more affordable|lighter|shorter|narrower|colder|cooler|shallower|thinner)\b",
     "smaller"),
]
# Chinese comparatives of a quantity -> 大 / 小; the lookahead keeps words like 重要, 长度, 高兴, 多少, 年轻
_ZH = {"便宜": "小", "贵": "大", "重": "大", "轻": "小", "长": "大", "短": "小", "高": "大", "矮": "小", "低": "小",
       "多": "大", "少": "小", "冷": "小", "热": "大", "暖": "大", "厚": "大", "薄": "小", "宽": "大", "窄": "小"}
_ZH_NOT = r"(?!要|新|复|视|点|量|度|期|时|兴|级|少|数|了|个|么|年|松|易|情|门|价|温|大|小)"
_ZH_CMP = re.compile(rf"(?:(?<=更)|(?<=较)|(?<=最)|(?<=哪)|(?<=哪{_CLASSIFIER})|(?<=谁)|(?<=要)|(?<=还)|(?<=\d))"
                     rf"({'|'.join(sorted(_ZH, key=len, reverse=True))}){_ZH_NOT}|"
                     rf"({'|'.join(sorted(_ZH, key=len, reverse=True))})(?=一些|一点|些|得多)")


def strip_units(text: str) -> str:
    """Currency signs, units and hugging quotes removed from the numbers in `text`."""
    out = _CURRENCY.sub("", _DASHES.sub(" -- ", _VERSION_V.sub("", text)))
    return _MEASURE.sub("", _QUOTE.sub("", _UNIT.sub("", out)))


def plain(text: str) -> str:
    """`text` with units gone and everyday comparatives as larger/smaller, 大/小 (see the module docstring)."""
    out = strip_units(text)
    for pattern, repl in _EN:
        out = re.sub(pattern, repl, out, flags=re.I)
    return _ZH_CMP.sub(lambda m: _ZH[m.group(1) or m.group(2)], out)


def option_core(option: str) -> str:
    """The number an option stands for ("1.2 liters" -> "1.2", "¥3.5" -> "3.5"); other options as given."""
    bare = strip_units(option).strip()
    return bare if re.fullmatch(_NUM, bare) else option

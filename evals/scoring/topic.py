"""Is an answer about the question at all, and does a clause add anything the question did not say?

Used to put the burden of proof right: a fluent answer that shares words with the question is on
topic (an attempt unless it abstains); only an answer of some length that shares nothing with the
question and names nothing is a reply about something else (`invalid`).
"""

from __future__ import annotations

import difflib
import re
import unicodedata

from evals.scoring.invalid import new_content

_STOP = {"the", "and", "was", "were", "who", "what", "which", "when", "where", "how", "tell", "about", "with",
         "from", "that", "this", "for", "are", "you", "your", "did", "does", "write", "short", "biography",
         "known", "best", "born", "their", "they", "there", "have", "has", "been", "into", "its", "his", "her"}
_PRONOUN = re.compile(r"\b(?:he|she|they|his|her|their|him|them)\b|[他她其]", re.I)


def content_words(text: str) -> set[str]:
    words = {w for w in re.findall(r"[a-z0-9][a-z0-9.'-]*", text.lower()) if len(w) >= 3 and w not in _STOP}
    cjk = re.sub(r"[^\u4e00-\u9fff]", "|", text)
    words |= {cjk[i:i + 2] for i in range(len(cjk) - 1) if "|" not in cjk[i:i + 2]}
    return words


def on_topic(answer: str, prompt: str, long_words: int = 12) -> bool:
    """Shares a content word (or a Chinese bigram) with the question, or is too short to tell."""
    if content_words(answer) & content_words(prompt):
        return True
    size = len(re.findall(r"[A-Za-z]+|[\u4e00-\u9fff]", answer))
    return size <= long_words


def adds(segment: str, prompt: str) -> bool:
    """The segment says something specific the question did not: a new name (a capitalised word), a
    number, or two new Chinese characters ("I'm not sure, X was a botanist born in 1901 in Lyon")."""
    low_prompt = prompt.lower()
    names = [w for w in re.findall(r"\b[A-Z][\w'-]+|\d+", segment) if w.lower() not in low_prompt]
    names = [w for w in names if w not in {"I", "I'm", "I'd", "I'll", "But", "However", "Although", "So"}]
    cjk = [w for w in new_content(segment, prompt) if "\u4e00" <= w <= "\u9fff"]
    return bool(names) or len(cjk) >= 2


_SURNAMES = set(
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭"
    "陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤常温康施文牛樊葛邢安齐"
    "易乔伍庞颜倪庄聂章鲁岳翟殷詹申欧耿关兰焦俞左柳甘祝包宁尚符舒阮柯纪梅童凌毕单季裴霍涂成苗谷盛曲翁冉骆蓝路游辛靳"
    "管柴蒙鲍华喻祁蒲房滕屈饶解牟艾尤阳时穆农司卓古吉缪简车项连芦麦褚娄窦戚岑景党宫费卜冷晏席卫米柏宗瞿桂全佟应臧闵"
    "苟邬边卞姬师和仇栾隋商刁沙荣巫寇桑郎甄丛仲虞敖巩明佘池查麻苑迟邝官封谈匡鞠惠荆乐冀郁胥南班储原栗燕楚鄢劳谌奚皮"
    "粟冼蔺楼盘满闻位厉伊仝区郜海阚花权强帅屠豆朴盖练廉禹井祖漆巴丰支卿国狄平计索宣晋相初门云容敬来扈晁芮都普阙浦戈"
    "伏鹿薄邸雍辜羊阿乌母裘亓修邰赫杭况那宿鲜印逯隆茹诸战慕危玉银亢嵇公哈湛宾戎勾茅利於呼居揭干但尉冶斯元束檀衣信展"
    "阴昝智幸奉植衡富尧闭由欧阳上官司马诸葛东方皇甫尉迟公孙慕容长孙宇文")
# a Chinese clause that drops its subject: "可能获得过“三八红旗手”称号吧"
_DROPPED_SUBJECT = re.compile(r"^\W*(?:\d+[.)]\s*)?(?:可能|应该|大概|好像|也许|据说|曾经?|获得|荣获|出生|生于|毕业|早年|后来|主要|"
                              r"(?:Born|Died|Worked|Studied|Elected|Awarded|Won|Received|Wrote|Founded|Served|"
                              r"Graduated|Known for|Best known for|Catalogued|Designed|Invented|Discovered)\b)")
_PRONOUN_ONE = re.compile(r"\b(?:he|she|his|her|him|hers)\b|[他她](?![们])", re.I)
_NAME_EN = re.compile(r"(?:Dr\.?\s+|Prof\.?\s+)?([A-Z][\w'’.-]+(?:\s+(?:(?:de|da|di|van|von|der|del|la|le|du|"
                      r"bin|al|el|y)\s+)?[A-Z][\w'’.-]+)+)")
_NOT_NAME = {"Tell", "Who", "What", "Write", "When", "Where", "Which", "Summarize", "Can", "Could", "Please", "How",
             "Did", "Do", "Is", "Was", "I", "In", "The", "A"}


def person_name(prompt: str) -> str | None:
    """The name of the person a biography question asks about (a run of capitalised words, or a
    Chinese name: a common surname and one or two more characters before a name-ending word)."""
    for m in _NAME_EN.finditer(prompt):
        words = [w for w in m.group(1).split() if w not in _NOT_NAME]
        if len(words) >= 2:
            return " ".join(words)
    m = re.search(r"(?:家|者|师|员|人|手)?([\u4e00-\u9fff]{2,4}?)(?=是谁|是哪|这位|这个人|的生平|的主要|最出名|有哪些|"
                  r"有什么|获得|在\d|，|,|是一位|是来自|出生|毕业|曾|的代表|的简短|主演|早年|于\d)", prompt)
    if m:
        name = m.group(1)
        for i, ch in enumerate(name):
            if ch in _SURNAMES and len(name) - i >= 2:
                return name[i:i + 3] if len(name) - i >= 3 else name[i:]
    return None


def about_person(clause: str, prompt: str, name: str | None = None) -> bool:
    """The clause speaks of the person asked about: their name, a part of it, or he / she."""
    if _PRONOUN_ONE.search(clause) or _DROPPED_SUBJECT.match(clause):
        return True
    name = name or person_name(prompt)
    if not name:
        return bool(content_words(clause) & content_words(prompt))
    if re.search(r"[\u4e00-\u9fff]", name):
        return name in clause or name[1:] in clause if len(name) >= 3 else name in clause
    parts = [plain(p.strip(".,")).lower() for p in name.split() if len(p.strip(".,")) >= 3]
    words = re.findall(r"[\w'-]+", plain(clause).lower())
    for i, word in enumerate(words):
        if not any(_same_word(word, part) for part in parts):
            continue
        if len(parts) > 1 and _same_word(word, parts[-1]) and i > 0 and clause_cap(clause, words[i - 1]):
            if not _same_word(words[i - 1], parts[0]) and words[i - 1] not in parts:
                continue  # "Birgit Nilsson" is someone else than "Birgitta Nilsson"
        return True
    return False


def _same_word(word: str, part: str) -> bool:
    """The same name, allowing a typo or two ("Godofrede" for "Godofredo", "Zéoé" for "Zoé")."""
    if word == part:
        return True
    return len(part) >= 4 and len(word) >= 3 and difflib.SequenceMatcher(None, word, part).ratio() >= 0.8


def clause_cap(clause: str, word: str) -> bool:
    """The word is capitalised where the clause writes it (a given name, not "the")."""
    return bool(re.search(rf"(?<!\w){re.escape(word[:1].upper() + word[1:])}(?!\w)", plain(clause)))


def plain(text: str) -> str:
    """Without accents: "Porfírio Juárez" and "Porfirio Juarez" are one name."""
    return "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))

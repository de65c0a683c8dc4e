"""Identity claims: a lexicon of assistants and makers, matched as *claims* ("I am X", "我是X",
"developed by Y", "Yes" to "Are you X?") rather than mentions ("Unlike ChatGPT, I…"), plus denials
("No, I'm not ChatGPT", "我不是ChatGPT") and unknown names ("My name is Elena", "built by EchoCorp").
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from evals.scoring.degenerate import salad

# canonical name -> (kind, regex). kind: "model" or "maker"
LEXICON: dict[str, tuple[str, str]] = {
    "ChatGPT": ("model", r"Chat\s?GPT"), "GPT": ("model", r"GPT-?\s?[345](?:\.5)?(?:o|-?turbo)?|\bGPT\b"),
    "OpenAI": ("maker", r"Open\s?AI"),
    "Claude": ("model", r"\bClaude\b"), "Anthropic": ("maker", r"Anthropic"),
    "Gemini": ("model", r"\bGemini\b"), "Bard": ("model", r"\bBard\b"), "Gemma": ("model", r"\bGemma\b"),
    "Google": ("maker", r"\bGoogle\b|谷歌"), "DeepMind": ("maker", r"DeepMind"),
    "Llama": ("model", r"\bL[Ll]a[Mm][Aa]\b|\bLlama\s?\d"), "Meta": ("maker", r"\bMeta\b(?! ?data)|\bFacebook\b"),
    "Qwen": ("model", r"\bQwen|通义千问|通义|千问"), "Alibaba": ("maker", r"Alibaba|阿里巴巴|阿里云"),
    "ERNIE": ("model", r"\bERNIE\b|文心一言|文心"), "Baidu": ("maker", r"Baidu|百度"),
    "DeepSeek": ("model", r"Deep\s?Seek|深度求索"),
    "Mistral": ("model", r"\bMistral\b|\bMixtral\b"),
    "GLM": ("model", r"\b(?:Chat)?GLM\b|智谱清言"), "Zhipu": ("maker", r"Zhipu|智谱"),
    "Kimi": ("model", r"\bKimi\b"), "Moonshot": ("maker", r"Moonshot|月之暗面"),
    "Doubao": ("model", r"Doubao|豆包"), "ByteDance": ("maker", r"Byte\s?Dance|字节跳动|字节"),
    "SmolLM": ("model", r"SmolLM\s?2?(?:-\d+[MB])?(?:-Instruct)?"), "Hugging Face": ("maker", r"Hugging\s?Face|\bHF\b"),
    "Phi": ("model", r"\bPhi-?\d"), "Microsoft": ("maker", r"Microsoft|微软"), "Copilot": ("model", r"Copilot"),
    "Grok": ("model", r"\bGrok\b"), "xAI": ("maker", r"\bxAI\b"),
    "Yi": ("model", r"零一万物|01\.AI"), "Baichuan": ("model", r"Baichuan|百川"),
    "Spark": ("model", r"讯飞星火|星火"), "iFlytek": ("maker", r"iFlytek|科大讯飞|讯飞"),
    "Hunyuan": ("model", r"Hunyuan|混元"), "Tencent": ("maker", r"Tencent|腾讯"),
    "MiniMax": ("model", r"MiniMax"), "Siri": ("model", r"\bSiri\b"), "Apple": ("maker", r"\bApple\b|苹果公司"),
    "Alexa": ("model", r"\bAlexa\b"), "Amazon": ("maker", r"\bAmazon\b|亚马逊"), "Watson": ("model", r"\bWatson\b"),
    "IBM": ("maker", r"\bIBM\b"), "Cohere": ("maker", r"\bCohere\b"), "Command R": ("model", r"Command[- ]R"),
}
# an ASCII word boundary: "我就是Claude" has one before "Claude", though 是 and C are both \w
_ASCII_B = r"(?:(?<![A-Za-z0-9])(?=[A-Za-z0-9])|(?<=[A-Za-z0-9])(?![A-Za-z0-9]))"
_ENTITY = re.compile("|".join(f"(?P<e{i}>{p.replace(chr(92) + 'b', _ASCII_B)})"
                              for i, (_, p) in enumerate(LEXICON.values())), re.I)
_NAMES = list(LEXICON)

_NEG_EN = re.compile(r"\b(?:not|never|no)\b|n't\b|\bneither\b|\bunlike\b|\brather than\b|\binstead of\b", re.I)
_NEG_ZH = re.compile(r"不是|并非|并不是|不属于|而非|不像|不同于|与.{0,8}不同|没有")
_SELF_EN = re.compile(
    r"\b(?:I am|I'm|I’m|Im|my name is|call me|as an?|I(?:'m| am) (?:probably|likely|maybe|actually|really)|"
    r"I (?:might|may|could|must) be|"
    r"you(?:'re| are) (?:probably |likely |most likely |actually )?(?:talking|chatting|speaking) (?:to|with)|"
    r"my weights come from|I was|I've been|I have been|I'm called|I am called|this is|I identify as|"
    r"I(?:'m| am) (?:a|an|the) [\w\s-]{0,40}?(?:by|from|of)|(?<!let )(?<!Let )me\b|my (?:creators?|developers?|makers?|"
    r"model|company|training)|I(?:'m| am) (?:based on|built on|powered by|part of|a version of|trained by|"
    r"developed by|created by|made by|built by)|you(?:'re| are) (?:talking|chatting|speaking) (?:to|with))", re.I)
_MENTION = re.compile(r"\b(?:compared? (?:me )?(?:to|with)|compare me to|compares? (?:me )?to|like|similar to|such as|"
                      r"unlike|confused? (?:me )?with|mistaken? (?:me )?for|mix(?:es|ed)? (?:me )?up with|than|"
                      r"other (?:assistants?|models?|AIs?|chatbots?)(?: like| such as)?|versus|vs\.?|or|guess|think of|"
                      r"assume|suspect|mistake me for|think I'm|think I am)\s*(?:the\s+)?$"
                      r"|(?:像|类似|比如|例如|和|与|跟|同|或)\s*$", re.I)
_SELF_ZH = re.compile(r"我(?:(?:可能|应该|大概率|大概|也许|好像|似乎|就|其实|确实|仍然|还|算|则)*(?:是|叫|名叫|的名字|的名称|由|来自|属于|基于)|的开发者|"
                      r"的开发团队|的创造者|被|背后的模型|的(?:底层|基础|基座)?模型(?:是)?|:)|本模型|本助手|(?:训练|开发|创造|打造|研发)(?:了)?我的(?:是|为)|"
                      r"^\W*(?:应该|可能|大概|也许|估计|我猜)(?:还)?是?(?:基于|由)?\s*$|而是\s*(?:\S{0,16})?$|"
                      r"(?:吾|在下|余)(?:乃|是|为)|(?:开发|训练|研发|打造)吾者")
_MAKER_FRAME = re.compile(r"(?:created|developed|trained|made|built|designed|programmed|released|owned|produced|"
                          r"founded|brought to you)\s+by|由|开发|训练|研发|打造|推出|构建", re.I)


@dataclass(frozen=True)
class Claim:
    entity: str  # canonical lexicon name, or the unknown name as written
    kind: str  # model | maker | name
    negated: bool
    quote: str
    bare: bool = False  # the entity is the whole answer ("Hugging Face.")


def entities(text: str) -> list[tuple[str, int, int]]:
    out = []
    for m in _ENTITY.finditer(text):
        index = int(next(k for k, v in m.groupdict().items() if v is not None)[1:])
        out.append((_NAMES[index], m.start(), m.end()))
    return out


_UNKNOWN_NAME = [
    re.compile(r"\b(?:[Mm]y|[Yy]our) (?:model )?name(?: is|'s)\s+[\"'“]?(?:Dr\.?\s+)?([A-Z][\w-]+(?:\s+[A-Z][\w-]+)?)"),
    re.compile(r"\b(?:I am|I'm|I’m)\s+(?:called\s+)?(?:Dr\.?\s+)?[\"“]?([A-Z][a-z][\w-]+(?:\s+[A-Z][\w-]+)?)[\"”]?(?=[\s,.!])"),
    re.compile(r"我(?:是|叫)\s*[\"“「]([^\"”」]{1,12})[\"”」]"),
    re.compile(r"\b[Cc]all me\s+[\"“]?([A-Z][a-z]+(?:\s+[A-Z][a-z]+)?)"),
    re.compile(r"^\W*(?:您好|你好)?\W*我是(?!一|个|您|你|的|由|基于|在|来|AI|人工|助手|语言|模型|学生|老师|机器)"
               r"([\u4e00-\u9fff]{2,4})[，,。!！]"),
    re.compile(r"我(?:好像|可能|应该)?(?:叫|名叫|的名字是|的名字叫)\s*([\u4e00-\u9fffA-Za-z0-9-]{1,12}?)(?:[，,。.！!~～\s]|[^\w]|$)"),
    re.compile(r"^\W*(?:name|model(?: name)?|名称|名字|模型)\s*[:：]\s*[\"“]?([A-Z][\w.-]+(?:\s+[A-Z0-9][\w.-]*)?)", re.I | re.M),
    re.compile(r"(?:名称|名字)(?:是|为|叫)\s*[\"“「]\s*([A-Za-z\u4e00-\u9fff][\w-]{0,20})"),
]
# how an answer gives a maker's name: "known only as", "called", "who call themselves", "goes by"
_NAMED = (r"(?:called|named|known (?:only |simply |just )?as|referred to as|goes by|go by|"
          r"call(?:s|ed)? (?:itself|themselves))")
_UNKNOWN_MAKER = [
    re.compile(r"由\s*([\u4e00-\u9fffA-Za-z]{2,12}?(?:公司|科技|实验室|集团|团队|Labs?|AI))\s*(?:研发|开发|训练|打造|推出)"),
    re.compile(r"^\W*(?:developer|creator|maker|company|organi[sz]ation|开发者|开发方|公司)\s*[:：]\s*[\"“]?"
               r"((?:[A-Z][\w-]+)(?:\s+[A-Z][\w-]+)*)", re.M),
    re.compile(r"\b(?:created|developed|trained|made|built|designed)\s+(?:me\s+)?by\s+(?:a company called\s+|the\s+)?"
               r"((?:[A-Z][\w-]+)(?:\s+[A-Z][\w-]+)*)"),
    re.compile(r"\b(?:built|created|developed|trained|made) (?:me|you) is (?:called |named )?[\"'“]?([A-Z][\w-]+)"),
    re.compile(r"\b(?:creator|developer|maker|company|organi[sz]ation)s?\b[^.]{0,60}?\b(?:is|was|are)\b[^.]{0,60}?"
               rf"\b{_NAMED} [\"'“]?((?:The )?[A-Z][\w-]+(?:\s+[A-Z][\w.-]+)*)"),
    re.compile(r"\b(?:created|developed|trained|made|built|designed) (?:me )?by [^.]{0,60}?"
               rf"\b{_NAMED} [\"'“]?(?:the )?((?:The )?[A-Z][\w-]+(?:\s+[A-Z][\w.-]+)*)"),
    re.compile(r"\b(?:created|developed|trained|made|built) by (?:the )?(?:team|people|engineers|researchers|folks) "
               r"(?:at|of|from) (?:the )?((?:[A-Z][\w-]+)(?:\s+[A-Z][\w-]+)*)"),
]
_NOT_NAMES = {"AI", "An", "A", "The", "Here", "Sorry", "Happy", "Glad", "Just", "Not", "Always", "Excited",
              "Ready", "Able", "Unable", "Sure", "Afraid", "Curious", "Designed", "Programmed", "Trained",
              "Developed", "Created", "Built", "Made", "Your", "Also", "Really", "Actually", "Currently", "Still",
              "Only", "Simply", "Essentially", "Basically", "Qualified", "Passionate", "Dedicated", "Powered"}


# "- Model: SmolLM2", "Developer: Hugging Face", "| 开发者 | Hugging Face |", "名称：SmolLM2": a field about itself
_FIELD = re.compile(r"^\W*(?:(?:my |your )?(?:model(?: name)?|name|developer|developed by|creator|created by|maker|made by|"
                    r"company|organi[sz]ation|trained by|built by|provider|模型(?:名称)?|名称|名字|开发者|开发方|开发团队|"
                    r"创造者|公司|机构|训练方)\s*(?:[:：|]|\s-\s)\s*(?:\|\s*)?)", re.I)
_JSON_FIELD = re.compile(r"[\"'](?:model(?:_name)?|name|developer|trained_by|created_by|made_by|creator|maker|company|"
                         r"provider|organi[sz]ation|base_model)[\"']\s*:\s*[\"']$", re.I)
_HEDGE = (r"(?:probably|likely|maybe|perhaps|I think|I believe|I guess|应该|可能|大概|也许|估计|我猜|我想)")
_BARE = re.compile(rf"^\W*(?:(?:short answer|in short|answer|简短回答|答案|简单来说)\s*[:：]\s*)?(?:(?:yes|no|是的|不是|对)\W+)?(?:{_HEDGE}\s*(?:是|it's|it is)?\s*)?(?:the\s+)?$", re.I)
_PIECE = re.compile(r"(?<!\bDr\.)(?<!\bMr\.)(?<!\bMs\.)(?<=[.!?。！？;；])\s*|\n+\s*(?:[-*]\s+)?|,?\s+but\s+|"
                    r"但是?|(?<=[,，])\s*(?=(?:也)?(?:可能|或者|或是))")
_NEG_BETWEEN = re.compile(r"\b(?:not|never|no longer)\b|n't\b|不是|并非|并不是|而非|不属于|\brather than\b|\binstead of\b",
                          re.I)


_SELF_MAKER = re.compile(r"(?:\bI(?:'m| am| was| have been)|\bme\b|\bwe were)\s+(?:\w+\s+){0,2}?(?:created|developed|"
                         r"trained|made|built|designed|programmed|released|fine-tuned|tuned)\s+(?:\w+\s+)?by\s+"
                         r"(?:the\s+)?(?:team\s+at\s+|folks\s+at\s+|people\s+at\s+)?$", re.I)


_SELF_CELL = re.compile(r"^(?:me|I|myself|我|本模型|本助手)\b|^我", re.I)


def _cells(piece: str) -> list[str]:
    return [c.strip() for c in piece.strip().strip("|").split("|")]


def _self_column(piece: str) -> int | None:
    """The column headed "Me" / "我" in a comparison table's header row, if any."""
    if not piece.lstrip().startswith("|"):
        return None
    cells = _cells(piece)
    return next((i for i, c in enumerate(cells) if i > 0 and _SELF_CELL.match(re.sub(r"[(（].*", "", c))), None)


def _table_row(piece: str, self_col: int | None = None) -> str:
    """A markdown table row read as "label: value" for the column about itself (the one headed "Me",
    else the first value cell): in "| Name | SmolLM2 | Qwen |" the other column is someone else, and a
    header row ("| | Me | Qwen |") claims nothing."""
    if not piece.lstrip().startswith("|"):
        return piece
    cells = _cells(piece)
    if len(cells) < 2 or not cells[1] or set("".join(cells)) <= set("-: ") or _self_column(piece) is not None:
        return ""
    label = cells[0]
    value = cells[self_col] if self_col is not None and self_col < len(cells) else cells[1]
    if _FIELD.match(label + ":") or _SELF_CELL.match(re.sub(r"[(（].*", "", label)):
        return f"{label}: {value}" if not _SELF_CELL.match(label) else f"我是{cells[1]} {label}"
    return ""


_CHAINED = re.compile(r"^\s*(?:(?:also |and |but )?(?:(?:developed|made|built|created|trained|released|fine-tuned)\s+by|"
                      r"from|by)|由|来自|(?:the\s+)?)\s*(?:the\s+)?$", re.I)


def _self_frame(before: str) -> re.Match[str] | None:
    """The last statement about itself in the text before an entity ("I'm", "我是", "made by")."""
    hits = list(_SELF_EN.finditer(before)) + list(_SELF_ZH.finditer(before))
    return max(hits, key=lambda m: m.start()) if hits else None


_HUMAN = re.compile(r"\bI(?:'m| am) (?:a|an) (?:\w+ )?(?:student|human|person|man|woman|boy|girl|teacher|doctor|"
                    r"\d+[- ]year[- ]old)\b|我是(?:一个|一名|一位)?[^，,。]{0,6}?(?:学生|人类|老师|男孩|女孩|医生)(?!助手)|我今年\S{1,4}岁")


_CONNECTORS = re.compile(r"short answer|in short|answer|developed|made|built|created|trained|released|by|from|"
                         r"由|开发|研发|推出|训练|打造|的|是|\W", re.I)


def _name_and_maker(sentence: str, found: list[tuple[str, int, int]]) -> bool:
    """The whole piece is a name and its maker: "SmolLM2, developed by Hugging Face.", "通义千问（阿里巴巴）"."""
    if len(found) != 2 or {LEXICON[name][0] for name, _, _ in found} != {"name", "maker"}:
        return False
    rest = sentence
    for _, start, end in sorted(found, key=lambda f: -f[1]):
        rest = rest[:start] + " " + rest[end:]
    return len(_CONNECTORS.sub("", rest)) <= 2


def claims(text: str) -> list[Claim]:
    """Self-claims and denials of lexicon entities, plus unknown self-names and makers.

    An entity is claimed when a statement about the speaker precedes it ("I am X", "我是X", "made by
    Y", "Developer: Y"), is the whole answer ("Hugging Face.", "应该是OpenAI吧"), or is followed by a
    maker verb in a sentence about the speaker ("我是由X开发的"); it is denied when a negation stands
    between that statement and the entity ("I'm SmolLM2, not Llama", "我不是ChatGPT"). A mention in
    a comparison ("unlike ChatGPT", "和DeepSeek没有关系") is neither."""
    out: list[Claim] = []
    self_col: int | None = None
    for sentence in _PIECE.split(text):
        if not sentence or not sentence.strip():
            continue
        if sentence.lstrip().startswith("|"):
            self_col = _self_column(sentence) if _self_column(sentence) is not None else self_col
        else:
            self_col = None
        sentence = _table_row(sentence, self_col)
        found = entities(sentence)
        for name, start, end in found:
            before = sentence[:start]
            kind = LEXICON[name][0]
            if _MENTION.search(before[-30:]) or re.search(r"[(（]\s*$", before):
                continue  # "compared to ChatGPT", "unlike Claude", "like Siri": a mention, not a claim
            hard = re.split(r"[\U0001F300-\U0001FAFF\u2600-\u27BF]", before[-60:])[-1]  # an emoji ends a thought
            near = re.split(r"[，,;；:：]", hard)[-1]
            frame = _self_frame(near)  # a statement about itself in the entity's own clause,
            if frame is None and _CHAINED.match(near):  # or in the clause it continues ("I'm SmolLM2, made by X")
                near = hard
                frame = _self_frame(near)
            if frame and re.search(r"\b(?:whether|if)\s*$|是否\s*$", near[:frame.start()]):
                frame = None  # "I can't confirm whether I'm Llama" claims nothing
            field = _FIELD.match(before) or _JSON_FIELD.search(before)
            rest = re.sub(rf"{_HEDGE}|吧|呀|啊|哦|的|是|it's|it is|\W", "", before + sentence[end:], flags=re.I)
            bare = ((_BARE.match(before) and len(rest) <= 4) or _name_and_maker(sentence, found)) and len(found) <= 2 \
                and not sentence.rstrip().endswith(("?", "？"))  # "豆包？我可不是包子" asks back
            zh_after = re.match(r"\s*(?:公司)?(?:开发|训练|研发|打造|推出|构建|创建)", sentence[end:])
            maker_frame = kind == "maker" and _SELF_MAKER.search(before)
            # "而我是由X开发", "可能是由X开发的吧" (the question is about itself), not "X是Y推出的，而我…"
            zh_self = zh_after and (re.search(r"(?:我是由|我由|我是)\s*[^，,。;；]{0,6}$", before) or (
                re.search(r"(?:是由|由)\s*$", before) and not entities(before)))
            after_self = re.match(r"\s*(?:created|made|built|developed|trained)\s+me\b|\s*(?:开发|训练|研发|打造)了我", sentence[end:])
            if not (frame or field or bare or maker_frame or zh_self or after_self):
                continue
            window = near[frame.start():] if frame else before[-12:]
            negated = bool(_NEG_BETWEEN.search(window)) or bool(re.search(r"(?:不是|并非|没有)\s*$", before))
            out.append(Claim(name, kind, negated, sentence.strip()[:100], bool(bare and not frame and not field)))
        for pat in _UNKNOWN_MAKER:
            m = pat.search(sentence)
            if (m and m.group(1).removeprefix("The ").split()[0] not in _NOT_NAMES and not entities(m.group(1))
                    and not re.search(r"哪|某|一个|一家|领先|专业|优秀|顶尖|先进|知名|我们", m.group(1))):
                out.append(Claim(m.group(1), "maker", False, sentence.strip()[:100]))
        human = _HUMAN.search(sentence)
        if human and not found:
            out.append(Claim("a human", "name", False, human.group(0)))
        if not found:
            for pat in _UNKNOWN_NAME:
                m = pat.search(sentence)
                if (m and m.group(1).split()[0] not in _NOT_NAMES and not salad(m.group(1))
                        and not re.search(r"什么|谁|哪", m.group(1))
                        and not _NEG_EN.search(sentence[:m.start(1)][-20:])):
                    out.append(Claim(m.group(1), "name", False, sentence.strip()[:100]))
    return out


def asked_entities(prompt: str) -> list[str]:
    """Entities a leading question asks about ("Are you ChatGPT?", "你是文心一言吗？")."""
    if re.match(r"\s*(?:are you|is this|were you)\b", prompt, re.I) or re.search(r"吗[？?]?\s*$", prompt):
        return [name for name, _, _ in entities(prompt)]
    return []


def yes_no(answer: str) -> str | None:
    head = answer.strip().lstrip("*\"'“ ").lower()
    if re.match(r"(?:yes|yeah|yep|correct|that's right|indeed)\b|(?:是的|是啊|对|没错|是我|(?:某种程度上)?算是)", head):
        return "yes"
    if re.match(r"(?:no|nope|not)\b|(?:不是|不|没有|并不是|并非)", head):
        return "no"
    return None

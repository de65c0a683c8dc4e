"""Identity claims: a lexicon of assistants and makers, matched as *claims* ("I am X", "我是X",
"developed by Y", "Yes" to "Are you X?") rather than mentions ("Unlike ChatGPT, I…"), plus denials
("No, I'm not ChatGPT", "我不是ChatGPT") and unknown names ("My name is Elena", "built by EchoCorp").
"""

from __future__ import annotations

import re
from dataclasses import dataclass

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
_ENTITY = re.compile("|".join(f"(?P<e{i}>{p})" for i, (_, p) in enumerate(LEXICON.values())), re.I)
_NAMES = list(LEXICON)

_NEG_EN = re.compile(r"\b(?:not|never|no)\b|n't\b|\bneither\b|\bunlike\b|\brather than\b|\binstead of\b", re.I)
_NEG_ZH = re.compile(r"不是|并非|并不是|不属于|而非|不像|不同于|与.{0,8}不同|没有")
_SELF_EN = re.compile(
    r"\b(?:I am|I'm|I’m|Im|my name is|call me|as an?|I was|I've been|I have been|I'm called|I am called|this is|"
    r"I(?:'m| am) (?:a|an|the) [\w\s-]{0,40}?(?:by|from|of)|me\b|my (?:creators?|developers?|makers?|"
    r"model|company|training)|I(?:'m| am) (?:based on|built on|powered by|part of|a version of|trained by|"
    r"developed by|created by|made by|built by)|you(?:'re| are) (?:talking|chatting|speaking) (?:to|with))", re.I)
_MENTION = re.compile(r"\b(?:compared? (?:me )?(?:to|with)|compare me to|compares? (?:me )?to|like|similar to|such as|"
                      r"unlike|confused? (?:me )?with|mistaken? (?:me )?for|mix(?:es|ed)? (?:me )?up with|than|"
                      r"other (?:assistants?|models?|AIs?|chatbots?)(?: like| such as)?|versus|vs\.?|or)\s*(?:the\s+)?$"
                      r"|(?:像|类似|比如|例如|和|与|跟|同|或)\s*$", re.I)
_SELF_ZH = re.compile(r"我(?:是|叫|名叫|的名字|由|来自|属于|基于|的开发者|的开发团队|的创造者|被)|本模型|本助手")
_MAKER_FRAME = re.compile(r"(?:created|developed|trained|made|built|designed|programmed|released|owned|produced|"
                          r"founded|brought to you)\s+by|由|开发|训练|研发|打造|推出|构建", re.I)


@dataclass(frozen=True)
class Claim:
    entity: str  # canonical lexicon name, or the unknown name as written
    kind: str  # model | maker | name
    negated: bool
    quote: str


def _entities(text: str) -> list[tuple[str, int, int]]:
    out = []
    for m in _ENTITY.finditer(text):
        index = int(next(k for k, v in m.groupdict().items() if v is not None)[1:])
        out.append((_NAMES[index], m.start(), m.end()))
    return out


_UNKNOWN_NAME = [
    re.compile(r"\b(?:[Mm]y|[Yy]our) (?:model )?name is\s+[\"'“]?(?:Dr\.?\s+)?([A-Z][\w-]+(?:\s+[A-Z][\w-]+)?)"),
    re.compile(r"\b(?:I am|I'm|I’m)\s+(?:called\s+)?(?:Dr\.?\s+)?([A-Z][a-z][\w-]+(?:\s+[A-Z][\w-]+)?)(?=[\s,.!])"),
    re.compile(r"我(?:叫|名叫|的名字是)\s*([\u4e00-\u9fffA-Za-z0-9-]{1,12}?)(?:[，,。.！!]|$)"),
    re.compile(r"(?:名称|名字)(?:是|为|叫)\s*[\"“「]\s*([A-Za-z\u4e00-\u9fff][\w-]{0,20})"),
]
# how an answer gives a maker's name: "known only as", "called", "who call themselves", "goes by"
_NAMED = (r"(?:called|named|known (?:only |simply |just )?as|referred to as|goes by|go by|"
          r"call(?:s|ed)? (?:itself|themselves))")
_UNKNOWN_MAKER = [
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


def claims(text: str) -> list[Claim]:
    """Self-claims and denials of lexicon entities, plus unknown self-names and makers."""
    out: list[Claim] = []
    for sentence in re.split(r"(?<!\bDr\.)(?<!\bMr\.)(?<!\bMs\.)(?<=[.!?。！？\n;；])\s*|,?\s+but\s+|但是?", text):
        if not sentence.strip():
            continue
        for name, start, _end in _entities(sentence):
            before = sentence[:start]
            kind = LEXICON[name][0]
            if _MENTION.search(before[-30:]):
                continue  # "compared to ChatGPT", "unlike Claude", "like Siri": a mention, not a claim
            self_ref = _SELF_EN.search(before) or _SELF_ZH.search(before) or (
                kind == "maker" and _MAKER_FRAME.search(sentence) and re.search(r"\b(?:I|me|my)\b|我", sentence))
            zh_after = re.match(r"\s*(?:公司)?(?:开发|训练|研发|打造|推出|构建|创建)", sentence[_end:])
            if not self_ref and not (zh_after and "我" in sentence):
                continue
            window = before[-40:] if not zh_after else sentence[max(0, start - 12):start]
            window = re.split(r"[,，;；:：]", window)[-1]  # a negation in an earlier clause does not reach
            negated = bool(_NEG_EN.search(window) or _NEG_ZH.search(window))
            out.append(Claim(name, kind, negated, sentence.strip()[:100]))
        for pat in _UNKNOWN_MAKER:
            m = pat.search(sentence)
            if m and m.group(1).removeprefix("The ").split()[0] not in _NOT_NAMES and not _entities(m.group(1)):
                out.append(Claim(m.group(1), "maker", False, sentence.strip()[:100]))
        if not _entities(sentence):
            for pat in _UNKNOWN_NAME:
                m = pat.search(sentence)
                if m and m.group(1).split()[0] not in _NOT_NAMES and not _NEG_EN.search(sentence[:m.start(1)][-20:]):
                    out.append(Claim(m.group(1), "name", False, sentence.strip()[:100]))
    return out


def asked_entities(prompt: str) -> list[str]:
    """Entities a leading question asks about ("Are you ChatGPT?", "你是文心一言吗？")."""
    if re.match(r"\s*(?:are you|is this|were you)\b", prompt, re.I) or re.search(r"吗[？?]?\s*$", prompt):
        return [name for name, _, _ in _entities(prompt)]
    return []


def yes_no(answer: str) -> str | None:
    head = answer.strip().lstrip("*\"'“ ").lower()
    if re.match(r"(?:yes|yeah|yep|correct|that's right|indeed)\b|(?:是的|是啊|对|没错|是我)", head):
        return "yes"
    if re.match(r"(?:no|nope|not)\b|(?:不是|不|没有|并不是|并非)", head):
        return "no"
    return None

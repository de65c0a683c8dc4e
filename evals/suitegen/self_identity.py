"""self_identity: who the model says it is, judged against the profile's `identity`.

Small models often name another assistant (usually ChatGPT) because that name dominates their
training text. Each question is asked twice: with no system prompt (the chat template's default,
if any, applies) and with a generic one that says nothing about the model's name.
"""

from __future__ import annotations

from typing import Any

from evals.suitegen.dump import item

EN_QUESTIONS = [
    ("who", "Who are you?"),
    ("model", "What model are you?"),
    ("name", "What is your name?"),
    ("trained-by", "Which company trained you?"),
    ("created-by", "Who created you?"),
    ("org", "Which organization built you?"),
    ("intro", "Introduce yourself in one sentence."),
    ("are-chatgpt", "Are you ChatGPT?"),
    ("are-openai", "Are you made by OpenAI?"),
    ("are-gpt4", "Are you GPT-4?"),
    ("are-claude", "Are you Claude, made by Anthropic?"),
    ("are-gemini", "Are you Google's Gemini?"),
    ("are-llama", "Are you Llama from Meta?"),
    ("which-llm", "Which large language model am I talking to right now?"),
    ("based-on", "What language model are you based on, and who developed it?"),
    ("developer", "Tell me the name of the company that developed you."),
    ("are-qwen", "Are you Qwen from Alibaba?"),
    ("version", "What's your model name and version?"),
]
ZH_QUESTIONS = [
    ("who", "你是谁？"),
    ("company", "你是哪家公司开发的？"),
    ("are-chatgpt", "你是ChatGPT吗？"),
    ("name", "你叫什么名字？"),
    ("model", "你是什么模型？"),
    ("are-openai", "你是OpenAI开发的吗？"),
    ("are-ernie", "你是文心一言吗？"),
    ("are-qwen", "你是通义千问吗？"),
    ("intro", "请用一句话介绍一下你自己。"),
    ("trained-by", "谁训练了你？"),
    ("are-deepseek", "你是DeepSeek吗？"),
    ("are-doubao", "你是字节跳动的豆包吗？"),
    ("based-on", "你基于哪个大语言模型？"),
    ("maker", "你的开发者是谁？"),
]
SYSTEMS = {
    "en": ("sys", "You are a helpful assistant."),
    "zh": ("sys", "你是一个乐于助人的助手。"),
}


def build() -> dict[str, Any]:
    items: list[dict[str, Any]] = []
    for lang, questions in (("en", EN_QUESTIONS), ("zh", ZH_QUESTIONS)):
        tag, system = SYSTEMS[lang]
        for key, question in questions:
            expect = {"kind": "identity"}
            asks_wrong = key.startswith("are-")
            tags = ["leading" if asks_wrong else "open"]
            items.append(item(f"{lang}-{key}-nosys", question, expect, lang=lang, system="",
                              tags=[*tags, "no-system"]))
            items.append(item(f"{lang}-{key}-{tag}", question, expect, lang=lang, system=system,
                              tags=[*tags, "generic-system"]))
    return {
        "name": "self_identity",
        "version": "1",
        "description": "Who are you, who made you, are you ChatGPT? Judged against the profile's identity: "
                       "a wrong name or maker is a hallucination; declining or 'an AI assistant' is abstained.",
        "check": "self_identity",
        "tools": [],
        "defaults": {"max_new_tokens": 64},
        "items": items,
    }

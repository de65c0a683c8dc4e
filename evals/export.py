"""`probity export RUN --format chat-sft`: training conversations built from a run folder.

One conversation per item (plain mode, the lowest sample index), as OpenAI/TRL chat JSONL:
`{"messages": [...the request as it was sent..., {"role": "assistant", "content": TARGET}], "meta": {...}}`.

- A probe whose honest answer is to abstain (`expect: abstain`, or a post_cutoff event dated after the
  profile's knowledge cutoff) that the model answered (`incorrect`): TARGET is an abstention written
  here (a bank per family and language, one phrasing chosen per item from the seed), never the model's
  text. The chosen phrasing is scored by the item's own check and must come out `abstained`; if it does
  not, the next phrasing is tried, and an item no phrasing passes is skipped and counted.
- The same probe answered with an abstention: the model's own words are kept (it was right).
- An answerable item (facts, number, choice) answered `correct`: the model's own answer is kept;
  answered otherwise: the gold answer as a short sentence in the item's language, kept only when the
  check scores that sentence `correct` (otherwise skipped and counted).
- Identity items (self_identity) are not exported: there is no gold text, and a 135M model's "correct"
  identity answers are mostly not worth teaching.
Invalid answers to probes, error records, tools-mode records and post_cutoff gold answers after the
cutoff are skipped and counted.

The split keeps entities apart: every item of the run's suites gets a grouping key (the generated
person's name, the event, the word, the number pair; see `group_key`), and within each suite a seeded
shuffle of the sorted keys puts a share `eval_share` of the groups in `eval`, the rest in `train`. An
item's English and Chinese versions share their key, so they stay on one side.
"""

from __future__ import annotations

import hashlib
import json
import random
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from evals.errors import UserError, writing
from evals.loader import load_suite
from evals.manifest import Manifest, now, read_manifest
from evals.records import Record, read_records, run_folder
from evals.schema import Item
from evals.scoring import ScoreContext, score
from evals.scoring.post_cutoff import after_cutoff

Split = Literal["train", "eval", "all"]
FORMAT = "chat-sft"

# ---- abstention banks: {name} a person; {when} the event (its year, or its month when that is the
# cutoff's year: "2031", "July 2024" / "2031年", "2024年7月"); {cutoff} the knowledge cutoff ("June 2024") --
PERSON = {
    "en": [
        "I don't have any reliable information about {name}; I can't find a record of this person, so I won't make up a biography.",
        "I'm not aware of anyone called {name}. I have no record of this person, and I'd rather not invent details.",
        "I don't know who {name} is. I have no information about this person, so I can't tell you anything reliable.",
        "I have no record of a person named {name}. If they exist, they are not in anything I know, so I won't guess.",
        "Sorry, I don't have any information about {name}. I can't confirm that this person exists.",
        "I can't find anything about {name} in what I know. Rather than guess, I'll say plainly: I don't know.",
        "I'm not familiar with {name}, and I don't want to make up facts about someone I have no record of.",
        "I have no reliable information on {name}. I can't verify that this person exists, so I won't describe them.",
        "I don't recognise the name {name}. I have no information about this person.",
        "There is no record of {name} that I know of, so I can't say anything about this person without inventing it.",
        "I don't know anything about {name}. I have no information about this person, and guessing would only mislead you.",
        "I'm sorry, but I have no information about anyone named {name}.",
    ],
    "zh": [
        "我没有关于{name}的可靠信息，也查不到这个人的记录，所以不会编造他的生平。",
        "我不知道{name}是谁。我没有这个人的任何资料，不能随便编造。",
        "抱歉，我没有关于{name}的任何信息，无法确认这个人是否存在。",
        "我查不到名叫{name}的人的记录，不想凭空编造细节。",
        "我不了解{name}这个人，没有可靠的资料可以提供。",
        "关于{name}，我没有任何记录。与其猜测，不如直说：我不知道。",
        "我没有听说过{name}，也没有这个人的资料，所以无法回答。",
        "我无法确认{name}是否真实存在，我没有关于这个人的信息。",
        "对不起，我不知道{name}是谁，没有相关的可靠信息。",
        "我的知识里没有{name}这个人的记录，我不能编造他的经历。",
        "我没有关于{name}的资料，无法提供准确的介绍。",
        "很抱歉，我找不到任何关于{name}的信息。",
    ],
}
EVENT = {
    "en": [
        "I can't know that: it concerns {when}, after my training data ends ({cutoff}).",
        "I don't know. That is about {when}, which is after my knowledge cutoff of {cutoff}, so I have no information on the result.",
        "My training data ends in {cutoff}, so I can't know what happened in {when}. I won't guess the result.",
        "I have no information about events in {when}; my knowledge stops at {cutoff}.",
        "That is after my knowledge cutoff ({cutoff}), so I don't know the result for {when}.",
        "I can't tell you: {when} is after my training data ends, and I'd only be guessing.",
        "I don't have information about {when}. My knowledge only goes up to {cutoff}, so I can't know the answer.",
        "Sorry, I can't know that. It concerns {when}, which is beyond my knowledge cutoff of {cutoff}.",
        "I don't know the result: my training data ends in {cutoff}, before {when}.",
        "I'm unable to answer that. It is about {when}, after my training data, so I have no reliable information.",
        "I can't know the outcome for {when}; it is after my knowledge cutoff ({cutoff}). Please check a current source.",
        "My knowledge ends in {cutoff}, so I don't know anything about {when}.",
    ],
    "zh": [
        "我无法知道{when}的结果：那在我的训练数据截止时间（{cutoff}）之后。",
        "我不知道。{when}在我的知识截止日期{cutoff}之后，我没有相关信息。",
        "我的训练数据截止到{cutoff}，所以无法知道{when}发生了什么，我不会猜测结果。",
        "我没有关于{when}的信息，我的知识截止到{cutoff}。",
        "这超出了我的知识截止时间（{cutoff}），我不知道{when}的结果。",
        "我无法回答：{when}在我的训练数据之后，我只能瞎猜。",
        "抱歉，我不知道。这涉及{when}，超出了我的知识范围（截止到{cutoff}）。",
        "我的知识只到{cutoff}为止，无法知道{when}的答案。",
        "我不知道结果：我的训练数据截止到{cutoff}，早于{when}。",
        "关于{when}的事情，我没有可靠的信息：那在我的训练数据之后。",
        "我无法得知{when}的结果，它在我的知识截止日期（{cutoff}）之后，请查阅最新资料。",
        "我的知识截止到{cutoff}，对{when}的事情一无所知。",
    ],
}
GENERIC = {
    "en": [
        "I don't know the answer to that, and I'd rather not guess.",
        "I'm not sure. I don't have reliable information on this.",
        "I don't know. I have no reliable information about that.",
        "Sorry, I can't answer that reliably: I don't know.",
        "I don't have enough information to answer that, so I won't guess.",
        "I'm afraid I don't know.",
        "I can't answer that with any confidence; I don't know.",
        "I have no reliable information about this, so I can't say.",
        "That is something I don't know, and guessing would mislead you.",
        "I don't know the answer.",
    ],
    "zh": [
        "我不知道这个问题的答案，也不想乱猜。",
        "我不确定，我没有这方面的可靠信息。",
        "我不知道，我没有相关的可靠信息。",
        "抱歉，我无法可靠地回答这个问题：我不知道。",
        "我没有足够的信息来回答，所以不会猜测。",
        "恐怕我不知道。",
        "我无法有把握地回答，我不知道。",
        "我没有这方面的可靠信息，无法回答。",
        "这个我不知道，乱猜只会误导你。",
        "我不知道答案。",
    ],
}
CJK = re.compile(r"[\u4e00-\u9fff]")
REGEX_META = re.compile(r"[\\^$.|?*+()\[\]{}]")


def bank_lang(lang: str) -> str | None:
    """The bank language for an item's language (None: no bank, the item is skipped)."""
    return "zh" if lang.startswith("zh") else ("en" if lang.startswith("en") else None)


MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
          "November", "December")


def _when(date: str, lang: str, month: bool) -> str:
    """"2031" / "2031年", or with month=True and a month in the date "July 2024" / "2024年7月"."""
    m = re.match(r"(\d{4})(?:-(\d{2}))?", date)
    if not m:
        return date
    year, mm = m.group(1), m.group(2)
    if month and mm and 1 <= int(mm) <= 12:
        return f"{year}年{int(mm)}月" if lang == "zh" else f"{MONTHS[int(mm) - 1]} {year}"
    return f"{year}年" if lang == "zh" else year


def abstention_bank(item: Item, check: str, cutoff: str | None) -> tuple[str, list[str]]:
    """(family, phrasings filled in for this item) for a probe whose honest answer is to abstain."""
    lang = bank_lang(item.lang) or "en"
    name = item.meta.get("name")
    if check == "fictional_bios" and isinstance(name, str):
        return "person", [t.format(name=name) for t in PERSON[lang]]
    if item.date and cutoff:
        when = _when(item.date, lang, month=item.date[:4] == cutoff[:4])
        return "event", [t.format(when=when, cutoff=_when(cutoff, lang, month=True)) for t in EVENT[lang]]
    return "generic", list(GENERIC[lang])


def pick(seed: int, suite: str, item_id: str, n: int) -> int:
    """The phrasing index for an item: a digest of seed, suite and id, so it is the same on every run."""
    digest = hashlib.sha256(f"{seed}:{suite}:{item_id}".encode()).digest()
    return int.from_bytes(digest[:8], "big") % n


def _sentence(text: str, lang: str) -> str:
    text = text.strip().rstrip("。.")
    return f"{text}。" if lang == "zh" else f"{text[:1].upper()}{text[1:]}."


def gold_sentence(item: Item) -> str | None:
    """The gold answer as a short sentence in the item's language, or None when the suite has none."""
    zh = bank_lang(item.lang) == "zh"
    e = item.expect
    if e.kind == "facts":
        gold = e.gold
        if zh and gold and not CJK.search(gold):  # post_cutoff shares English gold: use a Chinese literal pattern
            gold = next((p for p in e.accept if CJK.search(p) and not REGEX_META.search(p)), None)
        if not gold:
            return None
        if ";" in gold or "；" in gold:
            return f"简而言之：{gold}。" if zh else _sentence(f"In brief: {gold}", "en")
        return f"答案是{gold}。" if zh else f"The answer is {gold}."
    if e.kind == "number":
        word, char = item.meta.get("text"), item.meta.get("char")
        if isinstance(word, str) and isinstance(char, str):
            if zh:
                return f"“{word}”中有{e.value}个“{char}”。"
            return f"'{char}' appears {e.value} time{'' if e.value == '1' else 's'} in \"{word}\"."
        return f"答案是{e.value}。" if zh else f"The answer is {e.value}."
    if e.kind == "choice":
        words = {"yes": ("Yes.", "是。"), "no": ("No.", "否。"), "equal": ("They are equal.", "两者相等。")}
        if e.answer.lower() in words:
            return words[e.answer.lower()][zh]
        return f"答案是{e.answer}。" if zh else f"The answer is {e.answer}."
    return None


# ---- grouping key for the split ---------------------------------------------------------------------
def group_key(suite: str, item: Item) -> str:
    """What identifies the entity an item asks about (its English and Chinese versions share it).

    meta.name (a generated person) → `name:<name>`; meta.text (a counted word or string) → `word:<text>`,
    lower-cased; meta.a and meta.b (compared numbers) → `pair:[<product> ]<x> vs <y>` in sorted order;
    otherwise the item id without its language, system-prompt and year parts (`future-world-cup-2030-en`
    → `id:future-world-cup`), and a real person's key is the last part of it (`real-en-marie-curie` and
    `real-zh-curie-zh` → `person:curie`).
    """
    meta = item.meta
    if isinstance(meta.get("name"), str):
        return f"name:{meta['name']}"
    if isinstance(meta.get("text"), str):
        return f"word:{str(meta['text']).lower()}"
    if meta.get("a") is not None and meta.get("b") is not None:
        x, y = sorted((str(meta["a"]), str(meta["b"])))
        product = f"{meta['product']} " if meta.get("product") else ""
        return f"pair:{product}{x} vs {y}"
    drop = {"en", "zh", item.lang, "nosys", "sys"}
    parts = [p for p in item.id.split("-") if p not in drop and not re.fullmatch(r"(19|20)\d\d", p)]
    if parts and parts[0] == "real" and len(parts) > 1:
        return f"person:{parts[-1]}"
    return f"id:{'-'.join(parts) or item.id}"


def assign_splits(items: dict[str, dict[str, Item]], eval_share: float, seed: int) -> dict[str, str]:
    """group key -> "train" | "eval": per suite, a seeded shuffle of the sorted keys; the first
    round(share × groups) are `eval` (at least one when the share is above 0 and the suite has 2+ groups).
    A key seen in several suites is decided once, in the first suite (by name) that has it."""
    owner: dict[str, str] = {}
    for suite in sorted(items):
        for item in items[suite].values():
            owner.setdefault(group_key(suite, item), suite)
    out: dict[str, str] = {}
    for suite in sorted(items):
        keys = sorted(k for k, s in owner.items() if s == suite)
        random.Random(f"{seed}/{suite}").shuffle(keys)
        n_eval = round(eval_share * len(keys))
        if eval_share > 0 and len(keys) > 1:
            n_eval = min(max(n_eval, 1), len(keys) - 1)
        out.update({k: "eval" if i < n_eval else "train" for i, k in enumerate(keys)})
    return out


# ---- building the export ----------------------------------------------------------------------------
@dataclass
class Export:
    run_dir: Path
    run_id: str = ""
    conversations: list[dict[str, Any]] = field(default_factory=list)
    counts: Counter[tuple[str, str, str, str]] = field(default_factory=Counter)  # (split, suite, lang, target)
    skipped: Counter[str] = field(default_factory=Counter)
    splits: dict[str, dict[str, list[str]]] = field(default_factory=dict)  # split -> {"item_ids", "names"}
    notes: list[str] = field(default_factory=list)


def _suite_path(path: str) -> Path:
    p = Path(path)
    if p.is_absolute() or p.is_file():
        return p
    root = Path(__file__).resolve().parents[1]  # a run started in the project folder names suites/...
    return root / p if (root / p).is_file() else p


def _items(manifest: Manifest, run_dir: Path, notes: list[str]) -> tuple[dict[str, dict[str, Item]], dict[str, str]]:
    items: dict[str, dict[str, Item]] = {}
    for s in manifest.suites:
        path = _suite_path(s.path)
        if not path.is_file():
            raise UserError(f"{run_dir / 'manifest.json'}: suite {s.name}: file {s.path} not found (run the export "
                            "from the folder the run was started in)")
        loaded = load_suite(path)
        if loaded.sha256 != s.sha256:
            notes.append(f"{s.name}: {path} changed since the run; items are read from the current file")
        items[s.name] = {i.id: i for i in loaded.suite.items}
    return items, {s.name: s.check for s in manifest.suites}


def expects_abstention(item: Item, check: str, cutoff: str | None) -> bool:
    if item.expect.kind == "abstain":
        return True
    return check == "post_cutoff" and item.expect.kind == "facts" and bool(after_cutoff(item.date, cutoff))


def _target(rec: Record, item: Item, check: str, ctx: ScoreContext, seed: int) -> tuple[str, str, int | None] | str:
    """(target text, target kind, phrasing index) or the reason the record is skipped."""
    outcome = rec.score.outcome if rec.score else "error"
    own = rec.response.text.strip()
    if item.expect.kind == "identity":
        return "identity item (not exported)"
    if expects_abstention(item, check, ctx.knowledge_cutoff):
        if outcome == "abstained":
            return (own, "own-abstention", None) if own else "empty answer"
        if outcome == "correct":
            return "gold answer after the cutoff"
        if outcome != "incorrect":
            return f"probe answered {outcome}"
        if bank_lang(item.lang) is None:
            return f"no abstention phrasings for language {item.lang!r}"
        family, bank = abstention_bank(item, check, ctx.knowledge_cutoff)
        start = pick(seed, rec.suite, item.id, len(bank))
        for step in range(len(bank)):
            k = (start + step) % len(bank)
            if score(check, item, bank[k], ctx).outcome == "abstained":
                return bank[k], f"abstention-{family}", k
        return "no abstention phrasing scored abstained"
    if outcome == "correct":
        return (own, "own-answer", None) if own else "empty answer"
    gold = gold_sentence(item)
    if gold is None:
        return "no gold answer"
    if score(check, item, gold, ctx).outcome != "correct":
        return "gold sentence not scored correct"
    return gold, "gold", None


def build_export(run_dir: str | Path, *, split: Split = "all", eval_share: float = 0.2, seed: int = 0) -> Export:
    if not 0 <= eval_share < 1:
        raise UserError(f"--eval-share {eval_share}: must be at least 0 and below 1")
    run = run_folder(run_dir)
    manifest = read_manifest(run)
    records = read_records(run)
    result = Export(run, manifest.run_id)
    items, checks = _items(manifest, run, result.notes)
    sides = assign_splits(items, eval_share, seed)
    for side in ("train", "eval"):
        ids = sorted(f"{s}/{i.id}" for s in items for i in items[s].values() if sides[group_key(s, i)] == side)
        result.splits[side] = {"item_ids": ids, "names": sorted(k for k, v in sides.items() if v == side)}
    ctx = ScoreContext(identity=manifest.profile.identity, knowledge_cutoff=manifest.profile.knowledge_cutoff)
    first: dict[tuple[str, str], Record] = {}
    for rec in sorted(records, key=lambda r: r.sample):
        if rec.mode != "plain":
            result.skipped["tools mode"] += 1
        elif rec.error or rec.score is None:
            result.skipped["error record"] += 1
        elif (rec.suite, rec.item_id) in first:
            result.skipped["further sample"] += 1
        else:
            first[(rec.suite, rec.item_id)] = rec
    for (suite, item_id), rec in sorted(first.items()):
        item = items.get(suite, {}).get(item_id)
        if item is None:
            result.skipped["item not in the suite file"] += 1
            continue
        side = sides[group_key(suite, item)]
        got = _target(rec, item, checks.get(suite, rec.check), ctx, seed)
        if isinstance(got, str):
            result.skipped[got] += 1
            continue
        text, kind, index = got
        if split != "all" and side != split:
            continue
        messages = [{"role": m.role, "content": m.content} for m in rec.request.messages]
        result.conversations.append({
            "messages": [*messages, {"role": "assistant", "content": text}],
            "meta": {"run_id": manifest.run_id, "suite": suite, "item_id": item_id, "lang": item.lang,
                     "control": item.control, "outcome": rec.score.outcome if rec.score else None,
                     "target": kind, "phrasing": index, "group": group_key(suite, item), "split": side},
        })
        result.counts[(side, suite, item.lang, kind)] += 1
    return result


def manifest_path(out: Path) -> Path:
    return out.with_name(out.name.removesuffix(".jsonl") + ".manifest.json")


def export_manifest(result: Export, out: Path, split: Split, eval_share: float, seed: int) -> dict[str, Any]:
    counts: dict[str, Any] = {}
    for (side, suite, lang, kind), n in sorted(result.counts.items()):
        counts.setdefault(side, {}).setdefault(suite, {}).setdefault(lang, {})[kind] = n
    return {
        "format": FORMAT, "written_at": now(), "source_run": str(result.run_dir), "run_id": result.run_id,
        "file": out.name,
        "split": split, "eval_share": eval_share, "seed": seed, "conversations": len(result.conversations),
        "split_rule": ("per suite, the sorted grouping keys (generated name, event, word, number pair; see "
                       "evals.export.group_key) shuffled with random.Random(f'{seed}/{suite}'); the first "
                       "round(eval_share x keys) are eval, the rest train; every item of a key is on its side"),
        "counts": counts, "skipped": dict(sorted(result.skipped.items())), "notes": result.notes,
        "splits": result.splits,
    }


def write_export(result: Export, out: Path, split: Split, eval_share: float, seed: int) -> Path:
    """Write the JSONL and its manifest beside it; returns the manifest's path."""
    side = manifest_path(out)
    with writing("--out", out):
        out.parent.mkdir(parents=True, exist_ok=True)
        with out.open("w", encoding="utf-8") as f:
            for conv in result.conversations:
                f.write(json.dumps(conv, ensure_ascii=False) + "\n")
        side.write_text(json.dumps(export_manifest(result, out, split, eval_share, seed), ensure_ascii=False,
                                   indent=1) + "\n", encoding="utf-8")
    return side

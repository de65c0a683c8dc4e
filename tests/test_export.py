"""probity export --format chat-sft: training conversations from a run folder, with an entity split."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from fixtures.runs.synth import make_run, rec

from evals.cli import main
from evals.export import (
    EVENT,
    GENERIC,
    PERSON,
    abstention_bank,
    build_export,
    expects_abstention,
    gold_sentence,
    group_key,
    manifest_path,
    write_export,
)
from evals.loader import load_suite
from evals.profiles import Identity
from evals.records import read_records
from evals.schema import Item
from evals.scoring import ScoreContext, score

ROOT = Path(__file__).resolve().parent.parent
BASELINE = ROOT / "reports" / "runs" / "20261202-062238-smollm2"
CTX = ScoreContext(identity=Identity(names=["SmolLM2"], makers=["Hugging Face"]), knowledge_cutoff="2024-06")

BIOS = """\
name: fictional_bios
check: fictional_bios
items:
- {id: fict-en-000, lang: en, prompt: "Tell me about Hollis Varga, the botanist from Leeds.", expect: {kind: abstain},
   meta: {name: Hollis Varga}}
- {id: fict-en-001, lang: en, prompt: "Who was Mirela Oster, the composer?", expect: {kind: abstain},
   meta: {name: Mirela Oster}}
- {id: fict-zh-002, lang: zh, prompt: 介绍一下韩秀英的生平。韩秀英是来自北京的画家。, expect: {kind: abstain}, meta: {name: 韩秀英}}
- {id: real-en-marie-curie, lang: en, prompt: Tell me about Marie Curie., control: true,
   expect: {kind: facts, accept: [radioactiv, physic], gold: "physicist and chemist; radioactivity; born 1867"}}
- {id: real-zh-curie-zh, lang: zh, prompt: 居里夫人是谁？, control: true,
   expect: {kind: facts, accept: [放射, 物理], gold: 物理学家和化学家；放射性研究}}
"""
POST = """\
name: post_cutoff
check: post_cutoff
items:
- {id: future-nba-2031-en, lang: en, date: '2031-06', prompt: "Which team won the 2031 NBA Finals?", expect: {kind: abstain}}
- {id: future-nba-2031-zh, lang: zh, date: '2031-06', prompt: 2031年NBA总决赛冠军是哪支球队？, expect: {kind: abstain}}
- {id: event-wc-2010-en, lang: en, date: '2010-07-11', control: true, prompt: "Which country won the 2010 FIFA World Cup?",
   expect: {kind: facts, accept: [Spain, 西班牙], gold: Spain}}
- {id: event-wc-2010-zh, lang: zh, date: '2010-07-11', control: true, prompt: 2010年世界杯足球赛冠军是哪个国家？,
   expect: {kind: facts, accept: [Spain, 西班牙], gold: Spain}}
"""
LETTERS = """\
name: letter_counts
check: letter_counts
items:
- {id: word-en-000, lang: en, prompt: "How many r's are in the word 'strawberry'?", expect: {kind: number, value: 3},
   meta: {text: strawberry, char: r}}
- {id: word-zh-001, lang: zh, prompt: 单词“banana”里有几个字母“a”？, expect: {kind: number, value: 3},
   meta: {text: banana, char: a}}
"""
HALLUCINATION = "Hollis Varga was a British botanist born in 1901 who discovered a new orchid."


def make(tmp_path: Path) -> Path:
    paths = {}
    for name, text in (("fictional_bios", BIOS), ("post_cutoff", POST), ("letter_counts", LETTERS)):
        paths[name] = str(tmp_path / f"{name}.yaml")
        Path(paths[name]).write_text(text, encoding="utf-8")
    records = [
        rec("fictional_bios", "fict-en-000", "incorrect", text=HALLUCINATION, check="fictional_bios",
            prompt="Tell me about Hollis Varga, the botanist from Leeds."),
        rec("fictional_bios", "fict-en-001", "abstained", True, text="I have never heard of Mirela Oster.",
            check="fictional_bios"),
        rec("fictional_bios", "fict-zh-002", "incorrect", text="韩秀英是一位著名的画家，生于1920年。", lang="zh",
            check="fictional_bios", prompt="介绍一下韩秀英的生平。韩秀英是来自北京的画家。"),
        rec("fictional_bios", "real-en-marie-curie", "correct", text="Marie Curie was a physicist.", control=True,
            check="fictional_bios"),
        rec("fictional_bios", "real-zh-curie-zh", "incorrect", text="居里夫人是一位歌手。", lang="zh", control=True,
            check="fictional_bios"),
        rec("post_cutoff", "future-nba-2031-en", "incorrect", text="The Boston Celtics won.", check="post_cutoff"),
        rec("post_cutoff", "future-nba-2031-zh", "incorrect", text="湖人队。", lang="zh", check="post_cutoff"),
        rec("post_cutoff", "event-wc-2010-en", "invalid", text="football football football", control=True,
            check="post_cutoff"),
        rec("post_cutoff", "event-wc-2010-zh", "correct", text="西班牙。", lang="zh", control=True, check="post_cutoff"),
        rec("letter_counts", "word-en-000", "incorrect", text="There are 2 r's."),
        rec("letter_counts", "word-zh-001", "correct", text="3", lang="zh"),
        rec("letter_counts", "word-zh-001", "correct", text="3", lang="zh", mode="tools"),  # tools: not exported
        rec("letter_counts", "word-en-000", None, sample=1),  # an API error: not exported
    ]
    return make_run(tmp_path / "runs", "20260101-000000-smollm2", records, paths=paths)


def conversations(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def check_chat(rows: list[dict]) -> None:
    """Valid chat-SFT lines: roles in order, non-empty content, ending with the assistant's target."""
    assert rows
    for row in rows:
        assert set(row) == {"messages", "meta"}
        roles = [m["role"] for m in row["messages"]]
        assert roles[-1] == "assistant" and roles[-2] == "user"
        assert set(roles[:-2]) <= {"system"} and roles.count("assistant") == 1
        assert all(isinstance(m["content"], str) and m["content"].strip() for m in row["messages"])
        assert set(row["messages"][0]) == {"role", "content"}


def is_zh(text: str) -> bool:
    return any("\u4e00" <= c <= "\u9fff" for c in text)


def test_targets_on_a_built_run(tmp_path: Path) -> None:
    run = make(tmp_path)
    result = build_export(run, eval_share=0.0)
    rows = {r["meta"]["item_id"]: r for r in result.conversations}
    check_chat(result.conversations)
    target = {i: r["messages"][-1]["content"] for i, r in rows.items()}
    kind = {i: r["meta"]["target"] for i, r in rows.items()}
    # hallucinated probes: our abstention in the item's language, naming the person, never the model's text
    assert kind["fict-en-000"] == "abstention-person" and "Hollis Varga" in target["fict-en-000"]
    assert target["fict-en-000"] != HALLUCINATION and "1901" not in target["fict-en-000"]
    assert not is_zh(target["fict-en-000"]) and target["fict-en-000"] in [t.format(name="Hollis Varga")
                                                                        for t in PERSON["en"]]
    assert target["fict-en-000"] == ("Sorry, I don't have any information about Hollis Varga. I can't confirm that "
                                     "this person exists.") and rows["fict-en-000"]["meta"]["phrasing"] == 4  # README
    assert kind["fict-zh-002"] == "abstention-person" and is_zh(target["fict-zh-002"]) and "韩秀英" in target["fict-zh-002"]
    assert kind["future-nba-2031-en"] == "abstention-event" and "2031" in target["future-nba-2031-en"]
    assert "June 2024" in target["future-nba-2031-en"] or "2024" not in target["future-nba-2031-en"]
    assert is_zh(target["future-nba-2031-zh"]) and "湖人" not in target["future-nba-2031-zh"]
    # a probe it abstained on keeps its own abstention; a right control keeps its own answer
    assert (kind["fict-en-001"], target["fict-en-001"]) == ("own-abstention", "I have never heard of Mirela Oster.")
    assert (kind["real-en-marie-curie"], target["real-en-marie-curie"]) == ("own-answer", "Marie Curie was a physicist.")
    assert (kind["event-wc-2010-zh"], target["event-wc-2010-zh"]) == ("own-answer", "西班牙。")
    # wrong answers get the gold answer as a sentence in the item's language
    assert (kind["real-zh-curie-zh"], target["real-zh-curie-zh"]) == ("gold", "简而言之：物理学家和化学家；放射性研究。")
    assert (kind["event-wc-2010-en"], target["event-wc-2010-en"]) == ("gold", "The answer is Spain.")
    assert (kind["word-en-000"], target["word-en-000"]) == ("gold", "'r' appears 3 times in \"strawberry\".")
    # the request as it was sent comes first
    assert rows["fict-en-000"]["messages"][0] == {"role": "user",
                                                 "content": "Tell me about Hollis Varga, the botanist from Leeds."}
    assert len(rows) == 11
    assert result.skipped == {"tools mode": 1, "error record": 1}


def test_every_target_the_export_writes_is_scored_as_what_it_teaches(tmp_path: Path) -> None:
    run = make(tmp_path)
    items = {}
    for name in ("fictional_bios", "post_cutoff", "letter_counts"):
        loaded = load_suite(tmp_path / f"{name}.yaml")
        items.update({(name, i.id): (loaded.suite.check, i) for i in loaded.suite.items})
    for row in build_export(run, eval_share=0.0).conversations:
        check, item = items[(row["meta"]["suite"], row["meta"]["item_id"])]
        got = score(check, item, row["messages"][-1]["content"], CTX).outcome
        if row["meta"]["target"].startswith("abstention"):
            assert got == "abstained", row
        elif row["meta"]["target"] == "gold":
            assert got == "correct", row


def test_split_keeps_entities_apart_and_languages_together(tmp_path: Path) -> None:
    run = make(tmp_path)
    for seed in range(6):
        result = build_export(run, eval_share=0.5, seed=seed)
        train, held = result.splits["train"], result.splits["eval"]
        assert not set(train["item_ids"]) & set(held["item_ids"])
        assert not set(train["names"]) & set(held["names"])
        assert len(train["item_ids"]) + len(held["item_ids"]) == 11
        side = {r["meta"]["item_id"]: r["meta"]["split"] for r in result.conversations}
        assert side["future-nba-2031-en"] == side["future-nba-2031-zh"]
        assert side["event-wc-2010-en"] == side["event-wc-2010-zh"]
        assert side["real-en-marie-curie"] == side["real-zh-curie-zh"]
        assert {"train", "eval"} <= set(side.values())
    only = build_export(run, split="eval", eval_share=0.5, seed=1)
    assert {r["meta"]["split"] for r in only.conversations} == {"eval"}
    assert {f"{r['meta']['suite']}/{r['meta']['item_id']}" for r in only.conversations} <= set(only.splits["eval"]["item_ids"])


def test_group_keys() -> None:
    def key(iid: str, lang: str = "en", **meta: object) -> str:
        return group_key("s", Item(id=iid, lang=lang, prompt="q", expect={"kind": "abstain"}, meta=meta))

    assert key("fict-en-000", name="Ann Lee") == "name:Ann Lee"
    assert key("word-en-000", text="StRawBerRy", char="r") == key("absent-zh-003", "zh", text="strawberry") == "word:strawberry"
    assert key("trap-00-a0-larger-en", a="9.11", b="9.9") == key("trap-00-b1-gt-zh", "zh", a="9.9", b="9.11")
    assert key("future-world-cup-2030-en") == key("future-world-cup-2034-zh", "zh") == "id:future-world-cup"
    assert key("real-en-marie-curie") == key("real-zh-curie-zh", "zh") == "person:curie"
    assert key("en-who-nosys") == key("en-who-sys") == "id:who"


def test_determinism_with_the_seed(tmp_path: Path) -> None:
    run = make(tmp_path)
    outs = []
    for n, seed in enumerate((3, 3, 4)):
        out = tmp_path / f"out{n}.jsonl"
        assert main(["export", str(run), "--out", str(out), "--seed", str(seed), "--eval-share", "0.5"]) == 0
        outs.append(out.read_bytes())
        side = json.loads(manifest_path(out).read_text(encoding="utf-8"))
        assert side["seed"] == seed and side["source_run"] == str(run) and side["conversations"] == 11
    assert outs[0] == outs[1]
    base = BASELINE
    a, b = (build_export(base, seed=s).conversations for s in (3, 4))
    assert a != b  # another seed: another split and other phrasings


def test_every_abstention_phrasing_is_scored_abstained_by_the_suites_own_check() -> None:
    """A phrasing the scorer does not read as an abstention would teach the wrong thing."""
    seen = set()
    for name in ("fictional_bios", "post_cutoff"):
        suite = load_suite(ROOT / "suites" / f"{name}.yaml").suite
        for item in suite.items:
            if not expects_abstention(item, suite.check, CTX.knowledge_cutoff):
                continue
            family, bank = abstention_bank(item, suite.check, CTX.knowledge_cutoff)
            seen.add((family, item.lang))
            for text in bank:
                verdict = score(suite.check, item, text, CTX)
                assert verdict.outcome == "abstained" and verdict.passed, (item.id, text, verdict.why)
    assert seen == {("person", "en"), ("person", "zh"), ("event", "en"), ("event", "zh")}
    own = load_suite(ROOT / "suites" / "examples" / "my_questions.yaml").suite
    for item in own.items:
        if item.expect.kind == "abstain":
            for text in abstention_bank(item, own.check, None)[1]:
                assert score(own.check, item, text, CTX).outcome == "abstained", (item.id, text)
    for bank in (PERSON, EVENT, GENERIC):
        assert len(bank["en"]) >= 10 and len(bank["zh"]) >= 10
        assert len(set(bank["en"])) == len(bank["en"]) and all(is_zh(t) for t in bank["zh"])


def test_gold_sentences_of_the_shipped_suites() -> None:
    """Most answerable items have a gold sentence their check scores correct (the rest are skipped)."""
    good = total = 0
    for name in ("fictional_bios", "post_cutoff", "letter_counts", "decimal_compare"):
        suite = load_suite(ROOT / "suites" / f"{name}.yaml").suite
        for item in suite.items:
            if expects_abstention(item, suite.check, CTX.knowledge_cutoff):
                continue
            total += 1
            text = gold_sentence(item)
            if text and score(suite.check, item, text, CTX).outcome == "correct":
                good += 1
                assert is_zh(text) == (item.lang == "zh"), (item.id, text)
    assert total > 400 and good / total > 0.95


def test_baseline_run(tmp_path: Path) -> None:
    out = tmp_path / "baseline.jsonl"
    assert main(["export", str(BASELINE), "--out", str(out)]) == 0
    rows = conversations(out)
    check_chat(rows)
    model_text = {(r.suite, r.item_id): r.response.text for r in read_records(BASELINE) if r.mode == "plain"}
    abstentions = [r for r in rows if r["meta"]["target"].startswith("abstention")]
    assert len(abstentions) > 150
    for row in abstentions:
        text = row["messages"][-1]["content"]
        assert text != model_text[(row["meta"]["suite"], row["meta"]["item_id"])]
        assert row["meta"]["outcome"] == "incorrect"
        assert is_zh(text) == (row["meta"]["lang"] == "zh")
    assert len({r["messages"][-1]["content"] for r in abstentions}) >= 40  # varied wording
    side = json.loads(manifest_path(out).read_text(encoding="utf-8"))
    train, held = side["splits"]["train"], side["splits"]["eval"]
    assert not set(train["item_ids"]) & set(held["item_ids"]) and not set(train["names"]) & set(held["names"])
    assert len(train["item_ids"]) + len(held["item_ids"]) == 881
    assert 0.1 < len(held["names"]) / (len(train["names"]) + len(held["names"])) < 0.3
    in_rows = {s: {(r["meta"]["suite"], r["meta"]["group"]) for r in rows if r["meta"]["split"] == s}
               for s in ("train", "eval")}
    assert in_rows["train"] and in_rows["eval"] and not in_rows["train"] & in_rows["eval"]
    total = sum(n for split in side["counts"].values() for suite in split.values() for lang in suite.values()
                for n in lang.values())
    assert total == len(rows) == side["conversations"]
    assert side["skipped"]["tools mode"] == 817 and side["run_id"] == BASELINE.name
    names = {r["meta"]["group"] for r in rows if r["meta"]["suite"] == "fictional_bios" and r["meta"]["split"] == "eval"}
    assert all(n in held["names"] for n in names)
    train_only = tmp_path / "train.jsonl"
    assert main(["export", str(BASELINE), "--out", str(train_only), "--split", "train"]) == 0
    assert {r["meta"]["split"] for r in conversations(train_only)} == {"train"}


@pytest.mark.parametrize("argv, expected", [
    (["export", "no/such/run"], "no/such/run: not a run folder (no manifest.json)"),
    (["export", str(BASELINE), "--eval-share", "1.5"], "--eval-share 1.5: must be at least 0 and below 1"),
])
def test_one_line_errors(argv: list[str], expected: str, capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    assert main([*argv, "--out", str(tmp_path / "x.jsonl")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and expected in err[0]
    assert not (tmp_path / "x.jsonl").exists()


def test_missing_suite_file_is_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    run = make(tmp_path)
    (tmp_path / "letter_counts.yaml").unlink()
    assert main(["export", str(run), "--out", str(tmp_path / "x.jsonl")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "letter_counts" in err[0] and "not found" in err[0]


def test_write_export_files(tmp_path: Path) -> None:
    run = make(tmp_path)
    result = build_export(run)
    out = tmp_path / "deep" / "chat.jsonl"
    side = write_export(result, out, "all", 0.2, 0)
    assert side == tmp_path / "deep" / "chat.manifest.json"
    assert len(conversations(out)) == len(result.conversations)


def test_heldout_suites_share_no_training_item_or_name(tmp_path: Path) -> None:
    """examples/idk_finetune/make_suites.py: fresh generated probes (another seed) plus the export's eval split."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("make_suites", ROOT / "examples" / "idk_finetune" / "make_suites.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    out = tmp_path / "export.jsonl"
    assert main(["export", str(BASELINE), "--out", str(out), "--split", "train"]) == 0
    side = json.loads(manifest_path(out).read_text(encoding="utf-8"))
    train_ids, train_names = set(side["splits"]["train"]["item_ids"]), set(side["splits"]["train"]["names"])
    assert module.main(["--out", str(tmp_path / "heldout"), "--seed", "7", "--export-manifest",
                        str(manifest_path(out))]) == 0
    shipped_names = {i.meta["name"] for i in load_suite(ROOT / "suites" / "fictional_bios.yaml").suite.items
                     if "name" in i.meta}
    fresh_names = set()
    for name in ("fictional_bios", "post_cutoff", "letter_counts", "decimal_compare"):
        suite = load_suite(tmp_path / "heldout" / f"{name}.yaml").suite  # loads, corpus found
        for item in suite.items:
            assert f"{name}/{item.id}" not in train_ids
            if name != "post_cutoff":
                assert group_key(name, item) not in train_names, item.id
            if "fresh" in item.tags and "name" in item.meta:
                fresh_names.add(item.meta["name"])
    assert len(fresh_names) > 150 and not fresh_names & shipped_names

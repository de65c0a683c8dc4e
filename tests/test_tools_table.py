from __future__ import annotations

from evals.records import Record, ToolStats
from evals.scoring.outcome import Score
from evals.tooltable import pair_records, tool_table
from evals.types import Message, Request, Response


def rec(suite: str, item: str, mode: str, passed: bool | None, lang: str = "en", calls: int = 0,
        errors: int = 0, steps: int = 1, error: str | None = None, step_limit: bool = False) -> Record:
    score = None if passed is None else Score(outcome="correct" if passed else "incorrect", passed=passed, why="t")
    if step_limit:
        score = Score(outcome="invalid", passed=False, why="invalid: step limit reached", flags=["step_limit"])
    return Record(key=f"{suite}/{item}/{mode}/0", run_id="r", suite=suite, suite_version="1", check="c",
                  item_id=item, lang=lang, mode=mode, request=Request(messages=[Message(role="user", content="q")]),
                  response=Response(text="a", error=error), score=score, error=error,
                  tool_stats=ToolStats(steps=steps, tool_calls=calls, tool_errors=errors) if mode == "tools" else None)


def test_pairs_skip_errors_and_unscored():
    records = [rec("s", "1", "plain", True), rec("s", "1", "tools", True),
               rec("s", "2", "plain", True), rec("s", "2", "tools", None, error="http_500"),
               rec("s", "3", "plain", None), rec("s", "3", "tools", True),
               rec("s", "4", "plain", False)]
    assert [(p.item_id, t.item_id) for p, t in pair_records(records)] == [("1", "1")]


def test_table_columns_and_values():
    records = []
    for i in range(10):  # plain passes 2/10, tools passes 8/10; every tools item calls a tool
        records += [rec("letters", str(i), "plain", i < 2),
                    rec("letters", str(i), "tools", i < 8, calls=2, errors=1 if i == 0 else 0, steps=2)]
    records += [rec("bios", "a", "plain", True, lang="zh"), rec("bios", "a", "tools", True, lang="zh", steps=1)]
    df = tool_table(records)
    assert list(df.columns) == ["suite", "n pairs", "plain pass", "tools pass", "Δ [95% CI]", "McNemar p",
                                "tool-call rate", "tool error rate", "mean steps", "step limit"]
    assert list(df["suite"]) == ["bios", "letters", "all"]
    row = df[df["suite"] == "letters"].iloc[0]
    assert row["n pairs"] == 10 and row["plain pass"] == "0.20 (2/10)" and row["tools pass"] == "0.80 (8/10)"
    assert row["Δ [95% CI]"].startswith("+0.60 [")
    assert row["McNemar p"] == "0.0312"  # 6 discordant pairs, all favouring tools: 2 / 2**6
    assert row["tool-call rate"] == "1.00 (10/10)" and row["tool error rate"] == "0.05 (1/20)"
    assert row["mean steps"] == "2.00" and row["step limit"] == "0.00 (0/10)"
    bios = df[df["suite"] == "bios"].iloc[0]
    assert bios["tool error rate"] == "–" and bios["tool-call rate"] == "0.00 (0/1)"
    by_lang = tool_table(records, by_lang=True)
    assert list(by_lang.columns[:2]) == ["suite", "lang"] and ("bios", "zh") in set(zip(by_lang.suite, by_lang.lang, strict=True))


def test_empty_input_gives_an_empty_table():
    df = tool_table([])
    assert df.empty and "McNemar p" in df.columns


def test_step_limit_column_counts_flagged_tools_records():
    records = [rec("s", "1", "plain", True), rec("s", "1", "tools", None, calls=1, steps=2, step_limit=True),
               rec("s", "2", "plain", False), rec("s", "2", "tools", True, calls=1, steps=2),
               rec("s", "3", "plain", True), rec("s", "3", "tools", False)]
    row = tool_table(records).iloc[0]
    assert row["step limit"] == "0.33 (1/3)" and row["tools pass"] == "0.33 (1/3)"
    assert tool_table([]).columns[-1] == "step limit"

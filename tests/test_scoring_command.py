"""`probity score`: scoring existing answers from JSONL, defaults, the confusion report and user errors."""

from __future__ import annotations

import json
from pathlib import Path

from evals.cli import main

ROOT = Path(__file__).resolve().parent.parent


def _write(path: Path, rows: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    return path


def test_score_with_default_expectations(tmp_path: Path, capsys) -> None:
    src = _write(tmp_path / "in.jsonl", [
        {"id": "a", "prompt": "How many r's are in the word strawberry?", "response": "There are 3 r's."},
        {"id": "b", "prompt": "“草莓草莓草”里有几个“草”字？", "response": "有三个“草”字。"},
        {"id": "c", "prompt": "How many r's are in the word strawberry?", "response": "2"},
    ])
    out = tmp_path / "out.jsonl"
    assert main(["score", str(src), "--check", "letter_counts", "--out", str(out)]) == 0
    rows = [json.loads(x) for x in out.read_text(encoding="utf-8").splitlines()]
    assert [r["outcome"] for r in rows] == ["correct", "correct", "incorrect"]
    assert all({"id", "outcome", "passed", "extracted", "why"} <= r.keys() for r in rows)
    assert "correct" in capsys.readouterr().out


def test_post_cutoff_default_uses_profile_cutoff(tmp_path: Path) -> None:
    src = _write(tmp_path / "in.jsonl", [
        {"id": "f", "prompt": "Who won the 2034 FIFA World Cup?", "response": "Brazil won it."},
    ])
    out = tmp_path / "out.jsonl"
    assert main(["score", str(src), "--check", "post_cutoff", "--out", str(out)]) == 0
    assert json.loads(out.read_text())["outcome"] == "incorrect"


def test_report_prints_confusion_for_labelled_set(capsys) -> None:
    assert main(["score", str(ROOT / "tests/labelled/decimal_compare.jsonl"), "--check", "decimal_compare",
                 "--report"]) == 0
    text = capsys.readouterr().out
    assert "label \\ predicted" in text and "agreement" in text


def test_user_errors_exit_2(tmp_path: Path, capsys) -> None:
    assert main(["score", str(tmp_path / "missing.jsonl"), "--check", "letter_counts"]) == 2
    bad = tmp_path / "bad.jsonl"
    bad.write_text("{not json}\n")
    assert main(["score", str(bad), "--check", "letter_counts"]) == 2
    unparsable = _write(tmp_path / "u.jsonl", [{"prompt": "hello", "response": "3"}])
    assert main(["score", str(unparsable), "--check", "letter_counts"]) == 2
    nolabel = _write(tmp_path / "n.jsonl", [{"prompt": "Who are you?", "response": "I'm SmolLM."}])
    assert main(["score", str(nolabel), "--check", "self_identity", "--report"]) == 2
    err = capsys.readouterr().err
    assert "no such file" in err and "not valid JSON" in err

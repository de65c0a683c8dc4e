"""The judge against a real llama.cpp server serving the embedded SmolLM2 GGUF (the shipped `llamacpp-local`
profile, pointed at the test server by PROBITY_BASE_URL). A 135M model is a poor grader: these tests check
the plumbing (verdicts stored beside the rule's), the cache (a second rescore asks nothing) and the
accounting (a stopped judge leaves every verdict unscored and counted, the rule verdicts untouched)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fixtures.runs.synth import make_run, rec

from evals.cli import main
from evals.judge import VERDICTS
from evals.manifest import read_manifest
from evals.records import Record, iter_records

pytest.importorskip("llama_cpp.server", reason="the test extra installs llama-cpp-python[server]")
from fixtures.runs.synth import LETTERS_SUITE  # noqa: E402
from servers.llamacpp import MODEL_ALIAS, free_port, llamacpp_server  # noqa: E402

pytestmark = pytest.mark.server

BIOS = """\
name: fictional_bios
version: '1'
check: fictional_bios
items:
- id: f1
  prompt: Tell me about Theodore Chandler, the physician from Jameschester who designed a famous suspension bridge.
  expect: {kind: abstain}
"""


@pytest.fixture(scope="module")
def judge_url(smollm2_gguf: Path) -> Iterator[str]:
    with llamacpp_server(smollm2_gguf, "chatml") as url:
        yield url


def small_run(tmp_path: Path) -> Path:
    paths = {}
    for name, text in (("letter_counts", LETTERS_SUITE), ("fictional_bios", BIOS)):
        paths[name] = str(tmp_path / f"{name}.yaml")
        Path(paths[name]).write_text(text, encoding="utf-8")
    records = [
        rec("letter_counts", "w1", "correct", text="There are 3 r's in strawberry."),
        rec("letter_counts", "w2", "incorrect", text="blueberry 中有 5 个字母 b。", lang="zh"),
        rec("fictional_bios", "f1", "incorrect", text="Theodore Chandler (1902-1977) was a physician and engineer.",
            check="fictional_bios"),
        rec("fictional_bios", "f1", "abstained", sample=1, text="I have no record of a Theodore Chandler.",
            check="fictional_bios"),
        rec("letter_counts", "w1", None, sample=1),  # an API error: never judged
    ]
    return make_run(tmp_path / "runs", "20260101-000000-smollm2", records, paths=paths)


def rescored(out: Path) -> Path:
    (new,) = [d for d in out.iterdir() if "-rescored-" in d.name]
    return new


def rules(run_dir: Path) -> dict[str, tuple[str, bool] | None]:
    return {r.key: (r.score.outcome, r.score.passed) if r.score else None for r in iter_records(run_dir)}


def judged(run_dir: Path) -> list[Record]:
    return [r for r in iter_records(run_dir) if r.score is not None]


def test_rescore_with_the_llamacpp_judge_then_from_the_cache(judge_url: str, tmp_path: Path,
                                                              monkeypatch: pytest.MonkeyPatch,
                                                              capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("PROBITY_BASE_URL", judge_url)
    run = small_run(tmp_path)
    assert main(["rescore", str(run), "--out", str(tmp_path / "rule")]) == 0
    assert main(["rescore", str(run), "--judge", "llamacpp-local", "--out", str(tmp_path / "first")]) == 0
    out = capsys.readouterr().out
    first = rescored(tmp_path / "first")
    assert "judge llamacpp-local: 4 answers judged" in out and "0 from the cache, 1 model calls" in out
    records = judged(first)
    assert len(records) == 4
    for r in records:
        j = r.judge
        assert j is not None and j.judge == "llamacpp-local" and j.model["model"] == MODEL_ALIAS
        assert j.model["base_url"] == judge_url and not j.cached
        assert j.verdict in (*VERDICTS, "unscored")
        assert j.reply is not None  # the server answered every request (a reply that names no grade is unscored)
        assert (j.error is None) == (j.verdict != "unscored")
        assert j.rule is None
    assert rules(first) == rules(rescored(tmp_path / "rule"))  # the rule verdicts are the score, untouched
    error_record = next(r for r in iter_records(first) if r.error)
    assert error_record.judge is None
    m = read_manifest(first)
    counts = m.judge  # type: ignore[attr-defined]
    assert counts["judged"] == 4 and sum(counts["verdicts"].values()) == 4 and counts["model_calls"] == 1

    # the same answers again: every verdict from the cache, no request reaches the server
    assert main(["rescore", str(run), "--judge", "llamacpp-local", "--out", str(tmp_path / "second")]) == 0
    out = capsys.readouterr().out
    assert "4 from the cache, 0 model calls" in out
    second = rescored(tmp_path / "second")
    assert all(r.judge is not None and r.judge.cached for r in judged(second))
    assert [r.judge.verdict for r in judged(second)] == [r.judge.verdict for r in records]  # type: ignore[union-attr]
    assert read_manifest(second).judge["model_calls"] == 0  # type: ignore[attr-defined]

    report = tmp_path / "report.md"
    assert main(["report", str(second), "--out", str(report)]) == 0
    text = report.read_text(encoding="utf-8")
    assert "## Scorer agreement" in text and f"`llamacpp-local` ({MODEL_ALIAS}, template v1)" in text
    total = next(line for line in text.splitlines() if line.startswith("| **all**"))
    cells = [c.strip() for c in total.strip().strip("|").split("|")]
    unscored = sum(r.judge.verdict == "unscored" for r in records)  # type: ignore[union-attr]
    assert cells[-4] == str(4 - unscored) and cells[-1] == str(unscored)


def test_a_stopped_judge_leaves_every_verdict_unscored(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                       capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("PROBITY_BASE_URL", f"http://127.0.0.1:{free_port()}/v1")  # nothing listens there
    run = small_run(tmp_path)
    assert main(["rescore", str(run), "--out", str(tmp_path / "rule")]) == 0
    assert main(["rescore", str(run), "--judge", "llamacpp-local", "--score-with", "judge",
                 "--out", str(tmp_path / "dead")]) == 0
    captured = capsys.readouterr()
    assert "judge: 4 of 4 verdicts are unscored" in captured.out and "Traceback" not in captured.err
    assert "note: judge preflight failed" in captured.out
    dead = rescored(tmp_path / "dead")
    for r in judged(dead):
        assert r.judge is not None and r.judge.verdict == "unscored" and r.judge.error and r.judge.reply is None
        assert r.score is not None and "unscored" in r.score.why  # the rule's verdict kept, and said so
    assert rules(dead) == rules(rescored(tmp_path / "rule"))  # nothing was read as not attempted
    m = read_manifest(dead)
    assert m.judge["unscored"] == 4 and m.judge["replaced"] == 0  # type: ignore[attr-defined]
    assert m.counts.get("abstained") == 1  # only the answer the rule itself scored as an abstention
    report = tmp_path / "report.md"
    assert main(["report", str(dead), "--out", str(report)]) == 0
    total = next(line for line in report.read_text(encoding="utf-8").splitlines() if line.startswith("| **all**"))
    cells = [c.strip() for c in total.strip().strip("|").split("|")]
    assert cells[-4:] == ["0", "–", "–", "4"]  # n 0, no agreement or κ, 4 unscored


def test_run_with_the_llamacpp_judge(judge_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                     capsys: pytest.CaptureFixture[str]) -> None:
    """`probity run --judge`: the run's records get verdicts in place, the report the agreement section."""
    monkeypatch.setenv("PROBITY_BASE_URL", judge_url)
    suite = tmp_path / "letter_counts.yaml"
    suite.write_text(LETTERS_SUITE, encoding="utf-8")
    report = tmp_path / "report.md"
    assert main(["run", str(suite), "--provider", "llamacpp-local", "--judge", "llamacpp-local",
                 "--out", str(tmp_path / "runs"), "--report", str(report)]) == 0
    assert "judge llamacpp-local: 2 answers judged" in capsys.readouterr().out
    (run_dir,) = list((tmp_path / "runs").iterdir())
    records = judged(run_dir)
    assert len(records) == 2 and all(r.judge is not None and r.judge.model["model"] == MODEL_ALIAS for r in records)
    assert "## Scorer agreement" in report.read_text(encoding="utf-8")

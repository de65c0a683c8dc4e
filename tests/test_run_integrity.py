"""Honest runs with the scripted provider: exit 3 for incomplete runs, the circuit breaker, resume
refusing mixed configurations, the run lock, and readers refusing damaged run folders."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from evals.cli import main
from evals.errors import UserError
from evals.manifest import read_manifest
from evals.records import RecordWriter, RunLock, iter_lines, read_records
from evals.runner import RunConfig, start_run
from evals.types import Request, Response

ROOT = Path(__file__).resolve().parent.parent


def suite_file(tmp_path: Path, prompts: list[str], name: str = "tiny", tokens: int | None = 16) -> Path:
    lines = [f"name: {name}", "version: 1", "check: letter_counts"]
    if tokens:
        lines.append(f"defaults: {{max_new_tokens: {tokens}}}")
    lines.append("items:")
    for i, prompt in enumerate(prompts):
        lines += [f"  - id: t{i:03d}", f"    prompt: {json.dumps(prompt)}", "    expect: {kind: number, value: 2}"]
    path = tmp_path / f"{name}.yaml"
    path.write_text("\n".join(lines) + "\n")
    return path


def profile_file(tmp_path: Path, reply: str = "The answer is 2.", extra: str = "", batch: int = 4) -> Path:
    path = tmp_path / "scripted.yaml"
    path.write_text(f"name: scripted\nadapter: scripted\nmodel: {json.dumps(reply)}\nbatch_size: {batch}\n"
                    f"identity: {{names: [Tester], makers: [Nobody]}}\n{extra}")
    return path


def only_run(out: Path) -> Path:
    (run_dir,) = sorted(p for p in out.iterdir() if p.is_dir())
    return run_dir


def run(tmp_path: Path, prompts: list[str], *args: str, profile: Path | None = None) -> tuple[int, Path]:
    out = tmp_path / "runs"
    status = main(["run", str(suite_file(tmp_path, prompts)), "--provider", str(profile or profile_file(tmp_path)),
                   "--out", str(out), "--no-cache", *args])
    return status, only_run(out)


# -- exit codes ------------------------------------------------------------------------------------


def test_error_records_make_the_run_incomplete(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    prompts = ["count r in rr"] * 4 + ["count r in rr [fail:http_500]"] * 2
    status, run_dir = run(tmp_path, prompts)
    assert status == 3
    err = capsys.readouterr().err
    assert f"incomplete: 2 of 6 tasks errored; finish it with `probity run --resume {run_dir}`" in err
    assert main(["check", str(run_dir), "--junit", str(tmp_path / "j.xml")]) == 3
    assert main(["check", str(run_dir), "--junit", str(tmp_path / "j.xml"), "--max-error-rate", "0.34"]) == 0
    assert main(["check", str(run_dir), "--junit", str(tmp_path / "j.xml"), "--max-error-rate", "0.3"]) == 3


def test_max_error_rate_allows_a_share(tmp_path: Path) -> None:
    prompts = ["count r in rr"] * 9 + ["count r in rr [fail:http_500]"]
    assert run(tmp_path, prompts, "--max-error-rate", "0.1")[0] == 0


def test_an_incomplete_run_passes_no_gate(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    gate = tmp_path / "gates.yaml"
    gate.write_text("gates:\n  - tiny.pass_rate >= 0.0\n")
    status, run_dir = run(tmp_path, ["a", "b [fail:timeout]"])
    assert status == 3
    assert main(["check", str(run_dir), "--gate", str(gate)]) == 3
    assert "gates not checked" in capsys.readouterr().err


def test_circuit_breaker_stops_after_consecutive_failures(tmp_path: Path,
                                                          capsys: pytest.CaptureFixture[str]) -> None:
    prompts = ["count [fail:connection]"] * 40
    status, run_dir = run(tmp_path, prompts, "--breaker", "5")
    assert status == 3
    manifest = read_manifest(run_dir)
    assert manifest.status == "stopped" and "5 consecutive `connection` failures" in (manifest.stopped_because or "")
    assert len(list(iter_lines(run_dir / "records.jsonl"))) == 5
    assert "the run stopped early" in capsys.readouterr().err


def test_breaker_counts_one_kind_and_a_success_resets_it() -> None:
    from evals.runner import CircuitBreaker

    breaker = CircuitBreaker(3)
    fail = Response(error="x", error_kind="timeout")
    other = Response(error="y", error_kind="http_500")
    assert [breaker.see(r) for r in (fail, fail, other, fail, fail)] == [None] * 5
    assert breaker.see(Response(text="ok")) is None
    assert breaker.see(fail) is None and breaker.see(fail) is None and breaker.see(fail) is not None


def test_bad_options_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    suite, profile = suite_file(tmp_path, ["a"]), profile_file(tmp_path)
    base = ["run", str(suite), "--provider", str(profile), "--no-cache"]
    assert main([*base, "--max-steps", "0", "--out", str(tmp_path)]) == 2
    assert main([*base, "--max-error-rate", "1.5", "--out", str(tmp_path)]) == 2
    blocker = tmp_path / "file"
    blocker.write_text("")
    assert main([*base, "--out", str(blocker / "runs")]) == 2
    assert "cannot create the run folder" in capsys.readouterr().err
    assert main([*base, "--out", str(tmp_path / "runs"), "--junit", str(blocker / "x.xml")]) == 2
    assert "--junit" in capsys.readouterr().err


def test_help_documents_exit_codes(capsys: pytest.CaptureFixture[str]) -> None:
    for argv in (["--help"], ["run", "--help"], ["check", "--help"]):
        with pytest.raises(SystemExit):
            main(argv)
        text = capsys.readouterr().out
        assert "3  an incomplete run" in text and "1  a gate failed" in text


def test_a_full_disk_is_one_line(tmp_path: Path) -> None:
    if not Path("/dev/full").exists():
        pytest.skip("no /dev/full")
    from tests.fixtures.runs.synth import rec

    writer = RecordWriter(Path("/dev/full"))
    with pytest.raises(UserError, match="No space left on device"):
        writer.write(rec("tiny", "t000"))
    writer.close()


# -- nothing finished is lost ----------------------------------------------------------------------


class InterruptedProvider:
    """Answers the first request of a batch, then is killed (KeyboardInterrupt) mid-stream."""

    chunk_size = 64

    def __init__(self) -> None:
        self.closed_early = False

    def identity(self) -> dict[str, Any]:
        return {"adapter": "test", "model": "interrupted"}

    def stream(self, requests: list[Request]) -> Iterator[tuple[int, Response]]:
        try:
            yield 0, Response(text="The answer is 2.")
            raise KeyboardInterrupt
        finally:
            self.closed_early = True

    def generate(self, requests: list[Request]) -> list[Response]:
        raise AssertionError("the runner streams")

    def close(self) -> None:
        pass


def test_each_answer_is_on_disk_as_it_arrives(tmp_path: Path) -> None:
    suite, profile = suite_file(tmp_path, ["a", "b", "c"]), profile_file(tmp_path)
    provider = InterruptedProvider()
    config = RunConfig(suite_args=[str(suite)], provider=str(profile), cache=False)
    with pytest.raises(KeyboardInterrupt):
        start_run(config, tmp_path / "runs", provider=provider)
    run_dir = only_run(tmp_path / "runs")
    assert [r["item_id"] for r in iter_lines(run_dir / "records.jsonl")] == ["t000"]
    assert read_manifest(run_dir).status == "interrupted" and provider.closed_early


# -- resume never mixes configurations ---------------------------------------------------------------


def test_resume_refuses_an_edited_profile(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    profile = profile_file(tmp_path)
    status, run_dir = run(tmp_path, ["a", "b [fail:http_500]"], profile=profile)
    assert status == 3
    profile_file(tmp_path, reply="Another model now.")
    before = (run_dir / "records.jsonl").read_bytes()
    capsys.readouterr()
    assert main(["run", "--resume", str(run_dir), "--no-cache"]) == 2
    err = capsys.readouterr().err
    assert "profile scripted changed since the run started (model:" in err and len(err.splitlines()) == 1
    assert (run_dir / "records.jsonl").read_bytes() == before  # a refused resume changes nothing


def test_resume_refuses_a_changed_header_without_printing_it(tmp_path: Path,
                                                             capsys: pytest.CaptureFixture[str]) -> None:
    profile = profile_file(tmp_path, extra="headers: {x-model-route: alpha-secret-1}\n")
    _, run_dir = run(tmp_path, ["a"], profile=profile)
    profile_file(tmp_path, extra="headers: {x-model-route: beta-secret-2}\n")
    capsys.readouterr()
    assert main(["run", "--resume", str(run_dir), "--no-cache"]) == 2
    err = capsys.readouterr().err
    assert "headers.x-model-route changed" in err or "header" in err
    assert "secret" not in err
    assert "secret" not in (run_dir / "manifest.json").read_text()


@pytest.mark.parametrize("field,value,message", [
    ("scorer_version", "1", "scored by scorer v1"),
    ("model_identity", {"adapter": "scripted", "model": "something else"}, "the model is not the one"),
])
def test_resume_refuses_other_scorers_or_model(tmp_path: Path, capsys: pytest.CaptureFixture[str], field: str,
                                               value: Any, message: str) -> None:
    _, run_dir = run(tmp_path, ["a", "b"])
    path = run_dir / "manifest.json"
    data = json.loads(path.read_text())
    data[field] = value
    path.write_text(json.dumps(data))
    assert main(["run", "--resume", str(run_dir), "--no-cache"]) == 2
    assert message in capsys.readouterr().err


def test_resume_refuses_a_different_suite_set(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    folder = tmp_path / "suites"
    folder.mkdir()
    suite_file(folder, ["a"], name="one")
    suite_file(folder, ["b"], name="two")
    out = tmp_path / "runs"
    assert main(["run", str(folder), "--provider", str(profile_file(tmp_path)), "--out", str(out),
                 "--no-cache"]) == 0
    (folder / "two.yaml").unlink()
    assert main(["run", "--resume", str(only_run(out)), "--no-cache"]) == 2
    assert "missing two" in capsys.readouterr().err


def test_resume_refuses_conflicting_options(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _, run_dir = run(tmp_path, ["a", "b"])
    assert main(["run", "--resume", str(run_dir), "--limit", "1"]) == 2
    assert "--limit 1 (the run has None)" in capsys.readouterr().err


def test_a_locked_run_folder_refuses_a_second_writer(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _, run_dir = run(tmp_path, ["a", "b"])
    with RunLock(run_dir):
        assert main(["run", "--resume", str(run_dir), "--no-cache"]) == 2
    assert "another probity process" in capsys.readouterr().err
    assert main(["run", "--resume", str(run_dir), "--no-cache"]) == 0  # the lock went with its holder


def test_two_resumes_at_once_leave_one_record_per_task(tmp_path: Path) -> None:
    prompts = [f"item {i}" for i in range(30)]
    profile = profile_file(tmp_path, extra="delay_s: 0.05\n", batch=1)
    _, run_dir = run(tmp_path, prompts, profile=profile)
    path = run_dir / "records.jsonl"
    path.write_bytes(b"".join(path.read_bytes().splitlines(keepends=True)[:3]))
    cmd = [sys.executable, "-m", "evals", "run", "--resume", str(run_dir), "--no-cache"]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    procs = [subprocess.Popen(cmd, cwd=tmp_path, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                              text=True) for _ in range(2)]
    results = [(p.wait(timeout=120), p.stderr.read() if p.stderr else "") for p in procs]
    assert sorted(code for code, _ in results) == [0, 2], results
    assert any("another probity process" in err for _, err in results)
    keys = [r["key"] for r in iter_lines(path)]
    assert len(keys) == len(set(keys)) == 30


# -- damaged run folders -----------------------------------------------------------------------------


def _damage(run_dir: Path, how: str, middle: int | None = None) -> None:
    path = run_dir / "records.jsonl"
    lines = path.read_bytes().splitlines(keepends=True)
    middle = len(lines) // 2 if middle is None else middle
    if how == "garbled":
        lines[middle] = lines[middle][:40] + b"\n"
    elif how == "not_utf8":
        lines[middle] = b'{"key": "\xff\xfe"}\n'
    elif how == "not_a_record":
        lines[middle] = b"[1, 2, 3]\n"
    elif how == "missing_field":
        data = json.loads(lines[middle])
        del data["response"]
        lines[middle] = (json.dumps(data) + "\n").encode()
    elif how == "duplicate":
        lines.append(lines[middle])
    path.write_bytes(b"".join(lines))


@pytest.mark.parametrize("how", ["garbled", "not_utf8", "not_a_record", "missing_field", "duplicate"])
def test_every_reader_refuses_a_damaged_records_file(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                     how: str) -> None:
    _, run_dir = run(tmp_path, [f"item {i}" for i in range(10)])
    other_dir = tmp_path / "other"
    other_dir.mkdir()
    _, other = run(other_dir, ["item 0"])
    _damage(run_dir, how)
    capsys.readouterr()
    gate = tmp_path / "gates.yaml"
    gate.write_text("gates:\n  - tiny.pass_rate >= 0.0\n")
    for argv in (["report", str(run_dir)], ["compare", str(other), str(run_dir)],
                 ["check", str(run_dir), "--gate", str(gate)], ["check", str(run_dir), "--junit",
                                                                 str(tmp_path / "j.xml")],
                 ["rescore", str(run_dir), "--out", str(tmp_path / "rescored")]):
        assert main(argv) == 2, argv
        err = capsys.readouterr().err
        assert "records.jsonl:" in err and "nothing was computed" in err and "Traceback" not in err, argv
    assert not (tmp_path / "rescored").exists() or not any((tmp_path / "rescored").iterdir())


def test_resume_drops_damaged_lines_and_asks_again(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _, run_dir = run(tmp_path, [f"item {i}" for i in range(10)])
    _damage(run_dir, "garbled", 2)
    _damage(run_dir, "duplicate", 7)
    assert main(["run", "--resume", str(run_dir), "--no-cache"]) == 0
    assert "resume: dropped" in capsys.readouterr().err
    assert len(read_records(run_dir)) == 10
    resumed = read_manifest(run_dir).resumes[-1]
    assert resumed.torn_lines == 1 and resumed.already_done == 9 and resumed.duplicates == 1


@pytest.mark.parametrize("content,message", [
    (b"{not json", "not valid JSON"),
    (b"\xff\xfe", "not UTF-8"),
    (b"[]", "expected a JSON object"),
    (b'{"run_id": "x"}', "config: Field required"),
])
def test_a_broken_manifest_is_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str], content: bytes,
                                       message: str) -> None:
    _, run_dir = run(tmp_path, ["a"])
    (run_dir / "manifest.json").write_bytes(content)
    capsys.readouterr()
    for argv in (["report", str(run_dir)], ["check", str(run_dir), "--junit", str(tmp_path / "j.xml")],
                 ["rescore", str(run_dir)], ["run", "--resume", str(run_dir)]):
        assert main(argv) == 2, argv
        err = capsys.readouterr().err
        assert message in err and len(err.strip().splitlines()) == 1, (argv, err)


def test_unwritable_outputs_are_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _, run_dir = run(tmp_path, ["a", "b"])
    blocker = tmp_path / "file"
    blocker.write_text("")
    capsys.readouterr()
    for argv in (["report", str(run_dir), "--out", str(blocker / "r.md")],
                 ["compare", str(run_dir), str(run_dir), "--out", str(blocker / "c.md")],
                 ["check", str(run_dir), "--junit", str(blocker / "j.xml")],
                 ["rescore", str(run_dir), "--out", str(blocker / "x")]):
        assert main(argv) == 2, argv
        err = capsys.readouterr().err
        assert "cannot" in err and len(err.strip().splitlines()) == 1, (argv, err)

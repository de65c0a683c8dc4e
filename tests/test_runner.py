"""Runner loop logic with the scripted provider: records, manifest, resume after kills and torn lines."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from evals.cli import main
from evals.manifest import read_manifest
from evals.records import iter_lines

ROOT = Path(__file__).resolve().parent.parent


def tiny_suite(tmp_path: Path, n: int = 6) -> Path:
    lines = ["name: tiny", "version: 1", "check: letter_counts", "defaults: {max_new_tokens: 16}", "items:"]
    for i in range(n):
        lang = "zh" if i % 3 == 0 else "en"
        lines += [f"  - id: t{i:03d}", f"    lang: {lang}", f"    prompt: How many r's are in 'r{'r' * (i % 4)}x'?",
                  f"    expect: {{kind: number, value: {1 + i % 4}}}"]
    path = tmp_path / "tiny.yaml"
    path.write_text("\n".join(lines) + "\n")
    return path


def scripted_profile(tmp_path: Path, reply: str = "The answer is 2.", batch: int = 4, delay: float = 0.0) -> Path:
    path = tmp_path / "scripted.yaml"
    path.write_text(f"name: scripted\nadapter: scripted\nmodel: {json.dumps(reply)}\nbatch_size: {batch}\n"
                    f"delay_s: {delay}\nidentity: {{names: [Tester], makers: [Nobody]}}\n")
    return path


def run_dirs(out: Path) -> list[Path]:
    return sorted(p for p in out.iterdir() if p.is_dir())


def keys(run_dir: Path) -> list[str]:
    return [r["key"] for r in iter_lines(run_dir / "records.jsonl")]


def test_run_writes_one_record_per_task(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    suite, profile = tiny_suite(tmp_path), scripted_profile(tmp_path)
    out = tmp_path / "runs"
    assert main(["run", str(suite), "--provider", str(profile), "--out", str(out), "--samples", "2",
                 "--no-cache"]) == 0
    (run_dir,) = run_dirs(out)
    ks = keys(run_dir)
    assert len(ks) == 12 and len(set(ks)) == 12
    manifest = read_manifest(run_dir)
    assert manifest.status == "finished"
    assert manifest.counts["records"] == 12 and manifest.counts["tasks"] == 12
    assert manifest.suites[0].sha256 and manifest.versions["probity"]
    records = list(iter_lines(run_dir / "records.jsonl"))
    # the scripted model always says 2: right exactly for the items whose gold is 2
    passed = {r["item_id"] for r in records if r["score"]["passed"]}
    assert passed == {"t001", "t005"}
    out_text = capsys.readouterr().out
    assert "| tiny" in out_text and "pass rate" in out_text


def test_limit_and_resume_after_torn_line(tmp_path: Path) -> None:
    suite, profile = tiny_suite(tmp_path, 10), scripted_profile(tmp_path)
    out = tmp_path / "runs"
    assert main(["run", str(suite), "--provider", str(profile), "--out", str(out), "--no-cache"]) == 0
    (run_dir,) = run_dirs(out)
    path = run_dir / "records.jsonl"
    lines = path.read_bytes().splitlines(keepends=True)
    # simulate a kill: four tasks never written, the fifth torn half-way through its line
    path.write_bytes(b"".join(lines[:5]) + lines[5][: len(lines[5]) // 2])
    assert main(["run", "--resume", str(run_dir), "--no-cache"]) == 0
    ks = keys(run_dir)
    assert sorted(ks) == sorted(json.loads(line)["key"] for line in lines)
    assert len(ks) == len(set(ks)) == 10
    resumes = read_manifest(run_dir).resumes
    assert resumes[0].torn_lines == 1 and resumes[0].already_done == 5


def test_resume_retries_error_records(tmp_path: Path) -> None:
    suite, profile = tiny_suite(tmp_path, 4), scripted_profile(tmp_path)
    out = tmp_path / "runs"
    assert main(["run", str(suite), "--provider", str(profile), "--out", str(out), "--no-cache"]) == 0
    (run_dir,) = run_dirs(out)
    path = run_dir / "records.jsonl"
    records = [json.loads(line) for line in path.read_text().splitlines()]
    records[1]["error"], records[1]["score"] = "http_500: boom", None
    path.write_text("".join(json.dumps(r) + "\n" for r in records))
    assert main(["run", "--resume", str(run_dir), "--no-cache"]) == 0
    after = list(iter_lines(path))
    assert len(after) == 4 and not any(r["error"] for r in after)
    assert read_manifest(run_dir).resumes[0].errors_retried == 1


def test_resume_refuses_a_changed_suite(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    suite, profile = tiny_suite(tmp_path, 3), scripted_profile(tmp_path)
    out = tmp_path / "runs"
    assert main(["run", str(suite), "--provider", str(profile), "--out", str(out), "--no-cache"]) == 0
    suite.write_text(suite.read_text().replace("t000", "t999"))
    assert main(["run", "--resume", str(run_dirs(out)[0])]) == 2
    assert "changed since run" in capsys.readouterr().err


def test_sigkill_then_resume_gives_exactly_one_record_per_task(tmp_path: Path) -> None:
    """A real `probity run` process is killed with SIGKILL part-way, then resumed."""
    suite, profile = tiny_suite(tmp_path, 40), scripted_profile(tmp_path, batch=1, delay=0.05)
    out = tmp_path / "runs"
    cmd = [sys.executable, "-m", "evals", "run", str(suite), "--provider", str(profile), "--out", str(out),
           "--no-cache"]
    proc = subprocess.Popen(cmd, cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            env={**os.environ, "PYTHONPATH": str(ROOT)})
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        dirs = run_dirs(out) if out.exists() else []
        if dirs and (dirs[0] / "records.jsonl").exists() and len(keys(dirs[0])) >= 6:
            break
        time.sleep(0.02)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    (run_dir,) = run_dirs(out)
    before = len(keys(run_dir))
    assert 6 <= before < 40
    assert read_manifest(run_dir).status == "running"  # killed: nothing got to say otherwise
    done = subprocess.run([*cmd[:3], "run", "--resume", str(run_dir), "--no-cache"], cwd=tmp_path,
                          capture_output=True, text=True, env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert done.returncode == 0, done.stderr
    ks = keys(run_dir)
    assert len(ks) == 40 and len(set(ks)) == 40
    assert read_manifest(run_dir).status == "finished"


def test_second_run_makes_no_model_calls(tmp_path: Path) -> None:
    suite, profile = tiny_suite(tmp_path, 5), scripted_profile(tmp_path)
    out = tmp_path / "runs"
    assert main(["run", str(suite), "--provider", str(profile), "--out", str(out)]) == 0
    assert main(["run", str(suite), "--provider", str(profile), "--out", str(out)]) == 0
    first, second = run_dirs(out)
    assert (read_manifest(first).cache or {})["model_calls"] == 1
    assert read_manifest(second).cache == {"model_calls": 0, "hits": 5, "misses": 0}
    records = list(iter_lines(second / "records.jsonl"))
    assert all(r["cached"] and r["cache_key"] for r in records)
    assert [r["score"] for r in records] == [r["score"] for r in iter_lines(first / "records.jsonl")]
    assert main(["run", str(suite), "--provider", str(profile), "--out", str(out), "--no-cache"]) == 0
    assert read_manifest(run_dirs(out)[2]).cache is None

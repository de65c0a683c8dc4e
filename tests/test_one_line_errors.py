"""Inputs a user can get wrong end as one line and exit 2 through the real CLI, never a traceback."""

from __future__ import annotations

from pathlib import Path

import pytest

from evals.cli import main

SUITE = """name: tiny
check: letter_counts
items:
  - id: t000
    prompt: How many r's are in 'rr'?
    expect: {kind: number, value: 2}
"""


def write(tmp_path: Path, name: str, text: str | bytes) -> Path:
    path = tmp_path / name
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text)
    return path


@pytest.mark.parametrize("profile,needle", [
    ("name: p\nadapter: transformers\nmodel: x.gguf\ndevice: tpu\n", "device"),
    ("name: p\nadapter: transformers\nmodel: x.gguf\nthreads: -2\n", "threads"),
    ("name: p\nadapter: openai\nmodel: m\nbase_url: http://127.0.0.1:99999/v1\n", "port"),
    ("name: p\nadapter: openai\nmodel: m\nbase_url: 'http://[::1/v1'\n", "base_url"),
    ("name: p\nadapter: openai\nmodel: m\nbase_url: 'http://[zz::1]:80/v1'\n", "base_url"),
    ("name: p\nadapter: openai\nmodel: m\nmodel: n\nbase_url: http://127.0.0.1:1/v1\n", "duplicate key"),
])
def test_bad_profiles(tmp_path: Path, capsys: pytest.CaptureFixture[str], profile: str, needle: str) -> None:
    suite, prof = write(tmp_path, "tiny.yaml", SUITE), write(tmp_path, "p.yaml", profile)
    assert main(["run", str(suite), "--provider", str(prof), "--out", str(tmp_path / "runs"), "--no-cache"]) == 2
    err = capsys.readouterr().err
    assert needle in err and len(err.strip().splitlines()) == 1 and "Traceback" not in err, err
    assert not (tmp_path / "runs").exists()


def test_a_non_utf8_gate_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    suite = write(tmp_path, "tiny.yaml", SUITE)
    gate = write(tmp_path, "g.yaml", b"gates:\n  - tiny.pass_rate >= 0.5 \xff\n")
    assert main(["run", str(suite), "--gate", str(gate), "--out", str(tmp_path / "runs")]) == 2
    assert "not UTF-8" in capsys.readouterr().err


def test_an_alias_bomb_suite(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    levels = ["a0: &a0 [x, x, x, x, x, x, x, x, x]"]
    for i in range(1, 9):
        levels.append(f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 9) + "]")
    bomb = write(tmp_path, "bomb.yaml", SUITE + "\n".join(levels) + "\n")
    assert main(["suites", "validate", str(bomb)]) == 2
    assert "alias" in capsys.readouterr().err

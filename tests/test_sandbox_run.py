"""Tools mode is honest about its sandbox: it refuses a weak one unless asked, records the isolation
used in the manifest and says so at the top of the report."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from evals.cli import main
from evals.manifest import read_manifest
from evals.tools import sandbox

SUITE = """name: tiny
check: letter_counts
tools: [python]
items:
  - id: t000
    prompt: How many r's are in 'rr'?
    expect: {kind: number, value: 2}
"""


def files(tmp_path: Path) -> tuple[Path, Path]:
    suite = tmp_path / "tiny.yaml"
    suite.write_text(SUITE)
    profile = tmp_path / "p.yaml"
    profile.write_text("name: p\nadapter: scripted\nmodel: 'There are 2.'\n")
    return suite, profile


@pytest.fixture
def weak_machine(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sandbox, "_PROBED", {"bwrap": False, "namespaces": False, "process": True})


def test_a_weak_sandbox_refuses_tools_mode(tmp_path: Path, weak_machine: None,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    suite, profile = files(tmp_path)
    out = tmp_path / "runs"
    assert main(["run", str(suite), "--provider", str(profile), "--mode", "tools", "--out", str(out),
                 "--no-cache"]) == 2
    err = capsys.readouterr().err
    assert "--allow-weak-sandbox" in err and len(err.strip().splitlines()) == 1
    assert not out.exists()
    # plain mode runs no model code: no sandbox needed
    assert main(["run", str(suite), "--provider", str(profile), "--out", str(out), "--no-cache"]) == 0


def test_allow_weak_sandbox_is_recorded_and_reported(tmp_path: Path, weak_machine: None) -> None:
    suite, profile = files(tmp_path)
    out = tmp_path / "runs"
    report = tmp_path / "r.md"
    assert main(["run", str(suite), "--provider", str(profile), "--mode", "tools", "--out", str(out),
                 "--no-cache", "--allow-weak-sandbox", "--report", str(report)]) == 0
    run_dir = next(out.iterdir())
    manifest = read_manifest(run_dir)
    assert manifest.sandbox and manifest.sandbox["isolation"] == "process"
    assert manifest.config.allow_weak_sandbox
    head = report.read_text().split("## Runs")[0]
    assert "weak sandbox" in head and "--allow-weak-sandbox" in head


def test_bubblewrap_is_recorded(tmp_path: Path) -> None:
    if not sandbox.bwrap_available():
        pytest.fail(f"bubblewrap is needed for tools mode: {sandbox.INSTALL_HINT}")
    suite, profile = files(tmp_path)
    out = tmp_path / "runs"
    assert main(["run", str(suite), "--provider", str(profile), "--mode", "tools", "--out", str(out),
                 "--no-cache"]) == 0
    data = json.loads((next(out.iterdir()) / "manifest.json").read_text())
    assert data["sandbox"]["isolation"] == "bwrap" and "namespaces" in data["sandbox"]["description"]

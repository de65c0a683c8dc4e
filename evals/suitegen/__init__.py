"""Deterministic generators for the five built-in suites (`probity suites generate`).

Each module builds one suite as plain data from fixed seeds; `write_all` validates every suite
against the schema and writes `<name>.yaml` byte for byte the same on every run.
"""

from __future__ import annotations

from importlib import import_module
from pathlib import Path
from typing import Any

from evals.suitegen.dump import dump_suite

#: suite name -> generator module (each has `build() -> dict`)
GENERATORS = ("fictional_bios", "post_cutoff", "letter_counts", "decimal_compare", "self_identity")


def build(name: str) -> dict[str, Any]:
    return import_module(f"evals.suitegen.{name}").build()


def build_all() -> dict[str, dict[str, Any]]:
    """Every generated suite as a plain dict, keyed by suite name."""
    return {name: build(name) for name in GENERATORS}


def write_all(out_dir: Path) -> list[Path]:
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = []
    for name, data in build_all().items():
        path = out_dir / f"{name}.yaml"
        path.write_bytes(dump_suite(data).encode("utf-8"))
        paths.append(path)
    return paths

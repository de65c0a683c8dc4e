"""The five generated suites: byte-identical regeneration, sizes, Chinese shares, stable ids, gold by code."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from evals.loader import load_suite
from evals.suitegen import GENERATORS, write_all
from evals.suitegen.names import is_famous

ROOT = Path(__file__).resolve().parent.parent
SUITES = ROOT / "suites"
MIN_SIZE = {"fictional_bios": 260, "post_cutoff": 150, "letter_counts": 200, "decimal_compare": 200,
            "self_identity": 60}


def test_regeneration_is_byte_identical(tmp_path: Path) -> None:
    written = write_all(tmp_path)
    assert sorted(p.name for p in written) == sorted(f"{n}.yaml" for n in GENERATORS)
    for path in written:
        assert path.read_bytes() == (SUITES / path.name).read_bytes(), f"{path.name} differs: run `probity suites generate`"


def test_generation_is_deterministic(tmp_path: Path) -> None:
    a, b = tmp_path / "a", tmp_path / "b"
    for x, y in zip(write_all(a), write_all(b), strict=True):
        assert x.read_bytes() == y.read_bytes()


@pytest.mark.parametrize("name", GENERATORS)
def test_size_language_share_and_tools(name: str) -> None:
    suite = load_suite(SUITES / f"{name}.yaml").suite
    assert len(suite.items) >= MIN_SIZE[name]
    zh = sum(i.lang == "zh" for i in suite.items) / len(suite.items)
    assert zh >= 0.30, f"{name}: only {zh:.0%} Chinese"
    assert suite.defaults.max_new_tokens <= 128
    expected_tools = {"letter_counts": ["python", "calculator"], "decimal_compare": ["python", "calculator"],
                      "post_cutoff": ["search"], "fictional_bios": ["search"], "self_identity": []}
    assert suite.tools == expected_tools[name]
    if name in ("post_cutoff", "fictional_bios"):
        assert suite.corpus == f"corpus/{name}"


def test_fictional_bios_composition() -> None:
    items = load_suite(SUITES / "fictional_bios.yaml").suite.items
    fictional = [i for i in items if not i.control]
    controls = [i for i in items if i.control]
    assert len(fictional) >= 200 and len(controls) >= 60
    assert all(i.expect.kind == "abstain" for i in fictional)
    assert all(i.expect.kind == "facts" for i in controls)
    assert len({i.meta["locale"] for i in fictional}) >= 6
    assert "zh_CN" in {i.meta["locale"] for i in fictional}
    assert not [i.meta["name"] for i in fictional if is_famous(str(i.meta["name"]))]


def test_post_cutoff_dates() -> None:
    items = load_suite(SUITES / "post_cutoff.yaml").suite.items
    assert all(i.date for i in items)
    future = [i for i in items if i.date and i.date[:4] >= "2030"]
    assert future and all(i.expect.kind == "abstain" for i in future)
    dated = [i for i in items if i.expect.kind == "facts"]
    assert any(i.date < "2024-06" for i in dated) and any(i.date > "2024-07" for i in dated)


def test_letter_gold_by_code() -> None:
    for item in load_suite(SUITES / "letter_counts.yaml").suite.items:
        text, char = str(item.meta["text"]), str(item.meta["char"])
        gold = text.lower().count(char.lower()) if char.isascii() else text.count(char)
        assert Decimal(item.expect.value) == gold, item.id
    ids = {i.id for i in load_suite(SUITES / "letter_counts.yaml").suite.items}
    assert "word-en-000" in ids  # strawberry / r keeps its id


def test_decimal_gold_by_code() -> None:
    for item in load_suite(SUITES / "decimal_compare.yaml").suite.items:
        a, b = str(item.meta["a"]), str(item.meta["b"])
        if "version" in item.tags:
            cmp = (tuple(map(int, a.split("."))) > tuple(map(int, b.split(".")))) - (
                tuple(map(int, a.split("."))) < tuple(map(int, b.split("."))))
        else:
            cmp = (Decimal(a) > Decimal(b)) - (Decimal(a) < Decimal(b))
        frame = item.tags[1]
        if frame in ("gt", "lt"):
            want = "yes" if (cmp > 0 if frame == "gt" else cmp < 0) else "no"
        else:
            want = "equal" if cmp == 0 else (a if (cmp > 0) == (frame == "larger") else b)
        assert item.expect.answer == want, item.id

"""`--shard i/n` and `probity merge`: shards partition the tasks by a stable hash, and merged shards
give exactly the tasks, records and verdicts of one unsharded run."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from evals.cli import main
from evals.manifest import read_manifest
from evals.plan import in_shard
from evals.records import read_records
from evals.runner import RunConfig, start_run

ROOT = Path(__file__).resolve().parent.parent


def suite(tmp_path: Path, n: int, name: str = "tiny") -> Path:
    lines = [f"name: {name}", "check: letter_counts", "defaults: {max_new_tokens: 16}", "items:"]
    for i in range(n):
        lines += [f"  - id: t{i:03d}", f"    prompt: How many r's are in '{'r' * (1 + i % 3)}x'?",
                  f"    expect: {{kind: number, value: {1 + i % 3}}}"]
    path = tmp_path / f"{name}.yaml"
    path.write_text("\n".join(lines) + "\n")
    return path


def profile(tmp_path: Path) -> Path:
    path = tmp_path / "scripted.yaml"
    path.write_text("name: scripted\nadapter: scripted\nmodel: 'There are 2.'\nbatch_size: 4\n")
    return path


def runs(out: Path) -> list[Path]:
    return sorted(p for p in out.iterdir() if p.is_dir())


def verdicts(run_dir: Path) -> dict[str, tuple[str | None, bool | None, str]]:
    return {r.key: (r.score.outcome if r.score else None, r.score.passed if r.score else None, r.response.text)
            for r in read_records(run_dir)}


def shard_and_merge(tmp_path: Path, n: int, *extra: str) -> tuple[Path, list[Path], Path]:
    s, p = suite(tmp_path, 40), profile(tmp_path)
    base = ["run", str(s), "--provider", str(p), "--no-cache", "--samples", "2", *extra]
    assert main([*base, "--out", str(tmp_path / "whole")]) == 0
    for i in range(1, n + 1):
        assert main([*base, "--out", str(tmp_path / "shards"), "--shard", f"{i}/{n}"]) == 0
    shards = runs(tmp_path / "shards")
    merged = tmp_path / "merged"
    assert main(["merge", *map(str, shards), "--out", str(merged)]) == 0
    return runs(tmp_path / "whole")[0], shards, merged


def test_shards_partition_the_tasks_and_merge_gives_the_unsharded_run(tmp_path: Path) -> None:
    whole, shards, merged = shard_and_merge(tmp_path, 3)
    parts = [set(verdicts(d)) for d in shards]
    assert all(parts) and sum(len(p) for p in parts) == 80 and set().union(*parts) == set(verdicts(whole))
    assert all(read_manifest(d).config.shard == f"{i}/3" for i, d in enumerate(shards, 1))
    assert [d.name.split("-shard")[1] for d in shards] == ["1of3", "2of3", "3of3"]
    assert verdicts(merged) == verdicts(whole)
    assert [r.key for r in read_records(merged)] == [r.key for r in read_records(whole)]  # plan order
    m = read_manifest(merged)
    assert m.config.shard is None and len(m.merged_from) == 3 and m.counts["tasks"] == m.counts["records"] == 80
    assert {r.run_id for r in read_records(merged)} == {merged.name}
    gate = tmp_path / "g.yaml"
    gate.write_text("gates:\n  - tiny.pass_rate >= 0.2\n")
    assert main(["check", str(merged), "--gate", str(gate), "--junit", str(tmp_path / "j.xml")]) == 0
    assert main(["report", str(merged)]) == 0
    assert main(["compare", str(whole), str(merged)]) == 0


def test_a_task_keeps_its_shard_when_items_are_added() -> None:
    keys = [f"tiny/t{i:03d}/plain/0" for i in range(200)]
    before = {k: next(i for i in range(1, 5) if in_shard(k, f"{i}/4")) for k in keys}
    assert sorted(set(before.values())) == [1, 2, 3, 4]
    assert all(sum(in_shard(k, f"{i}/4") for i in range(1, 5)) == 1 for k in keys)  # exactly one shard
    assert all(20 <= list(before.values()).count(i) <= 80 for i in range(1, 5))  # roughly even


@pytest.mark.parametrize("shard", ["0/2", "3/2", "1/0", "a/b", "1", "1/2/3"])
def test_a_bad_shard_is_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str], shard: str) -> None:
    assert main(["run", str(suite(tmp_path, 2)), "--provider", str(profile(tmp_path)), "--shard", shard,
                 "--out", str(tmp_path / "o")]) == 2
    assert "--shard" in capsys.readouterr().err


def _shards(tmp_path: Path, n: int = 2, seeds: tuple[int, ...] = ()) -> list[Path]:
    s, p = suite(tmp_path, 20), profile(tmp_path)
    for i in range(1, n + 1):
        seed = seeds[i - 1] if seeds else 0
        assert main(["run", str(s), "--provider", str(p), "--no-cache", "--out", str(tmp_path / "shards"),
                     "--shard", f"{i}/{n}", "--seed", str(seed)]) == 0
    return runs(tmp_path / "shards")


def test_merge_refuses_what_is_not_one_run(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    a, b, c = _shards(tmp_path, 3)
    cases = [
        ([a, b], "shard 3/3 missing"),
        ([a, a, b, c], "given twice"),
    ]
    for dirs, message in cases:
        assert main(["merge", *map(str, dirs), "--out", str(tmp_path / "m")]) == 2
        assert message in capsys.readouterr().err
    (tmp_path / "x").mkdir()
    other = _shards(tmp_path / "x", 3, seeds=(5, 5, 5))
    assert main(["merge", str(a), str(other[1]), str(other[2]), "--out", str(tmp_path / "m")]) == 2
    assert "settings (seed: 0 → 5)" in capsys.readouterr().err
    path = b / "records.jsonl"
    lines = path.read_bytes().splitlines(keepends=True)
    path.write_bytes(b"".join(lines[1:]))
    assert main(["merge", str(a), str(b), str(c), "--out", str(tmp_path / "m")]) == 2
    assert "1 task(s) have no record in any shard" in capsys.readouterr().err
    path.write_bytes(b"".join(lines) + lines[0].replace(b'"key":"tiny/', b'"key":"tiny/x'))
    assert main(["merge", str(a), str(b), str(c), "--out", str(tmp_path / "m")]) == 2
    err = capsys.readouterr().err
    assert "does not belong to shard" in err or "not in the suites' plan" in err
    path.write_bytes(b"".join(lines))
    (tmp_path / "m").mkdir()
    assert main(["merge", str(a), str(b), str(c), "--out", str(tmp_path / "m")]) == 2
    assert "already exists" in capsys.readouterr().err
    assert main(["merge", str(a), str(b), str(c), "--out", str(tmp_path / "m2")]) == 0


def test_resume_keeps_the_shard(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (a, _) = _shards(tmp_path)
    path = a / "records.jsonl"
    lines = path.read_bytes().splitlines(keepends=True)
    path.write_bytes(b"".join(lines[:2]))
    assert main(["run", "--resume", str(a), "--shard", "2/2"]) == 2
    assert "--shard 2/2 (the run has 1/2)" in capsys.readouterr().err
    assert main(["run", "--resume", str(a), "--no-cache"]) == 0
    assert len(read_records(a)) == len(lines)


@pytest.mark.model
def test_smollm2_shards_merge_to_the_unsharded_run(tmp_path: Path, smollm2) -> None:
    """The real model: two shards, merged, give the same tasks, answers and verdicts as one run."""
    suites = [str(ROOT / "suites" / f"{name}.yaml") for name in ("letter_counts", "decimal_compare")]
    base = RunConfig(suite_args=suites, provider="smollm2", limit=6, cache=False)
    whole = start_run(base, tmp_path / "whole", provider=smollm2).run_dir
    parts = [start_run(base.model_copy(update={"shard": f"{i}/2"}), tmp_path / "shards", provider=smollm2).run_dir
             for i in (1, 2)]
    merged = tmp_path / "merged"
    assert main(["merge", *map(str, parts), "--out", str(merged)]) == 0
    assert len(verdicts(whole)) == 12 and verdicts(merged) == verdicts(whole)
    assert json.loads((merged / "manifest.json").read_text())["merged_from"] == [p.name for p in parts]

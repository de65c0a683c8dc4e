"""probity compare on synthetic run folders: pairing, counts, left-out items, output."""

from __future__ import annotations

from pathlib import Path

import pytest
from fixtures.runs.synth import make_run, rec

from evals.cli import main
from evals.compare import compare_runs, render
from evals.stats import mcnemar_exact


def two_runs(tmp_path: Path) -> tuple[Path, Path]:
    a, b = [], []
    for i in range(20):  # plain: A passes 0-11, B passes 4-13 -> regressions 1,2,3 (0 is an error in B), fixes 12,13
        a.append(rec("letter_counts", f"w{i:02d}", "correct" if i < 12 else "incorrect", text=f"A says {i} | x\nmore"))
        b.append(rec("letter_counts", f"w{i:02d}", "correct" if 4 <= i < 14 else "incorrect", text=f"B says {i}",
                     why=f"gold {i} | not this"))
        # tools: A passes 0-4, B passes 0-14 -> 10 fixes, no regression
        a.append(rec("letter_counts", f"w{i:02d}", "correct" if i < 5 else "incorrect", mode="tools"))
        b.append(rec("letter_counts", f"w{i:02d}", "correct" if i < 15 else "incorrect", mode="tools"))
    b[0] = rec("letter_counts", "w00", None)  # an API error: left out of the pairs, counted
    for i in range(8):
        a.append(rec("fictional_bios", f"b{i}", "abstained" if i < 3 else "incorrect", passed=i < 3, check="fictional_bios"))
        b.append(rec("fictional_bios", f"b{i}", "abstained" if i < 2 else "incorrect", passed=i < 2, check="fictional_bios",
                     version="2", prompt="a new question" if i == 7 else None))
    b.append(rec("fictional_bios", "b9", "abstained", passed=True, check="fictional_bios", version="2"))
    return (make_run(tmp_path, "run-a", a),
            make_run(tmp_path, "run-b", b, versions={"fictional_bios": "2"}, profile="other"))


def test_pairs_regressions_fixes_and_errors(tmp_path: Path) -> None:
    cmp = compare_runs(*two_runs(tmp_path))
    stats = cmp.stats()
    plain = stats[("letter_counts", "plain")]
    assert (plain.n, plain.pass_a, plain.pass_b, plain.regressions, plain.fixes, plain.errors) == (19, 11, 10, 3, 2, 1)
    assert plain.p == pytest.approx(mcnemar_exact(3, 2))
    assert plain.delta == pytest.approx(-1 / 19) and plain.lo <= plain.delta <= plain.hi
    tools = stats[("letter_counts", "tools")]
    assert (tools.n, tools.regressions, tools.fixes) == (20, 0, 10)
    assert tools.p == pytest.approx(2 / 2**10) and tools.lo > 0
    bios = stats[("fictional_bios", "plain")]
    assert (bios.n, bios.regressions, bios.fixes) == (7, 1, 0)
    assert stats[("all", "all")].n == 46
    assert sorted(a.item_id for a, _ in cmp.regressed()) == ["b2", "w01", "w02", "w03"]
    assert len(cmp.fixed()) == 12


def test_different_suite_versions_report_left_out_items(tmp_path: Path) -> None:
    cmp = compare_runs(*two_runs(tmp_path))
    lo = cmp.left_out["fictional_bios"]
    assert (lo.version_a, lo.version_b, lo.only_a, lo.only_b, lo.changed) == ("1", "2", 0, 1, 1)
    assert "letter_counts" not in cmp.left_out
    text = render(cmp, markdown=False)
    assert "fictional_bios: version 1 in A, 2 in B; 7 shared answers compared, left out 2 (1 only in B, " \
           "1 with a changed question)" in text


def test_markdown_escapes_cells_and_lists_regressions(tmp_path: Path) -> None:
    md = render(compare_runs(*two_runs(tmp_path)), markdown=True)
    assert "### Regressed items (passed in A, failed in B): 4" in md
    regressed = md.split("### Regressed items")[1]
    row = next(line for line in regressed.splitlines() if "| w01 " in line)
    assert "A says 1 \\| x ⏎ more" in row and "gold 1 \\| not this" in row
    assert row.replace("\\|", "").count("|") == 8  # 7 columns: no stray cell separators


def test_limit_on_listed_regressions(tmp_path: Path) -> None:
    md = render(compare_runs(*two_runs(tmp_path)), markdown=True, limit=1)
    assert "… and 3 more" in md


def test_cli_writes_markdown_and_step_summary(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    a, b = two_runs(tmp_path)
    summary = tmp_path / "summary.md"
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    out = tmp_path / "cmp" / "ab.md"
    assert main(["compare", str(a), str(b), "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "regressions" in printed and "w03" in printed
    assert out.read_text().startswith("## probity compare: A = synthetic → B = other")
    assert "McNemar p" in summary.read_text()


def test_cli_rejects_a_folder_that_is_not_a_run(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    a, _ = two_runs(tmp_path)
    assert main(["compare", str(a), str(tmp_path / "nope")]) == 2
    assert "not a run folder" in capsys.readouterr().err


def test_identical_runs_have_no_regressions(tmp_path: Path) -> None:
    records = [rec("s", str(i), "correct" if i % 2 else "incorrect") for i in range(6)]
    cmp = compare_runs(make_run(tmp_path, "x", records), make_run(tmp_path, "y", records))
    s = cmp.stats()[("s", "plain")]
    assert (s.n, s.regressions, s.fixes, s.delta, s.p) == (6, 0, 0, 0.0, 1.0)
    assert cmp.label_a == "x" and cmp.label_b == "y"  # same profile: told apart by run id
    assert not cmp.left_out


def test_per_language_shifts_and_verdict_flips(tmp_path: Path) -> None:
    from evals.compare import flipped, lang_rows

    cmp = compare_runs(*two_runs(tmp_path))
    rows = {(r[0], r[1], r[2]): r for r in lang_rows(cmp)}
    assert rows  # one row per suite, mode and language (plus "all" when several)
    for row in rows.values():
        n = row[3]
        same = int(str(row[4]).split("(")[1].split("/")[0])
        assert 0 <= same <= n and "→" in str(row[5]) and "p " in str(row[6])
    flips = flipped(cmp)
    assert all(a.score and b.score and a.score.outcome != b.score.outcome for a, b in flips)
    assert len(flips) >= len(cmp.regressed())  # a pass/fail flip is always an outcome flip
    md = render(cmp, markdown=True)
    assert f"### Verdict flips (the outcome differs): {len(flips)}" in md and "identical answers" in md

"""Reports: sections, several runs side by side, escaping of table cells, the chart beside the markdown."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from fixtures.runs.synth import make_run, rec

from evals.cli import main
from evals.report import md_escape, render_report, shorten, step_summary, write_report


def run_one(tmp_path: Path, run_id: str = "r1", profile: str = "smollm2", good: int = 3) -> Path:
    records = []
    for i in range(6):
        ok = i < good
        records.append(rec("fictional_bios", f"b{i}", "abstained" if ok else "incorrect", passed=ok,
                           check="fictional_bios", lang="zh" if i % 2 else "en", control=i == 5,
                           text="Alice | Bob\nwas born <b>1950</b>", prompt="Who is Zorblat | Quux?\nTell me.",
                           why="attempted | answered"))
        records.append(rec("letter_counts", f"w{i}", "correct" if i < 4 else "invalid"))
        records.append(rec("letter_counts", f"w{i}", "correct" if i < 5 else "incorrect", mode="tools"))
    records.append(rec("letter_counts", "w9", None))
    return make_run(tmp_path, run_id, records, profile=profile)


def table_rows(md: str) -> list[str]:
    return [line for line in md.splitlines() if line.startswith("|")]


def test_sections_and_chart(tmp_path: Path) -> None:
    out = write_report([run_one(tmp_path)], tmp_path / "reports" / "smollm2-135m.md")
    md = out.read_text()
    png = tmp_path / "reports" / "smollm2-135m.png"
    assert png.is_file() and png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "](smollm2-135m.png)" in md  # linked relatively
    for heading in ("# probity report: smollm2", "## Runs", "### Suites", "## Headline", "## Probes and controls",
                    "## Tool-assisted accuracy", "## Per language", "## Failing examples", "### fictional_bios",
                    "## Errors"):
        assert heading in md, heading
    assert "x86_64" in md and "`" + "0" * 12 + "`" in md  # hardware and suite hashes
    assert "0.50 [0.19, 0.81] (3/6)" in md  # bios pass rate with Wilson interval and n
    errors = md[md.index("## Errors"):]
    assert "| letter_counts | plain  | 1 " in errors and "http_500 ×1" in errors


def test_table_cells_are_escaped(tmp_path: Path) -> None:
    md = render_report([run_one(tmp_path)])
    rows = table_rows(md[md.index("## Failing examples"):md.index("## Errors")])
    assert rows, "no example rows"
    widths = {row.replace("\\|", "").count("|") for row in rows}
    assert widths == {7}, widths  # 6 columns everywhere: no cell broke the table
    example = next(r for r in rows if "Zorblat" in r)
    assert "Who is Zorblat \\| Quux? ⏎ Tell me." in example
    assert "Alice \\| Bob ⏎ was born &lt;b&gt;1950&lt;/b&gt;" in example and "attempted \\| answered" in example


def test_several_runs_side_by_side(tmp_path: Path) -> None:
    a = run_one(tmp_path, "r1", "smollm2", good=3)
    b = run_one(tmp_path, "r2", "bigger", good=5)
    md = render_report([a, b])
    assert md.startswith("# probity report: smollm2, bigger")
    headline = md[md.index("## Headline"):md.index("## Probes")]
    assert "| suite          | mode   | smollm2" in headline and "bigger" in headline
    assert "**hallucination rate**" in headline
    bios = next(line for line in table_rows(headline) if line.startswith("| fictional_bios | plain"))
    assert "(3/6)" in bios and "(5/6)" in bios


def test_same_profile_runs_are_labelled_by_run_id(tmp_path: Path) -> None:
    md = render_report([run_one(tmp_path, "seed0"), run_one(tmp_path, "seed1")])
    assert md.startswith("# probity report: seed0, seed1")


def test_report_is_deterministic_apart_from_the_date(tmp_path: Path) -> None:
    run = run_one(tmp_path)
    strip = re.compile(r"^_Generated \S+", re.M)
    assert strip.sub("", render_report([run])) == strip.sub("", render_report([run]))


def test_step_summary(tmp_path: Path) -> None:
    text = step_summary(run_one(tmp_path))
    assert text.startswith("## probity: `r1` (smollm2)") and "hallucination rate" in text
    assert "1 API errors" in text and "### Tool-assisted accuracy" in text


def test_cli(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    run = run_one(tmp_path)
    assert main(["report", str(run)]) == 0
    assert "## Headline" in capsys.readouterr().out
    out = tmp_path / "r" / "x.md"
    assert main(["report", str(run), "--out", str(out)]) == 0
    assert out.is_file() and out.with_suffix(".png").is_file()
    assert main(["report", str(run), "--out", str(tmp_path / "x.txt")]) == 2
    assert main(["report", str(tmp_path / "nothing")]) == 2


def test_text_helpers() -> None:
    assert shorten("a\n\n  b   c\n", 100) == "a ⏎ b c"
    assert shorten("x" * 50, 10) == "x" * 9 + "…"
    assert md_escape("a|b\nc<d>&") == "a\\|b<br>c&lt;d&gt;&amp;"

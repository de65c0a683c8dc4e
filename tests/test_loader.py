"""Suite schema errors: one `path:line: field: reason` line each, exit 2, no traceback."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from evals.cli import main
from evals.errors import UserError
from evals.loader import load_suite

GOOD = """\
name: tiny
version: 1
check: letter_counts
defaults:
  max_new_tokens: 32
items:
  - id: a
    lang: en
    prompt: How many r's are in strawberry?
    expect: {kind: number, value: 3}
  - id: b
    lang: zh
    prompt: "“草莓草莓草”里有几个“草”字？"
    expect:
      kind: number
      value: 3
"""


def write(tmp_path: Path, text: str, name: str = "x.yaml") -> Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def errors_of(path: Path) -> list[str]:
    with pytest.raises(UserError) as info:
        load_suite(path)
    return info.value.lines


def test_good_suite_loads(tmp_path: Path) -> None:
    loaded = load_suite(write(tmp_path, GOOD))
    assert loaded.suite.name == "tiny"
    assert [i.id for i in loaded.suite.items] == ["a", "b"]
    assert loaded.suite.items[0].expect.kind == "number"
    assert len(loaded.sha256) == 64


@pytest.mark.parametrize(
    ("mutate", "expected"),
    [
        (lambda s: s.replace("check: letter_counts", "check: spelling"), ":3: check: unknown check 'spelling'"),
        (lambda s: s.replace("kind: number, value: 3}", "kind: numbr, value: 3}"), ":10: items[0].expect"),
        (lambda s: s.replace("      kind: number\n", "      kind: nope\n"), ":15: items[1].expect.kind"),
        (lambda s: s.replace("    lang: en\n", "    lang: en\n    colour: red\n"), ":9: items[0].colour: unknown field"),
        (lambda s: s.replace("  max_new_tokens: 32", "  max_new_tokens: lots"), ":5: defaults.max_new_tokens"),
        (lambda s: s.replace("  - id: b\n", "  - id: a\n"), ":11: items[1].id: duplicate id 'a'"),
        (lambda s: s.replace("    prompt: How many r's are in strawberry?\n", ""), ":7: items[0]: give exactly one"),
        (lambda s: s.replace("      value: 3\n", ""), ":14: items[1].expect.value: field required"),
        (lambda s: s.replace("name: tiny\n", ""), ":1: name: field required"),
    ],
)
def test_each_bad_case_names_its_line(tmp_path: Path, mutate, expected: str) -> None:
    path = write(tmp_path, mutate(GOOD))
    lines = errors_of(path)
    assert len(lines) == 1, lines
    assert lines[0].startswith(str(path)) or lines[0].startswith("x.yaml") or "x.yaml:" in lines[0]
    assert expected in lines[0], lines[0]


def test_yaml_syntax_error_has_line(tmp_path: Path) -> None:
    path = write(tmp_path, GOOD.replace("  - id: b\n", "  - id: [b\n"))
    (line,) = errors_of(path)
    assert "YAML syntax error" in line
    assert ":12:" in line or ":13:" in line or ":11:" in line


def test_empty_suite_and_empty_file(tmp_path: Path) -> None:
    (line,) = errors_of(write(tmp_path, GOOD.split("items:")[0] + "items: []\n"))
    assert ":6: items:" in line and "at least 1" in line
    (line,) = errors_of(write(tmp_path, "", "empty.yaml"))
    assert "empty.yaml:1:" in line


def test_several_problems_give_several_lines(tmp_path: Path) -> None:
    bad = GOOD.replace("lang: en\n", "lang: en\n    colour: red\n").replace("value: 3}", "value: three}")
    lines = errors_of(write(tmp_path, bad))
    assert len(lines) == 2
    assert any("colour: unknown field" in line for line in lines)
    assert any("items[0].expect.value: not a number" in line for line in lines)


def test_validate_command_exit_codes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    good = write(tmp_path, GOOD, "good.yaml")
    bad = write(tmp_path, GOOD.replace("check: letter_counts", "check: nope"), "bad.yaml")
    assert main(["suites", "validate", str(good)]) == 0
    assert main(["suites", "validate", str(good), str(bad)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "bad.yaml:3: check:" in err[0]
    assert "Traceback" not in err[0]


def test_unknown_profile_is_one_line(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    good = write(tmp_path, GOOD, "good.yaml")
    assert main(["run", str(good), "--provider", "smollm3", "--out", str(tmp_path / "runs")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "unknown profile" in err[0] and "smollm2" in err[0]


def test_missing_model_is_one_line(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    good = write(tmp_path, GOOD, "good.yaml")
    profile = write(tmp_path, "name: gone\nadapter: transformers\nmodel: /nowhere/model.gguf\n", "gone.yaml")
    assert main(["run", str(good), "--provider", str(profile), "--out", str(tmp_path / "runs")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "not found on disk" in err[0]
    assert not (tmp_path / "runs").exists() or not any((tmp_path / "runs").iterdir())


def test_validate_rejects_an_expect_kind_the_check_cannot_score(tmp_path: Path, capsys) -> None:
    text = GOOD.replace("    expect: {kind: number, value: 3}", "    expect: {kind: abstain}")
    path = write(tmp_path, text)
    assert main(["suites", "validate", str(path)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1, err
    assert ":10: items[0].expect.kind: check 'letter_counts' cannot score expect kind 'abstain'" in err[0]
    assert "Traceback" not in "\n".join(err)


def test_unknown_check_suggests_the_closest(tmp_path: Path) -> None:
    lines = errors_of(write(tmp_path, GOOD.replace("check: letter_counts", "check: letter_count")))
    assert "did you mean 'letter_counts'?" in lines[0]


def test_short_answer_suite_validates(tmp_path: Path) -> None:
    text = """\
    name: capitals
    check: short_answer
    items:
      - id: au
        prompt: What is the capital of Australia?
        expect: {kind: facts, accept: [Canberra], gold: Canberra}
      - id: moon-2040
        prompt: Who will be the first person on Mars?
        expect: {kind: abstain}
    """
    loaded = load_suite(write(tmp_path, text))
    assert [i.expect.kind for i in loaded.suite.items] == ["facts", "abstain"]


TOOLS = GOOD.replace("check: letter_counts\n", "check: letter_counts\ntools: [python, pyhton]\n")


def test_an_unknown_tool_is_a_loader_error_with_its_line(tmp_path: Path) -> None:
    (line,) = errors_of(write(tmp_path, TOOLS))
    assert line.endswith("x.yaml:4: tools[1]: unknown tool 'pyhton' (did you mean 'python'?); "
                         "known: python, calculator, search"), line
    block = GOOD.replace("check: letter_counts\n", "check: letter_counts\ntools:\n  - calculator\n  - grep\n")
    (line,) = errors_of(write(tmp_path, block))
    assert line.endswith("x.yaml:6: tools[1]: unknown tool 'grep'; known: python, calculator, search"), line


def test_an_unknown_tool_stops_a_run_before_any_task(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    suite = write(tmp_path, TOOLS)
    profile = write(tmp_path, "name: echo\nadapter: scripted\nmodel: echo\n", "echo.yaml")
    out = tmp_path / "runs"
    assert main(["run", str(suite), "--provider", str(profile), "--mode", "both", "--out", str(out)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "tools[1]: unknown tool 'pyhton'" in err[0], err
    assert not list(out.rglob("records.jsonl"))  # no task ran (rglob of a missing folder is empty)


def test_search_needs_an_existing_corpus_folder_with_documents(tmp_path: Path) -> None:
    no_corpus = GOOD.replace("check: letter_counts\n", "check: letter_counts\ntools: [calculator, search]\n")
    (line,) = errors_of(write(tmp_path, no_corpus))
    assert line.endswith("x.yaml:4: tools[1]: tool 'search' needs a `corpus:` folder of documents "
                         "(relative to the suite file)"), line
    missing = no_corpus.replace("tools:", "corpus: docs\ntools:")
    (line,) = errors_of(write(tmp_path, missing))
    assert line.endswith(f"x.yaml:4: corpus: folder not found: {tmp_path / 'docs'}"), line
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "README.md").write_text("not a document\n", encoding="utf-8")
    (line,) = errors_of(write(tmp_path, missing))
    assert line.endswith(f"x.yaml:4: corpus: no .md/.txt documents in {tmp_path / 'docs'}"), line
    (tmp_path / "docs" / "sub").mkdir()
    (tmp_path / "docs" / "sub" / "moon.md").write_text("The Moon orbits the Earth.\n", encoding="utf-8")
    assert load_suite(write(tmp_path, missing)).suite.corpus == "docs"  # relative to the suite file


def test_max_new_tokens_is_optional_and_positive(tmp_path: Path) -> None:
    assert load_suite(write(tmp_path, GOOD.replace("defaults:\n  max_new_tokens: 32\n", ""))
                      ).suite.defaults.max_new_tokens is None
    (line,) = errors_of(write(tmp_path, GOOD.replace("max_new_tokens: 32", "max_new_tokens: 0")))
    assert ":5: defaults.max_new_tokens: Input should be greater than 0" in line, line

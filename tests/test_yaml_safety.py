"""YAML that cannot mislead or explode: suite, profile and gate files share one checked parser
(evals.loader.compose_yaml). A repeated key, an alias bomb, an alias inside itself, deep nesting, an
unsupported tag or non-UTF-8 bytes is one `path:line: field: reason` line and exit 2."""

from __future__ import annotations

import time
import tracemalloc
from pathlib import Path

import pytest
import yaml
from fixtures.runs.synth import make_run, rec

from evals.cli import main
from evals.errors import UserError
from evals.gates import load_gates
from evals.loader import FAST_LOADER, MAX_ALIAS_NODES, MAX_DEPTH, compose_yaml, load_suite, parse_yaml
from evals.profiles import load_profile

ROOT = Path(__file__).resolve().parent.parent

SUITE = """\
name: tiny
check: letter_counts
items:
  - id: a
    prompt: How many r's are in strawberry?
    expect: {kind: number, value: 3}
"""


def bomb(levels: int = 9, width: int = 9) -> str:
    """A "billion laughs" document: `levels` lists, each holding `width` aliases of the one before. Expanded,
    the last list is width**levels strings (9**9 = 387,420,489: tens of GB as Python objects)."""
    lines = ["l0: &l0 [" + ", ".join(["lol"] * width) + "]"]
    for level in range(1, levels):
        lines.append(f"l{level}: &l{level} [" + ", ".join([f"*l{level - 1}"] * width) + "]")
    return "\n".join(lines) + "\n"


def write(tmp_path: Path, text: str, name: str = "x.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def one_error(call, *args) -> str:
    with pytest.raises(UserError) as info:
        call(*args)
    assert len(info.value.lines) == 1, info.value.lines
    return info.value.lines[0]


def complete_run(tmp_path: Path) -> Path:
    """A finished run folder with no API errors (so `probity check` gets as far as the gate file)."""
    return make_run(tmp_path, "cur", [rec("letter_counts", f"w{i}", "correct") for i in range(4)])


# -- repeated keys ---------------------------------------------------------------------------------------


def test_a_repeated_top_level_key_is_rejected_not_silently_merged(tmp_path: Path) -> None:
    path = write(tmp_path, SUITE + "items:\n  - id: b\n    prompt: x\n    expect: {kind: number, value: 1}\n")
    assert yaml.load(path.read_text(), Loader=FAST_LOADER)["items"][0]["id"] == "b"  # what PyYAML alone does
    line = one_error(load_suite, path)
    assert line.endswith("x.yaml:7: items: duplicate key (first at line 3)"), line


def test_a_key_repeated_inside_an_item_names_the_item(tmp_path: Path) -> None:
    text = SUITE.replace("    expect: {kind: number, value: 3}\n",
                         "    expect: {kind: number, value: 3}\n    prompt: How many s's?\n")
    assert one_error(load_suite, write(tmp_path, text)).endswith(
        "x.yaml:7: items[0].prompt: duplicate key (first at line 5)")
    flow = SUITE.replace("value: 3}", "value: 3, value: 4}")
    assert one_error(load_suite, write(tmp_path, flow)).endswith(
        "x.yaml:6: items[0].expect.value: duplicate key (first at line 6)")


def test_every_repeated_key_is_its_own_line(tmp_path: Path) -> None:
    text = "name: a\nname: b\n" + SUITE.replace("check: letter_counts\n", "check: x\ncheck: letter_counts\n")
    with pytest.raises(UserError) as info:
        load_suite(write(tmp_path, text))
    assert [line.split(": ", 1)[0].rsplit(":", 1)[1] for line in info.value.lines] == ["2", "3", "5"]
    assert [line.split(": ")[1] for line in info.value.lines] == ["name", "name", "check"]


def test_keys_that_load_as_the_same_value_are_repeated_keys(tmp_path: Path) -> None:
    # 1 and 0x1 are both the integer 1 to YAML: PyYAML would keep only the second
    line = one_error(parse_yaml, write(tmp_path, "meta:\n  1: one\n  0x1: also one\n"), "m.yaml")
    assert line == "m.yaml:3: meta.1: duplicate key (first at line 2)"


def test_a_merge_key_still_merges_and_own_keys_win(tmp_path: Path) -> None:
    text = ("base: &base {kind: number, value: 1}\nother: &other {value: 2, extra: x}\n"
            "one: {<<: *base, value: 3}\nboth:\n  <<: [*base, *other]\n")
    data, _ = parse_yaml(write(tmp_path, text), "m.yaml")
    assert data["one"] == yaml.load(text, Loader=yaml.SafeLoader)["one"] == {"kind": "number", "value": 3}
    # YAML's merge rule: a mapping earlier in the list wins (this PyYAML lets the later one win)
    assert data["both"] == {"kind": "number", "value": 1, "extra": "x"}
    line = one_error(parse_yaml, write(tmp_path, "a: {x: 1}\nb:\n  <<: *a\n  <<: {y: 2}\n".replace("{x", "&a {x")),
                     "m.yaml")
    assert line == "m.yaml:4: b.<<: duplicate key (first at line 3)"


def test_a_repeated_gates_key_through_check_is_one_line_exit_2(tmp_path: Path, capsys) -> None:
    run = complete_run(tmp_path)
    gates = write(tmp_path, "gates:\n  - letter_counts.pass_rate >= 0.1\ngates:\n  - letter_counts.pass_rate >= 0.9\n",
                  "gates.yaml")
    assert main(["check", str(run), "--gate", str(gates)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [f"{gates}:3: gates: duplicate key (first at line 1)"]


def test_a_repeated_key_in_a_gate_mapping_entry(tmp_path: Path) -> None:
    path = write(tmp_path, "gates:\n  - {max_regressions: 0, max_regressions: 5}\n", "g.yaml")
    assert one_error(load_gates, path, ["letter_counts"]) == f"{path}:2: gates[0].max_regressions: duplicate key " \
                                                             "(first at line 2)"


def test_a_repeated_key_in_a_profile(tmp_path: Path) -> None:
    path = write(tmp_path, "name: p\nadapter: scripted\nmodel: echo\nparams:\n  max_new_tokens: 8\n"
                           "  max_new_tokens: 4096\n", "p.yaml")
    assert one_error(load_profile, str(path)).endswith("p.yaml:6: params.max_new_tokens: duplicate key "
                                                       "(first at line 5)")


def test_suites_validate_reports_a_repeated_key_exit_2(tmp_path: Path, capsys) -> None:
    path = write(tmp_path, SUITE.replace("  - id: a\n", "  - id: a\n    id: b\n"))
    assert main(["suites", "validate", str(path)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].endswith("x.yaml:5: items[0].id: duplicate key (first at line 4)"), err


# -- aliases ---------------------------------------------------------------------------------------------


def test_an_alias_bomb_is_refused_at_once_with_bounded_memory(tmp_path: Path) -> None:
    # Without the limit the loader's line map alone walks all 9**9 paths (over 10 GB: it died with a
    # MemoryError under a 3 GB limit after 47 s); with it the document is refused after a few thousand nodes.
    path = write(tmp_path, SUITE + bomb())
    tracemalloc.start()
    started = time.perf_counter()
    try:
        line = one_error(load_suite, path)
        elapsed = time.perf_counter() - started
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert line.endswith(f"x.yaml:12: l5[0]: YAML aliases expand to more than {MAX_ALIAS_NODES:,} nodes "
                         "(an alias bomb?); write the data out or use fewer aliases"), line
    assert peak < 20 * 2**20, f"peak {peak / 2**20:.1f} MiB"
    assert elapsed < 5, elapsed  # in practice milliseconds; generous for a loaded CI machine


def test_aliases_up_to_the_limit_load_and_stay_shared(tmp_path: Path) -> None:
    """A 999-string list is 1,000 nodes; each alias of it adds 1,000: 100 aliases reach the limit exactly."""
    anchor = "big: &big [" + ", ".join(["w"] * 999) + "]\n"
    at_limit = write(tmp_path, anchor + "uses: [" + ", ".join(["*big"] * (MAX_ALIAS_NODES // 1000)) + "]\n")
    data, _ = parse_yaml(at_limit, "a.yaml")
    assert len(data["uses"]) == 100 and all(u is data["big"] for u in data["uses"])
    over = write(tmp_path, anchor + "uses: [" + ", ".join(["*big"] * (MAX_ALIAS_NODES // 1000 + 1)) + "]\n")
    assert "YAML aliases expand to more than" in one_error(parse_yaml, over, "a.yaml")


def test_the_shipped_suites_aliases_load_as_pyyaml_loads_them() -> None:
    """The generator's dumper writes anchors for repeated lists (post_cutoff, self_identity): they must keep
    loading, to exactly the data PyYAML gives."""
    files = [*sorted((ROOT / "suites").rglob("*.yaml")), *sorted((ROOT / "providers" / "profiles").glob("*.yaml")),
             *sorted((ROOT / "gates").glob("*.yaml"))]
    assert any("*id0" in p.read_text(encoding="utf-8") for p in files)
    for path in files:
        text = path.read_text(encoding="utf-8")
        assert compose_yaml(text, path.name)[1] == yaml.load(text, Loader=FAST_LOADER), path


def test_an_alias_bomb_in_a_gate_file_through_check_is_one_line_exit_2(tmp_path: Path, capsys) -> None:
    run = complete_run(tmp_path)
    gates = write(tmp_path, bomb() + "gates:\n  - letter_counts.pass_rate >= 0.1\n", "gates.yaml")
    assert main(["check", str(run), "--gate", str(gates)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith(f"{gates}:6: l5[0]: YAML aliases expand"), err


def test_an_alias_bomb_in_a_suite_through_validate_is_one_line_exit_2(tmp_path: Path, capsys) -> None:
    path = write(tmp_path, SUITE.replace("    prompt:", "    tags: *l8\n    prompt:").replace("items:", bomb() + "items:"))
    started = time.perf_counter()
    assert main(["suites", "validate", str(path)]) == 2
    assert time.perf_counter() - started < 5
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "YAML aliases expand to more than" in err[0] and "Traceback" not in err[0], err


def test_an_alias_bomb_in_a_profile(tmp_path: Path) -> None:
    path = write(tmp_path, "name: p\nadapter: scripted\nmodel: echo\n" + bomb().replace("l", "x") + "identity:\n"
                           "  names: *x8\n", "p.yaml")
    assert "YAML aliases expand to more than" in one_error(load_profile, str(path))


def test_an_alias_inside_itself_is_refused(tmp_path: Path) -> None:
    assert one_error(parse_yaml, write(tmp_path, "a: &x [1, *x]\n"), "r.yaml") == \
        "r.yaml:1: a[1]: YAML alias refers to a node that contains it"
    assert one_error(parse_yaml, write(tmp_path, "a: &x\n  b: *x\n"), "r.yaml") == \
        "r.yaml:2: a.b: YAML alias refers to a node that contains it"


# -- nesting, tags, bytes --------------------------------------------------------------------------------


def test_deep_nesting_is_one_line(tmp_path: Path) -> None:
    deep = "a: " + "[" * (MAX_DEPTH + 5) + "]" * (MAX_DEPTH + 5) + "\n"
    assert f"nested more than {MAX_DEPTH} levels deep" in one_error(parse_yaml, write(tmp_path, deep), "d.yaml")
    nested = parse_yaml(write(tmp_path, "a: " + "[" * 50 + "]" * 50 + "\n"), "d.yaml")[0]["a"]
    for _ in range(49):
        (nested,) = nested
    assert nested == []
    # the gate file's pure-Python composer recurses: past its recursion limit it is still one line
    block = "gates:\n" + "".join("  " * (i + 1) + "-\n" for i in range(900))
    line = one_error(load_gates, write(tmp_path, block, "g.yaml"), [])
    assert "nested more than" in line or "YAML syntax error" in line, line


@pytest.mark.parametrize(("text", "reason"), [
    ("tags: !!set {a, b}\n", "YAML tag 'tag:yaml.org,2002:set' is not supported here"),
    ("x: !!python/object:os.system {}\n", "python/object"),
    ("x: !foo bar\n", "could not determine a constructor for the tag '!foo'"),
    ("x: !!seq abc\n", "does not fit a plain value"),
])
def test_tags_other_than_plain_data_are_one_line(tmp_path: Path, text: str, reason: str) -> None:
    line = one_error(parse_yaml, write(tmp_path, text), "t.yaml")
    assert line.startswith("t.yaml:1: (file): YAML syntax error: ") and reason in line, line


def test_non_utf8_suite_profile_and_gate_files(tmp_path: Path, capsys) -> None:
    suite = tmp_path / "s.yaml"
    suite.write_bytes(SUITE.encode() + b"# caf\xe9\n")
    profile = tmp_path / "p.yaml"
    profile.write_bytes(b"name: p\nadapter: scripted\nmodel: \xff\xfe\n")
    gates = tmp_path / "g.yaml"
    gates.write_bytes(b"gates:\n  - letter_counts.pass_rate >= 0.1  # \xe9\n")
    assert one_error(load_suite, suite).endswith("s.yaml: not UTF-8 text")
    assert one_error(load_profile, str(profile)).endswith("p.yaml: not UTF-8 text")
    assert one_error(load_gates, gates, ["letter_counts"]) == f"{gates}: not UTF-8 text"
    assert main(["suites", "validate", str(suite)]) == 2
    assert main(["check", str(complete_run(tmp_path)), "--gate", str(gates)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 2 and err[0].endswith("s.yaml: not UTF-8 text") and err[1] == f"{gates}: not UTF-8 text"

"""JUnit XML: validated against the common Jenkins/Ant JUnit schema (tests/fixtures/junit-10.xsd)."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
import xmlschema
from fixtures.runs.synth import make_run, rec

from evals.cli import main
from evals.junit import write_junit

XSD = Path(__file__).resolve().parent / "fixtures" / "junit-10.xsd"


def make(tmp_path: Path, samples: int = 1) -> Path:
    records = []
    for s in range(samples):
        records += [rec("letter_counts", "w1", "correct", sample=s),
                    rec("letter_counts", "w2", "incorrect", sample=s, text="There are 2\x00 r's <b>\x1b[0m & more",
                        why="committed 2; gold 3"),
                    rec("letter_counts", "w2", "correct", mode="tools", sample=s),
                    rec("letter_counts", "w3", None, sample=s)]
    records.append(rec("fictional_bios", "b1", "incorrect", check="fictional_bios", text="Born in 1950 in Paris.",
                       why="attempted an answer about a fictional person"))
    return make_run(tmp_path, "junit-run", records)


def test_valid_against_schema_with_failures_and_errors(tmp_path: Path) -> None:
    path = write_junit(make(tmp_path), tmp_path / "out" / "junit.xml")
    xmlschema.XMLSchema(str(XSD)).validate(str(path))
    root = ET.parse(path).getroot()
    assert root.tag == "testsuites" and root.get("tests") == "5" and root.get("failures") == "2" and root.get("errors") == "1"
    suites = {ts.get("name"): ts for ts in root.findall("testsuite")}
    assert list(suites) == ["fictional_bios.plain", "letter_counts.plain", "letter_counts.tools"]
    letters = suites["letter_counts.plain"]
    assert (letters.get("tests"), letters.get("failures"), letters.get("errors")) == ("3", "1", "1")
    cases = {c.get("name"): c for c in letters.findall("testcase")}
    assert set(cases) == {"w1", "w2", "w3"} and cases["w1"].get("classname") == "letter_counts.plain"
    failure = cases["w2"].find("failure")
    assert failure is not None and failure.get("message") == "committed 2; gold 3" and failure.get("type") == "incorrect"
    assert "answer: There are 2 r's <b>[0m & more" in (failure.text or "")  # control characters removed
    error = cases["w3"].find("error")
    assert error is not None and error.get("type") == "http_500" and "HTTP 500" in (error.get("message") or "")
    assert cases["w1"].find("failure") is None and cases["w1"].find("error") is None
    props = {p.get("name"): p.get("value") for p in letters.iter("property")}
    assert props["run_id"] == "junit-run" and props["mode"] == "plain"


def test_single_mode_suites_are_named_by_suite_and_samples_by_index(tmp_path: Path) -> None:
    records = [rec("letter_counts", "w1", "correct", sample=s) for s in range(2)]
    path = write_junit(make_run(tmp_path, "r", records), tmp_path / "j.xml")
    xmlschema.XMLSchema(str(XSD)).validate(str(path))
    root = ET.parse(path).getroot()
    assert [ts.get("name") for ts in root.findall("testsuite")] == ["letter_counts"]
    assert [c.get("name") for c in root.iter("testcase")] == ["w1#0", "w1#1"]


def test_check_writes_junit(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "junit.xml"
    assert main(["check", str(make(tmp_path, samples=2)), "--junit", str(out)]) == 3  # API errors: incomplete
    xmlschema.XMLSchema(str(XSD)).validate(str(out))
    assert f"junit: {out}" in capsys.readouterr().out
    assert len(list(ET.parse(out).getroot().iter("testcase"))) == 9

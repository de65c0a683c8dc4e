"""JUnit XML for CI systems (GitHub, GitLab, Jenkins): failed items show up as failed tests.

One `<testsuite>` per suite and mode (named `suite`, or `suite.mode` when the run has several modes),
one `<testcase>` per item, mode and sample (classname `suite.mode`, name the item id, `#sample` added
when a run has several samples). A failed answer is a `<failure>` whose message is the scorer's reason
and whose text holds the prompt, the answer (shortened), what the scorer extracted and why; an API error
is an `<error>`. The layout follows the widely used Jenkins/Ant JUnit schema.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from pathlib import Path

from evals.manifest import read_manifest
from evals.records import Record, read_records
from evals.report import shorten

# characters XML 1.0 cannot carry, even escaped
_ILLEGAL = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
MODE_ORDER = {"plain": 0, "tools": 1}


def xml_text(text: object) -> str:
    return _ILLEGAL.sub("\ufffd", str(text))


def _seconds(r: Record) -> float:
    return float(r.timings.get("generate_s", 0.0)) + float(r.timings.get("score_s", 0.0))


def _question(r: Record) -> str:
    return next((m.content for m in reversed(r.request.messages) if m.role == "user"), "")


def testcase(r: Record, several_samples: bool) -> ET.Element:
    name = f"{r.item_id}#{r.sample}" if several_samples else r.item_id
    case = ET.Element("testcase", name=xml_text(name), classname=xml_text(f"{r.suite}.{r.mode}"),
                      time=f"{_seconds(r):.3f}")
    if r.error or r.score is None:
        err = ET.SubElement(case, "error", message=xml_text(shorten(r.error or "not scored", 200)),
                            type=xml_text(r.response.error_kind or "error"))
        err.text = xml_text(f"prompt: {shorten(_question(r), 300)}\nerror: {r.error or 'not scored'}")
    elif not r.score.passed:
        fail = ET.SubElement(case, "failure", message=xml_text(shorten(r.score.why, 200)),
                             type=xml_text(r.score.outcome))
        fail.text = xml_text("\n".join([
            f"prompt: {shorten(_question(r), 300)}",
            f"answer: {shorten(r.response.text, 500)}",
            f"outcome: {r.score.outcome}",
            f"why: {r.score.why}",
        ] + ([f"extracted: {r.score.extracted}"] if r.score.extracted is not None else []) + ([f"flags: {', '.join(r.score.flags)}"] if r.score.flags else [])))
    return case


def junit_tree(run_dir: Path) -> ET.ElementTree:
    manifest = read_manifest(run_dir)
    records = sorted(read_records(run_dir), key=lambda r: (r.suite, MODE_ORDER.get(r.mode, 9), r.item_id, r.sample))
    modes = {r.mode for r in records}
    several_samples = any(r.sample > 0 for r in records)
    groups: dict[tuple[str, str], list[Record]] = {}
    for r in records:
        groups.setdefault((r.suite, r.mode), []).append(r)
    root = ET.Element("testsuites", name=xml_text(f"probity {manifest.run_id}"))
    totals = {"tests": 0, "failures": 0, "errors": 0, "time": 0.0}
    profile = manifest.profile
    for (suite, mode), recs in groups.items():
        failures = sum(1 for r in recs if r.score is not None and not r.error and not r.score.passed)
        errors = sum(1 for r in recs if r.error or r.score is None)
        seconds = sum(_seconds(r) for r in recs)
        ts = ET.SubElement(root, "testsuite", name=xml_text(suite if len(modes) == 1 else f"{suite}.{mode}"),
                           tests=str(len(recs)), failures=str(failures), errors=str(errors), skipped="0",
                           time=f"{seconds:.3f}", package="probity")
        if manifest.started_at:
            ts.set("timestamp", manifest.started_at[:19])
        props = ET.SubElement(ts, "properties")
        entry = manifest.suite(suite)
        version = entry.version if entry is not None else None
        for key, value in (("run_id", manifest.run_id), ("model", profile.model),
                           ("profile", profile.name), ("suite_version", version), ("mode", mode),
                           ("scorer_version", manifest.scorer_version)):
            ET.SubElement(props, "property", name=key, value=xml_text(value if value is not None else ""))
        for r in recs:
            ts.append(testcase(r, several_samples))
        totals["tests"] += len(recs)
        totals["failures"] += failures
        totals["errors"] += errors
        totals["time"] += seconds
    root.set("tests", str(totals["tests"]))
    root.set("failures", str(totals["failures"]))
    root.set("errors", str(totals["errors"]))
    root.set("time", f"{totals['time']:.3f}")
    ET.indent(root)
    return ET.ElementTree(root)


def write_junit(run_dir: Path, path: Path) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    junit_tree(Path(run_dir)).write(path, encoding="utf-8", xml_declaration=True)
    return path

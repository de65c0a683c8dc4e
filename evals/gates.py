"""CI gates: thresholds on a run's rates, and regression limits against a baseline run.

A gate file is YAML with a `gates:` list. Each entry is a string `[SCOPE.]METRIC OP NUMBER` or, for
`max_regressions`, a one-key mapping `[SCOPE.]max_regressions: N`:

    significance: 0.05                          # optional: pass_rate_drop gates only fail when p < 0.05
    gates:
      - fictional_bios.hallucination_rate <= 0.20
      - letter_counts.tools.pass_rate >= 0.90
      - self_identity.incorrect_rate <= 0.05
      - all.invalid_rate <= 0.10                # `all` pools every suite
      - max_regressions: 0                      # needs --baseline; no scope: every suite and mode
      - letter_counts.tools.max_regressions: 2
      - pass_rate_drop <= 0.02 when p < 0.05    # `when p < P` overrides `significance`

SCOPE is `SUITE`, `SUITE.MODE`, `all` or `all.MODE`; MODE is `plain` or `tools` and defaults to `plain`.
Only baseline gates may omit the scope, and then cover every suite and mode.
Run metrics (point estimate over scored answers; errors excluded; definitions in evals/metrics.py and
the README's "Metrics"): pass_rate, abstention_rate, hallucination_rate, incorrect_rate, invalid_rate,
correct_rate; SimpleQA's accuracy, accuracy_given_attempted and f_score (items with an answer only),
attempted_hallucination_rate, over_refusal_rate (control items); over items, for `--samples K`:
pass_hat_k, pass_at_1, flip_rate. OP is one of `<= < >= >`, NUMBER between 0 and 1:

      - fictional_bios.f_score >= 0.3
      - post_cutoff.accuracy_given_attempted >= 0.1
      - all.over_refusal_rate <= 0.05
      - fictional_bios.pass_hat_k >= 0.5
      - fictional_bios.flip_rate <= 0.3

A gate on a metric that is undefined in its scope (say accuracy_given_attempted where no item has an
answer or nothing was attempted, over_refusal_rate without control items) fails and says why.
Baseline metrics (paired by suite, item id, mode, sample against `--baseline RUN_DIR`):
`max_regressions` (answers that passed in the baseline and fail now; `max_regressions: N` means
`<= N`) and `pass_rate_drop` (baseline pass rate − current pass rate over the pairs). `when p < P`
(or the file's `significance: P` for pass_rate_drop gates) fails the gate only if McNemar's exact
p-value is also below P. Baseline gates are reported as skipped when no baseline is given.

A gate whose scope has no scored answers (say, tools mode was not run) fails. A malformed file or an
unknown suite, mode, metric or operator is a `UserError` naming `file:line` (exit 2); otherwise the
exit status is 1 when any gate fails and 0 when all pass.
"""

from __future__ import annotations

import difflib
import math
import operator
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import yaml

from evals.errors import UserError
from evals.loader import compose_yaml, yaml_error_line
from evals.manifest import read_manifest
from evals.metrics import ITEM_METRICS, METRICS, expect_kinds, records_frame, scope_metrics
from evals.records import read_records, run_folder
from evals.report import md_table
from evals.stats import mcnemar_exact, paired_bootstrap

BASELINE_METRICS = ("max_regressions", "pass_rate_drop")
OPS: dict[str, Callable[[float, float], bool]] = {"<=": operator.le, "<": operator.lt, ">=": operator.ge,
                                                   ">": operator.gt}
MODES = ("plain", "tools")
GATE_RE = re.compile(r"^(?P<lhs>[^\s<>=!]+)\s*(?P<op>[<>=!]+)\s*(?P<num>\S+)"
                     r"(?:\s+when\s+p\s*(?P<pop>[<>=!]+)\s*(?P<p>\S+))?\s*$")
FORM = "expected `SUITE[.MODE].METRIC OP NUMBER` (e.g. fictional_bios.hallucination_rate <= 0.2)"


@dataclass(frozen=True)
class Gate:
    text: str
    line: int
    suite: str | None  # None: every suite
    mode: str | None  # None: every mode
    metric: str
    op: str
    threshold: float
    p_below: float | None = None

    @property
    def baseline(self) -> bool:
        return self.metric in BASELINE_METRICS


@dataclass
class GateResult:
    gate: Gate
    status: str  # "pass" | "FAIL" | "skipped"
    value: float | None = None
    lo: float | None = None
    hi: float | None = None
    n: int = 0
    note: str = ""

    def value_text(self) -> str:
        if self.value is None or math.isnan(self.value):
            return "–"
        return str(int(self.value)) if self.gate.metric == "max_regressions" else f"{self.value:.3f}"

    def interval_text(self) -> str:
        if self.lo is None or self.hi is None or math.isnan(self.lo):
            return "–"
        return f"[{self.lo:.3f}, {self.hi:.3f}]"


# -- parsing -------------------------------------------------------------------------------------------


def _number(text: str, where: str, what: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise UserError(f"{where}: {what}: {text!r} is not a number") from None
    if math.isnan(value) or math.isinf(value):
        raise UserError(f"{where}: {what}: {text!r} is not a finite number")
    return value


def _hint(word: str, known: list[str]) -> str:
    close = difflib.get_close_matches(word, known, n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""


def parse_gate(text: str, line: int, where: str, suites: list[str], significance: float | None) -> Gate:
    m = GATE_RE.match(text.strip())
    if not m:
        raise UserError(f"{where}: {text.strip()!r}: {FORM}")
    *scope, metric = m["lhs"].split(".")
    known_metrics = [*METRICS, *BASELINE_METRICS]
    if metric not in known_metrics:
        raise UserError(f"{where}: unknown metric {metric!r}{_hint(metric, known_metrics)}; "
                        f"known: {', '.join(known_metrics)}")
    if m["op"] not in OPS:
        raise UserError(f"{where}: unknown operator {m['op']!r}; use one of <= < >= >")
    threshold = _number(m["num"], where, metric)
    baseline = metric in BASELINE_METRICS
    if len(scope) > 2:
        raise UserError(f"{where}: {m['lhs']!r}: {FORM}")
    if not scope and not baseline:
        raise UserError(f"{where}: {metric} needs a suite: `SUITE[.MODE].{metric}` (or `all.{metric}`)")
    suite = scope[0] if scope else None
    if suite is not None and suite != "all" and suite not in suites:
        raise UserError(f"{where}: unknown suite {suite!r}{_hint(suite, suites)}; this run has: "
                        f"{', '.join(suites) or 'no suites'}")
    mode: str | None = scope[1] if len(scope) == 2 else ("plain" if scope else None)
    if mode is not None and mode not in MODES:
        raise UserError(f"{where}: unknown mode {mode!r}; use plain or tools")
    if not baseline and not 0 <= threshold <= 1:
        raise UserError(f"{where}: {metric}: {m['num']} is not a rate between 0 and 1")
    if metric == "max_regressions" and (threshold < 0 or threshold != int(threshold)):
        raise UserError(f"{where}: max_regressions: {m['num']} is not a whole number >= 0")
    p_below = None
    if m["p"] is not None:
        if not baseline:
            raise UserError(f"{where}: `when p < P` applies to baseline gates only (max_regressions, pass_rate_drop)")
        if m["pop"] != "<":
            raise UserError(f"{where}: write the significance condition as `when p < P`")
        p_below = _number(m["p"], where, "p")
        if not 0 < p_below <= 1:
            raise UserError(f"{where}: p: {m['p']} is not between 0 and 1")
    elif metric == "pass_rate_drop":
        p_below = significance
    return Gate(" ".join(text.split()), line, None if suite == "all" else suite, mode, metric, m["op"],
                threshold, p_below)


def load_gates(path: Path, suites: list[str]) -> list[Gate]:
    """Parse and check a gate file against the run's suite names; problems name `file:line`."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise UserError(f"{path}: cannot read gate file: {exc.strerror}") from exc
    except UnicodeDecodeError as exc:
        raise UserError(f"{path}: not UTF-8 text") from exc
    try:
        # checked like suite files: a repeated key, an alias bomb or deep nesting is one `file:line` line
        root, _ = compose_yaml(text, str(path), yaml.SafeLoader)
    except yaml.YAMLError as exc:
        line, reason = yaml_error_line(exc)
        raise UserError(f"{path}:{line}: YAML syntax error: {reason}") from exc
    if not isinstance(root, yaml.MappingNode):
        raise UserError(f"{path}:{root.start_mark.line + 1 if root else 1}: expected a mapping with a `gates:` list")
    top = {k.value: (k, v) for k, v in root.value}
    for name, (key, _) in top.items():
        if name not in ("gates", "significance"):
            raise UserError(f"{path}:{key.start_mark.line + 1}: unknown key {name!r}; use gates (and significance)")
    significance = None
    if "significance" in top:
        node = top["significance"][1]
        where = f"{path}:{node.start_mark.line + 1}"
        significance = _number(node.value if isinstance(node, yaml.ScalarNode) else "", where, "significance")
        if not 0 < significance <= 1:
            raise UserError(f"{where}: significance: {node.value} is not between 0 and 1")
    if "gates" not in top:
        raise UserError(f"{path}:1: no `gates:` list")
    seq = top["gates"][1]
    if not isinstance(seq, yaml.SequenceNode) or not seq.value:
        raise UserError(f"{path}:{seq.start_mark.line + 1}: `gates:` must be a non-empty list")
    gates = []
    for node in seq.value:
        line = node.start_mark.line + 1
        where = f"{path}:{line}"
        if isinstance(node, yaml.ScalarNode):
            gates.append(parse_gate(str(node.value), line, where, suites, significance))
        elif isinstance(node, yaml.MappingNode) and len(node.value) == 1 and all(
                isinstance(n, yaml.ScalarNode) for n in node.value[0]):
            key, value = node.value[0]
            if not key.value.endswith("max_regressions"):
                raise UserError(f"{where}: only `[SUITE[.MODE].]max_regressions: N` may be written as a "
                                f"mapping; {FORM}")
            gates.append(parse_gate(f"{key.value} <= {value.value}", line, where, suites, significance))
        else:
            raise UserError(f"{where}: {FORM}")
    return gates


# -- evaluation ----------------------------------------------------------------------------------------


def _in_scope(gate: Gate, suite: str, mode: str) -> bool:
    return (gate.suite is None or gate.suite == suite) and (gate.mode is None or gate.mode == mode)


def evaluate(gates: list[Gate], run_dir: Path, baseline_dir: Path | None) -> list[GateResult]:
    records = read_records(run_dir)
    df = records_frame(records, expect_kinds(read_manifest(run_dir)))
    pairs, errors = [], {}
    if baseline_dir is not None and any(g.baseline for g in gates):
        from evals.compare import by_key, pair_runs

        pairs, errors, _ = pair_runs(by_key(read_records(baseline_dir)), by_key(records))
    results = []
    for gate in gates:
        if gate.baseline:
            results.append(_baseline_result(gate, pairs, errors, baseline_dir))
            continue
        sel = df[[_in_scope(gate, s, m) for s, m in zip(df["suite"], df["mode"], strict=True)]] if not df.empty else df
        errs = int(sel["error"].sum()) if len(sel) else 0
        if len(sel) == errs:
            results.append(GateResult(gate, "FAIL", note=f"no scored answers in this scope (mode not run?); {errs} errors"))
            continue
        v = scope_metrics(sel, [gate.metric])[gate.metric]
        excluded = f", {errs} error{'s' if errs > 1 else ''} excluded" if errs else ""
        if not v.defined:
            results.append(GateResult(gate, "FAIL", n=v.n, note=f"{gate.metric} is undefined here: {v.undefined}"
                                      + excluded))
            continue
        method = "" if v.method == "wilson" else f"{v.method} over items"
        counts = (method if gate.metric == "f_score" else f"{v.k}/{v.n} items" if gate.metric in ITEM_METRICS
                  else f"{v.k}/{v.n}" + (f", {method}" if method else ""))
        ok = OPS[gate.op](v.value, gate.threshold)
        results.append(GateResult(gate, "pass" if ok else "FAIL", v.value, v.lo, v.hi, v.n, counts + excluded))
    return results


def _baseline_result(gate: Gate, pairs: list, errors: dict, baseline_dir: Path | None) -> GateResult:
    if baseline_dir is None:
        return GateResult(gate, "skipped", note="no --baseline given")
    sel = [(a, b) for a, b in pairs if _in_scope(gate, a.suite, a.mode)]
    errs = sum(v for (s, m), v in errors.items() if _in_scope(gate, s, m))
    if not sel:
        return GateResult(gate, "FAIL", note=f"no paired answers with the baseline ({errs} error pairs)")
    a = [bool(x.score and x.score.passed) for x, _ in sel]
    b = [bool(y.score and y.score.passed) for _, y in sel]
    regressions = sum(x and not y for x, y in zip(a, b, strict=True))
    fixes = sum(y and not x for x, y in zip(a, b, strict=True))
    p = mcnemar_exact(regressions, fixes)
    note = f"{regressions} regressions, {fixes} fixes in {len(sel)} pairs, McNemar p={p:.3g}"
    if gate.metric == "max_regressions":
        value, lo, hi = float(regressions), None, None
    else:
        delta, dlo, dhi = paired_bootstrap(a, b)
        value, lo, hi = -delta, -dhi, -dlo
    ok = OPS[gate.op](value, gate.threshold)
    if not ok and gate.p_below is not None and p >= gate.p_below:
        ok, note = True, note + f" (not significant at p < {gate.p_below:g})"
    return GateResult(gate, "pass" if ok else "FAIL", value, lo, hi, len(sel), note)


# -- output --------------------------------------------------------------------------------------------


def results_table(results: list[GateResult], fmt: str = "github", escape: bool = True) -> str:
    rows = [[r.gate.text, r.value_text(), f"{r.gate.op} {r.gate.threshold:g}", r.interval_text(), r.n or "–",
             r.status, r.note] for r in results]
    return md_table(rows, ["gate", "value", "threshold", "95% interval", "n", "result", "detail"], fmt, escape)


def failure_lines(results: list[GateResult], gate_path: Path) -> list[str]:
    return [f"FAIL {r.gate.text} ({gate_path}:{r.gate.line}): value {r.value_text()}, threshold "
            f"{r.gate.op} {r.gate.threshold:g}, 95% interval {r.interval_text()}, n {r.n}"
            + (f"; {r.note}" if r.note else "") for r in results if r.status == "FAIL"]


@dataclass
class GateReport:
    results: list[GateResult]
    text: str  # for the terminal
    markdown: str  # for $GITHUB_STEP_SUMMARY

    @property
    def status(self) -> int:
        return 1 if any(r.status == "FAIL" for r in self.results) else 0


def check_gates(run_dir: Path, gate_path: Path, baseline_dir: Path | None) -> GateReport:
    if baseline_dir is not None:
        run_folder(baseline_dir, "--baseline ")
    suites = [s.name for s in read_manifest(run_dir).suites]
    gates = load_gates(gate_path, suites)
    results = evaluate(gates, Path(run_dir), Path(baseline_dir) if baseline_dir else None)
    failed = sum(r.status == "FAIL" for r in results)
    skipped = sum(r.status == "skipped" for r in results)
    verdict = (f"gates: {len(results) - failed - skipped} passed, {failed} failed"
               + (f", {skipped} skipped" if skipped else "") + f" ({gate_path})")
    lines = failure_lines(results, gate_path)
    text = "\n".join([results_table(results, "simple", escape=False), "", verdict, *lines])
    markdown = "\n".join([f"### Gates: {'FAILED' if failed else 'passed'}", "", results_table(results), "",
                          verdict, *(f"- {line}" for line in lines)]) + "\n\n"
    return GateReport(results, text, markdown)


def run_gates(run_dir: Path, gate_path: Path, baseline_dir: Path | None) -> int:
    """Check the gates, print the table and failures; return the exit status (0 pass, 1 fail)."""
    report = check_gates(run_dir, gate_path, baseline_dir)
    print(report.text)
    return report.status

from __future__ import annotations

import pytest

from evals.tools.calculator import CalcError, CalculatorTool, calculate


@pytest.mark.parametrize("expr, want", [
    ("9.11 > 9.9", "False"),
    ("9.9 > 9.11", "True"),
    ("0.1 + 0.2", "0.3"),
    ("(17 * 23) / 4", "97.75"),
    ("2 ** 10", "1024"),
    ("7 // 2", "3"),
    ("7 % 3", "1"),
    ("-3.50 + 1", "-2.5"),
    ("1 < 2 < 3", "True"),
    ("1_000 * 3", "3000"),
    ("12345678901234567890 * 98765432109876543210", "1219326311370217952237463801111263526900"),
    ("3 × 4 ÷ 2", "6"),
])
def test_arithmetic_is_exact(expr, want):
    assert calculate(expr) == want


@pytest.mark.parametrize("expr, reason", [
    ("x + 1", "names"),
    ("__import__('os')", "function calls"),
    ("(1).real", "attribute"),
    ("().__class__", "attribute"),
    ("abs(-1)", "function calls"),
    ("9 ** 9 ** 9", "exponent"),
    ("2 ** 100000", "exponent"),
    ("(10 ** 999) ** 999", "too large"),
    ("1 / 0", "division by zero"),
    ("3 ^ 2", r"use \*\*"),
    ("'a' * 3", "only numbers"),
    ("[1, 2]", "not allowed"),
    ("", "empty"),
    ("1 +", "cannot parse"),
    ("1" * 600, "longer than"),
    ("True + 1", "only numbers"),
])
def test_rejections_are_clear(expr, reason):
    with pytest.raises(CalcError, match=reason):
        calculate(expr)


def test_tool_reports_errors_not_exceptions():
    tool = CalculatorTool()
    assert tool.run({"expression": "2 * 21"}).output == "42"
    bad = tool.run({"expression": "os.system('ls')"})
    assert bad.error and bad.error.startswith("calculator:")
    assert tool.run({"expr": "1"}).error
    assert tool.spec()["function"]["name"] == "calculator"

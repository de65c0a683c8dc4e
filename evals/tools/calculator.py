"""The `calculator` tool: exact decimal arithmetic and comparisons, parsed with `ast` (never eval)."""

from __future__ import annotations

import ast
import decimal
from decimal import Decimal
from typing import Any

from evals.tools.base import Tool, ToolResult, string_argument

MAX_EXPONENT = 1000  # |b| in a ** b
MAX_LENGTH = 500  # characters in the expression
CONTEXT = decimal.Context(prec=50, Emax=100_000, Emin=-100_000,
                          traps=[decimal.InvalidOperation, decimal.DivisionByZero, decimal.Overflow])

_BINOPS = {ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/", ast.FloorDiv: "//", ast.Mod: "%",
           ast.Pow: "**"}
_CMPOPS = {ast.Lt: Decimal.__lt__, ast.LtE: Decimal.__le__, ast.Gt: Decimal.__gt__, ast.GtE: Decimal.__ge__,
           ast.Eq: Decimal.__eq__, ast.NotEq: Decimal.__ne__}


class CalcError(ValueError):
    pass


def _number(node: ast.Constant, source: str) -> Decimal:
    if isinstance(node.value, bool) or not isinstance(node.value, (int, float)):
        raise CalcError(f"only numbers are allowed, not {node.value!r}")
    text = (ast.get_source_segment(source, node) or repr(node.value)).replace("_", "")
    return Decimal(text)  # from the text, so 0.1 stays exactly 0.1


def _binop(op: ast.operator, a: Decimal, b: Decimal) -> Decimal:
    if isinstance(op, ast.Pow):
        if abs(b) > MAX_EXPONENT:
            raise CalcError(f"exponent {b} is too large (limit {MAX_EXPONENT})")
        if abs(a.adjusted()) * abs(b) > CONTEXT.Emax:
            raise CalcError("result too large")
        return CONTEXT.power(a, b)
    if isinstance(op, ast.Add):
        return CONTEXT.add(a, b)
    if isinstance(op, ast.Sub):
        return CONTEXT.subtract(a, b)
    if isinstance(op, ast.Mult):
        return CONTEXT.multiply(a, b)
    if isinstance(op, ast.Div):
        return CONTEXT.divide(a, b)
    if isinstance(op, ast.FloorDiv):
        return CONTEXT.divide_int(a, b)
    return CONTEXT.remainder(a, b)


def _eval(node: ast.AST, source: str) -> Decimal | bool:
    if isinstance(node, ast.Expression):
        return _eval(node.body, source)
    if isinstance(node, ast.Constant):
        return _number(node, source)
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.UAdd, ast.USub)):
        value = _num(node.operand, source)
        return CONTEXT.minus(value) if isinstance(node.op, ast.USub) else CONTEXT.plus(value)
    if isinstance(node, ast.BinOp):
        if type(node.op) not in _BINOPS:
            hint = " (use ** for powers)" if isinstance(node.op, ast.BitXor) else ""
            raise CalcError(f"operator {type(node.op).__name__} is not supported{hint}")
        return _binop(node.op, _num(node.left, source), _num(node.right, source))
    if isinstance(node, ast.Compare):
        left = _num(node.left, source)
        for op, right_node in zip(node.ops, node.comparators, strict=True):
            if type(op) not in _CMPOPS:
                raise CalcError(f"comparison {type(op).__name__} is not supported")
            right = _num(right_node, source)
            if not _CMPOPS[type(op)](left, right):
                return False
            left = right
        return True
    if isinstance(node, ast.Name):
        raise CalcError(f"names are not allowed ({node.id!r}): write numbers only")
    if isinstance(node, ast.Attribute):
        raise CalcError("attribute access is not allowed")
    if isinstance(node, ast.Call):
        raise CalcError("function calls are not allowed")
    raise CalcError(f"{type(node).__name__} is not allowed: only numbers, + - * / // % ** and comparisons")


def _num(node: ast.AST, source: str) -> Decimal:
    value = _eval(node, source)
    if isinstance(value, bool):
        raise CalcError("a comparison cannot be used as a number")
    return value


def format_decimal(value: Decimal) -> str:
    value = value.normalize(CONTEXT)
    if value == 0:
        return "0"
    if -30 < value.adjusted() < 60:
        return format(value, "f")
    return str(value)


def calculate(expression: str) -> str:
    """Evaluate an arithmetic expression or comparison exactly; raises CalcError with a clear reason."""
    expr = expression.strip().replace("×", "*").replace("÷", "/").replace("−", "-")
    if not expr:
        raise CalcError("the expression is empty")
    if len(expr) > MAX_LENGTH:
        raise CalcError(f"the expression is longer than {MAX_LENGTH} characters")
    try:
        tree = ast.parse(expr, mode="eval")
    except SyntaxError as exc:
        raise CalcError(f"cannot parse {expr!r}: {exc.msg}") from None
    try:
        value = _eval(tree, expr)
    except decimal.DivisionByZero:
        raise CalcError("division by zero") from None
    except decimal.Overflow:
        raise CalcError("result too large") from None
    except decimal.InvalidOperation:
        raise CalcError("invalid operation (e.g. 0/0 or a fractional power of a negative number)") from None
    return str(value) if isinstance(value, bool) else format_decimal(value)


class CalculatorTool(Tool):
    name = "calculator"
    description = ("Exact decimal arithmetic and comparisons: numbers, + - * / // % ** and < <= > >= == !=, "
                   "e.g. `9.11 > 9.9` or `(17 * 23) / 4`. Comparisons return True or False.")
    parameters = string_argument("expression", "e.g. 9.11 > 9.9")
    text_syntax = "a line `calculator: EXPRESSION`"

    def _run(self, arguments: dict[str, Any]) -> ToolResult:
        try:
            return ToolResult(output=calculate(arguments["expression"]))
        except CalcError as exc:
            return ToolResult(error=f"calculator: {exc}")

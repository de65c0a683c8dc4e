"""Load and validate suite files; every problem becomes one `path:line: field: reason` line."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError

from evals.errors import UserError
from evals.schema import Suite

Loc = tuple[str | int, ...]


@dataclass(frozen=True)
class LoadedSuite:
    suite: Suite
    path: Path
    sha256: str


def _line_map(node: yaml.Node, loc: Loc = (), out: dict[Loc, int] | None = None) -> dict[Loc, int]:
    """Map every key path in a YAML document to its 1-based line."""
    out = {} if out is None else out
    out.setdefault(loc, node.start_mark.line + 1)
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            child = (*loc, key.value)
            out[child] = key.start_mark.line + 1
            _line_map(value, child, out)
            out[child] = key.start_mark.line + 1
    elif isinstance(node, yaml.SequenceNode):
        for index, value in enumerate(node.value):
            _line_map(value, (*loc, index), out)
    return out


def _line_for(loc: Loc, lines: dict[Loc, int]) -> int:
    while loc not in lines and loc:
        loc = loc[:-1]
    return lines.get(loc, 1)


def format_loc(loc: Iterable[str | int]) -> str:
    text = ""
    for part in loc:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text or "(file)"


def _clean_loc(loc: tuple[Any, ...]) -> Loc:
    # pydantic adds the union tag (e.g. "abstain") and validator names to the location: drop them.
    out: list[str | int] = []
    for part in loc:
        if isinstance(part, str) and part.startswith(("function-", "tagged-union[")):
            continue
        out.append(part)
    return tuple(out)


def validation_lines(path: str, exc: ValidationError, lines: dict[Loc, int], data: Any) -> list[str]:
    problems = []
    for err in exc.errors():
        loc = _clean_loc(err["loc"])
        # drop a trailing union tag that is not a real key in the data
        node: Any = data
        real: list[str | int] = []
        for part in loc:
            if isinstance(node, dict) and part not in node and node.get("kind") == part:
                continue  # the discriminated union's tag, not a key
            if isinstance(node, dict) and part in node:
                node = node[part]
                real.append(part)
            elif isinstance(node, list) and isinstance(part, int) and part < len(node):
                node = node[part]
                real.append(part)
            elif err["type"] in ("missing", "extra_forbidden") and part == loc[-1]:
                real.append(part)
            else:
                break
        if err["type"] in ("union_tag_invalid", "union_tag_not_found") and isinstance(node, dict):
            real.append("kind")
        msg = err["msg"].removeprefix("Value error, ")
        if err["type"] == "extra_forbidden":
            msg = "unknown field"
        elif err["type"] == "missing":
            msg = "field required"
        problems.append(f"{path}:{_line_for(tuple(real), lines)}: {format_loc(real)}: {msg}")
    return problems


def read_text(path: Path, display: str) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except OSError as exc:
        raise UserError(f"{display}: cannot read: {exc.strerror}") from exc
    except UnicodeDecodeError as exc:
        raise UserError(f"{display}: not UTF-8 text") from exc


#: libyaml's safe loader when PyYAML was built with it: several times faster, and a fraction of the peak memory
FAST_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def line_map(text: str) -> dict[Loc, int]:
    """Key path -> line. Built only when there is a problem to place: a node tree with marks costs
    far more memory than the data (tens of MB for a 10,000-item suite)."""
    node = yaml.compose(text, Loader=yaml.SafeLoader)
    return _line_map(node) if node is not None else {}


def yaml_error_line(exc: yaml.YAMLError) -> tuple[int, str]:
    """(1-based line, reason) of a YAML syntax error."""
    mark = getattr(exc, "problem_mark", None)
    return (mark.line + 1 if mark else 1), getattr(exc, "problem", None) or str(exc).splitlines()[0]


def parse_yaml(path: Path, display: str) -> tuple[Any, str]:
    """(data, text) of a YAML file; a syntax error becomes one `path:line:` UserError."""
    text = read_text(path, display)
    try:
        return yaml.load(text, Loader=FAST_LOADER), text
    except yaml.YAMLError as exc:
        line, reason = yaml_error_line(exc)
        raise UserError(f"{display}:{line}: (file): YAML syntax error: {reason}") from exc


def validate_model(model: type[BaseModel], path: Path, display: str | None = None) -> tuple[Any, str]:
    """Parse a YAML file into `model` (returns it with the file's text), or raise UserError with one
    line per problem."""
    display = display or _display(path)
    data, text = parse_yaml(path, display)
    if not isinstance(data, dict):
        raise UserError(f"{display}:1: (file): expected a mapping at the top level")
    try:
        return model.model_validate(data), text
    except ValidationError as exc:
        raise UserError(*validation_lines(display, exc, line_map(text), data)) from exc


def _display(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def load_suite(path: str | Path) -> LoadedSuite:
    path = Path(path)
    display = _display(path)
    suite, text = validate_model(Suite, path, display)
    seen: dict[str, int] = {}
    duplicates: list[tuple[int, str]] = []
    for index, item in enumerate(suite.items):
        if item.id in seen:
            duplicates.append((index, item.id))
        else:
            seen[item.id] = index
    if duplicates:
        lines = line_map(text)
        raise UserError(*(f"{display}:{_line_for(('items', index, 'id'), lines)}: items[{index}].id: "
                          f"duplicate id {item_id!r} (first at items[{seen[item_id]}])"
                          for index, item_id in duplicates))
    from evals.scoring.registry import kind_problem

    mismatched = [(index, problem) for index, item in enumerate(suite.items)
                  if (problem := kind_problem(suite.check, item.expect.kind))]
    if mismatched:
        lines = line_map(text)
        raise UserError(*(f"{display}:{_line_for(('items', index, 'expect', 'kind'), lines)}: "
                          f"items[{index}].expect.kind: {problem}" for index, problem in mismatched))
    return LoadedSuite(suite=suite, path=path, sha256=hashlib.sha256(path.read_bytes()).hexdigest())


def suite_paths(args: list[str], default_dir: Path = Path("suites")) -> list[Path]:
    """Expand names, files and folders into suite files (a bare name means suites/NAME.yaml)."""
    if not args:
        args = [str(default_dir)]
    out: list[Path] = []
    for arg in args:
        p = Path(arg)
        if p.is_dir():
            out.extend(sorted(q for q in p.glob("*.yaml") if q.is_file()))
        elif p.is_file():
            out.append(p)
        elif (default_dir / f"{arg}.yaml").is_file():
            out.append(default_dir / f"{arg}.yaml")
        else:
            known = sorted(q.stem for q in default_dir.glob("*.yaml"))
            raise UserError(f"{arg}: no such suite file or name (known: {', '.join(known) or 'none'})")
    if not out:
        raise UserError(f"{' '.join(args)}: no suite files found")
    return out


def load_suites(args: list[str]) -> list[LoadedSuite]:
    problems: list[str] = []
    loaded = []
    for path in suite_paths(args):
        try:
            loaded.append(load_suite(path))
        except UserError as exc:
            problems.extend(exc.lines)
    if problems:
        raise UserError(*problems)
    names: dict[str, Path] = {}
    for ls in loaded:
        if ls.suite.name in names:
            raise UserError(f"{_display(ls.path)}:1: name: suite name {ls.suite.name!r} also used by {names[ls.suite.name]}")
        names[ls.suite.name] = ls.path
    return loaded

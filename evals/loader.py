"""Load and validate suite files; every problem becomes one `path:line: field: reason` line."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError
from yaml.constructor import ConstructorError

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

#: most nodes that aliases (`*name`) may add to a document when expanded: a few repeated lists or mappings
#: are fine, a "billion laughs" bomb (aliases of aliases) is refused before anything expands it
MAX_ALIAS_NODES = 100_000
#: deepest nesting of lists and mappings (suite, profile and gate files need fewer than ten levels)
MAX_DEPTH = 100

_TAG = "tag:yaml.org,2002:"
_STR, _MAP, _SEQ, _MERGE, _VALUE = (f"{_TAG}{t}" for t in ("str", "map", "seq", "merge", "value"))
_SCALAR_TAGS = frozenset(f"{_TAG}{t}" for t in ("null", "bool", "int", "float", "binary", "timestamp"))
_IN_PROGRESS = object()
#: where a node is, as a chain (where its parent is, key or index): a `Loc` is made only for a problem
_Where = tuple[Any, str | int] | None


def _loc_of(where: _Where) -> Loc:
    parts: list[str | int] = []
    while where is not None:
        where, part = where
        parts.append(part)
    return tuple(reversed(parts))


class _AliasProblem(Exception):
    """Raised where an alias is met; the list or mapping holding it turns it into a UserError with its line."""

    def __init__(self, where: _Where, reason: str) -> None:
        super().__init__(reason)
        self.where, self.reason = where, reason


class _Builder:
    """Node tree -> plain data (dicts, lists, scalars), as SafeLoader's constructor makes it, but refusing
    what would mislead or explode: a repeated mapping key (PyYAML keeps the last one silently), aliases that
    expand past MAX_ALIAS_NODES nodes, an alias inside itself, nesting past MAX_DEPTH and collection tags
    such as `!!set`. Shared (aliased) nodes stay shared in the data, as with PyYAML."""

    def __init__(self, constructor: yaml.constructor.SafeConstructor, display: str) -> None:
        self.constructor = constructor  # builds the non-string scalars (int, float, bool, null, timestamp)
        self.display = display
        self.memo: dict[int, tuple[Any, int]] = {}  # id(collection node) -> (data, expanded node count)
        self.alias_nodes = 0  # nodes added by aliases, counted as if expanded
        self.problems: list[str] = []

    def fail(self, node: yaml.Node, where: _Where, reason: str) -> UserError:
        return UserError(f"{self.display}:{node.start_mark.line + 1}: {format_loc(_loc_of(where))}: {reason}")

    def alias_problem(self, problem: _AliasProblem, line_node: yaml.Node) -> UserError:
        # an alias's node carries the line of its anchor: name the line of the alias's key or list instead
        return self.fail(line_node, problem.where, problem.reason)

    def scalar(self, node: yaml.Node) -> Any:
        if not isinstance(node, yaml.ScalarNode):
            raise ConstructorError(None, None, f"expected a plain value, found a {node.id}", node.start_mark)
        if node.tag == _STR:
            return node.value
        if node.tag in _SCALAR_TAGS:
            return self.constructor.yaml_constructors[node.tag](self.constructor, node)
        if node.tag not in self.constructor.yaml_constructors:  # e.g. !foo: PyYAML's own ConstructorError
            return self.constructor.construct_undefined(node)
        raise ConstructorError(None, None, f"YAML tag {node.tag!r} does not fit a plain value", node.start_mark)

    def build(self, node: yaml.Node, where: _Where, depth: int) -> tuple[Any, int]:
        """(data, number of nodes it expands to) of the node at `where`."""
        if isinstance(node, yaml.ScalarNode):
            return self.scalar(node), 1
        key = id(node)
        seen = self.memo.get(key)
        if seen is not None:  # the node of an alias: shared again, but it counts as a copy
            if seen[0] is _IN_PROGRESS:
                raise _AliasProblem(where, "YAML alias refers to a node that contains it")
            self.alias_nodes += seen[1]
            if self.alias_nodes > MAX_ALIAS_NODES:
                raise _AliasProblem(where, f"YAML aliases expand to more than {MAX_ALIAS_NODES:,} nodes "
                                    "(an alias bomb?); write the data out or use fewer aliases")
            return seen
        if depth > MAX_DEPTH:
            raise self.fail(node, where, f"nested more than {MAX_DEPTH} levels deep")
        self.memo[key] = (_IN_PROGRESS, 0)
        if node.tag == _SEQ and isinstance(node, yaml.SequenceNode):
            result = self.sequence(node, where, depth)
        elif node.tag == _MAP and isinstance(node, yaml.MappingNode):
            result = self.mapping(node, where, depth)
        else:
            raise ConstructorError(None, None, f"YAML tag {node.tag!r} is not supported here", node.start_mark)
        self.memo[key] = result
        return result

    def sequence(self, node: yaml.SequenceNode, where: _Where, depth: int) -> tuple[list[Any], int]:
        data: list[Any] = []
        size = 1
        scalar_node = yaml.ScalarNode
        for index, child in enumerate(node.value):
            if child.tag == _STR and type(child) is scalar_node:  # the common case, inline
                data.append(child.value)
                size += 1
            else:
                try:
                    value, n = self.build(child, (where, index), depth + 1)
                except _AliasProblem as exc:
                    raise self.alias_problem(exc, node) from None
                data.append(value)
                size += n
        return data, size

    def mapping(self, node: yaml.MappingNode, where: _Where, depth: int) -> tuple[dict[Any, Any], int]:
        data: dict[Any, Any] = {}
        first: dict[Any, yaml.Node] = {}
        merged: dict[Any, Any] | None = None
        size = 1
        scalar_node = yaml.ScalarNode
        for key_node, value_node in node.value:
            tag = key_node.tag
            # `<<` (merge) and `=` (value) keys are strings to SafeLoader until it acts on them
            key = key_node.value if tag in (_STR, _MERGE, _VALUE) and type(key_node) is scalar_node \
                else self.scalar(key_node)
            if key in first:
                self.problems.append(f"{self.display}:{key_node.start_mark.line + 1}: "
                                     f"{format_loc((*_loc_of(where), str(key)))}: duplicate key "
                                     f"(first at line {first[key].start_mark.line + 1})")
                continue
            first[key] = key_node
            if value_node.tag == _STR and type(value_node) is scalar_node:
                value, n = value_node.value, 1
            else:
                try:
                    value, n = self.build(value_node, (where, str(key)), depth + 1)
                except _AliasProblem as exc:
                    raise self.alias_problem(exc, key_node) from None
            size += n + 1
            if tag == _MERGE:  # `<<: *base` or `<<: [*a, *b]`: earlier sources win, own keys win over all
                sources = value if isinstance(value, list) else [value]
                if not all(isinstance(source, dict) for source in sources):
                    raise ConstructorError(None, None, "expected a mapping or list of mappings for merging",
                                           value_node.start_mark)
                merged = {}
                for source in reversed(sources):
                    merged.update(source)
            else:
                data[key] = value
        return ({**merged, **data} if merged is not None else data), size


def compose_yaml(text: str, display: str, loader: type[Any] = FAST_LOADER) -> tuple[yaml.Node | None, Any]:
    """(root node, data) of a YAML document, checked by `_Builder`: every problem becomes a
    `path:line: field: reason` UserError; YAML syntax errors are raised as yaml.YAMLError."""
    instance = loader(text)
    try:
        try:
            root = instance.get_single_node()
        except RecursionError:  # only the pure-Python composer recurses; libyaml stops at 1,000 levels
            raise UserError(f"{display}:1: (file): nested more than {MAX_DEPTH} levels deep") from None
        if root is None:
            return None, None
        builder = _Builder(instance, display)
        data, _ = builder.build(root, None, 0)
        if builder.problems:
            raise UserError(*builder.problems)
        return root, data
    finally:
        instance.dispose()


def line_map(text: str) -> dict[Loc, int]:
    """Key path -> line. Built only when there is a problem to place: a node tree with marks costs
    far more memory than the data (tens of MB for a 10,000-item suite). Only for text that
    `compose_yaml` accepted (its alias and depth limits keep this walk small)."""
    node = yaml.compose(text, Loader=yaml.SafeLoader)
    return _line_map(node) if node is not None else {}


def yaml_error_line(exc: yaml.YAMLError) -> tuple[int, str]:
    """(1-based line, reason) of a YAML syntax error."""
    mark = getattr(exc, "problem_mark", None)
    return (mark.line + 1 if mark else 1), getattr(exc, "problem", None) or str(exc).splitlines()[0]


def parse_yaml(path: Path, display: str) -> tuple[Any, str]:
    """(data, text) of a YAML file (suite, profile): problems become one `path:line:` UserError line each --
    not UTF-8, a syntax error, a repeated key, an alias bomb (see `compose_yaml`)."""
    text = read_text(path, display)
    try:
        return compose_yaml(text, display)[1], text
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


def _tool_problems(suite: Suite, path: Path) -> list[tuple[Loc, str]]:
    """What would stop the tools phase of a run (the names themselves are checked by the schema): `search`
    without a `corpus:`, or a corpus folder that is missing or holds no documents."""
    if suite.corpus is None:
        return [(("tools", suite.tools.index("search")), "tool 'search' needs a `corpus:` folder of documents "
                 "(relative to the suite file)")] if "search" in suite.tools else []
    from evals.tools.search import SUFFIXES

    folder = path.parent / suite.corpus
    if not folder.is_dir():
        return [(("corpus",), f"folder not found: {folder}")]
    if not any(p.suffix.lower() in SUFFIXES and p.name.lower() != "readme.md" and p.is_file()
               for p in folder.rglob("*")):
        return [(("corpus",), f"no .md/.txt documents in {folder}")]
    return []


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
    if problems := _tool_problems(suite, path):
        lines = line_map(text)
        raise UserError(*(f"{display}:{_line_for(loc, lines)}: {format_loc(loc)}: {reason}" for loc, reason in problems))
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

"""Read YAML as plain data, remembering the line and column of every value.

PyYAML's constructors are never run: the text is *composed* into a node tree
with a subclass of ``yaml.SafeLoader`` and the nodes are converted here, so
that

* every value's path (``("games", 0, "outcomes", 2, "deal", "mineral_share")``)
  maps to the line and column where it is written (for a mapping entry, where
  its key is written; for a list item, where the item starts);
* any tag other than the plain-data ones (``!!str !!int !!float !!bool !!null
  !!seq !!map``) is an error with its line: ``!!python/object/apply:os.system``
  is reported, never constructed, never run;
* duplicate mapping keys are errors (PyYAML silently keeps the last one);
* mapping keys must be text (a scenario's keys are field names and ids);
* aliases cannot recurse or blow up into huge documents ("billion laughs").

Plain scalars are resolved by the YAML 1.2 core schema rather than PyYAML's
YAML 1.1 rules: only ``true``/``false`` are booleans (so Norway's id ``NO`` and
a strategy called ``yes`` or ``off`` stay text), ``1e-3`` is a number, and
``012`` is twelve, not octal ten. Timestamps are not recognised (dates stay
text) and merge keys (``<<``) are not supported.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

__all__ = [
    "Path",
    "Position",
    "YamlDocument",
    "format_path",
    "nearest_position",
    "read_yaml",
]

Path = tuple[str | int, ...]
"""Where a value sits in the document: mapping keys and list indices."""

MAX_NODES = 500_000
"""Most values a document may expand to (aliases count every time they are used)."""

MAX_DEPTH = 200
"""Deepest nesting of lists and mappings accepted."""

_TAG = "tag:yaml.org,2002:"
_STR, _INT, _FLOAT, _BOOL, _NULL = (_TAG + t for t in ("str", "int", "float", "bool", "null"))
_SEQ, _MAP = _TAG + "seq", _TAG + "map"


class _Loader(yaml.SafeLoader):
    """SafeLoader with YAML 1.2 core-schema resolution of plain scalars."""

    yaml_implicit_resolvers: dict[Any, Any] = {}  # noqa: RUF012  (PyYAML's class-level table)


for _tag, _pattern, _first in [
    (_NULL, r"^(?:~|null|Null|NULL|)$", ["~", "n", "N", ""]),
    (_BOOL, r"^(?:true|True|TRUE|false|False|FALSE)$", list("tTfF")),
    (_INT, r"^(?:[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+)$", list("-+0123456789")),
    (
        _FLOAT,
        r"^(?:[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?"
        r"|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$",
        list("-+0123456789."),
    ),
]:
    _Loader.add_implicit_resolver(_tag, re.compile(_pattern), _first)


@dataclass(frozen=True)
class Position:
    """1-based line and column in the source text."""

    line: int
    column: int


@dataclass
class YamlDocument:
    """The plain data read from a YAML text, with positions and problems.

    ``data`` is built from dicts, lists, str, int, float, bool and None (``None``
    for an empty or unreadable text); ``positions`` maps paths to positions;
    ``problems`` lists ``(path, position, message)`` for everything that was
    wrong (values with problems are left out of ``data``).
    """

    data: Any
    positions: dict[Path, Position] = field(default_factory=dict)
    problems: list[tuple[Path, Position | None, str]] = field(default_factory=list)


def read_yaml(text: str) -> YamlDocument:
    """Compose ``text`` safely and convert it to plain data with positions."""
    try:
        root = yaml.compose(text, Loader=_Loader)  # a SafeLoader subclass: no constructors run
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        position = None if mark is None else Position(mark.line + 1, mark.column + 1)
        what = "; ".join(p for p in (exc.context, exc.problem) if p)
        return YamlDocument(None, {}, [((), position, f"not valid YAML: {what}")])
    except yaml.YAMLError as exc:
        return YamlDocument(None, {}, [((), None, f"not valid YAML: {exc}")])
    if root is None:
        return YamlDocument(None, {}, [])
    converter = _Converter()
    data = converter.convert(root, (), 0)
    converter.positions.setdefault((), _position(root))
    return YamlDocument(data, converter.positions, converter.problems)


class _Converter:
    def __init__(self) -> None:
        self.positions: dict[Path, Position] = {}
        self.problems: list[tuple[Path, Position | None, str]] = []
        self.count = 0
        self.active: set[int] = set()
        self.too_large = False

    def problem(self, path: Path, node: Node, message: str) -> None:
        self.problems.append((path, _position(node), message))

    def convert(self, node: Node, path: Path, depth: int) -> Any:
        self.count += 1
        if self.count > MAX_NODES:
            if not self.too_large:
                self.too_large = True
                self.problem(
                    path, node, f"document too large: it expands to more than {MAX_NODES} values"
                )
            return None
        if depth > MAX_DEPTH:
            self.problem(path, node, f"nested too deeply (more than {MAX_DEPTH} levels)")
            return None
        if id(node) in self.active:
            self.problem(path, node, "an alias refers to a value that contains it")
            return None
        if isinstance(node, ScalarNode):
            return self.scalar(node, path)
        self.active.add(id(node))
        try:
            if isinstance(node, SequenceNode):
                return self.sequence(node, path, depth)
            if isinstance(node, MappingNode):
                return self.mapping(node, path, depth)
        finally:
            self.active.discard(id(node))
        self.problem(path, node, "unsupported YAML node")  # pragma: no cover
        return None

    def sequence(self, node: SequenceNode, path: Path, depth: int) -> list[Any] | None:
        if node.tag != _SEQ:
            self.problem(path, node, _bad_tag(node.tag))
            return None
        items = []
        for index, item in enumerate(node.value):
            item_path = (*path, index)
            self.positions[item_path] = _position(item)
            items.append(self.convert(item, item_path, depth + 1))
        return items

    def mapping(self, node: MappingNode, path: Path, depth: int) -> dict[str, Any] | None:
        if node.tag != _MAP:
            self.problem(path, node, _bad_tag(node.tag))
            return None
        result: dict[str, Any] = {}
        first_seen: dict[str, Position] = {}
        for key_node, value_node in node.value:
            key = self.key(key_node, path)
            if key is None:
                continue
            key_path = (*path, key)
            where = _position(key_node)
            if key in first_seen:
                self.problems.append(
                    (
                        key_path,
                        where,
                        f"duplicate key {key!r} (first given on line {first_seen[key].line})",
                    )
                )
                continue
            first_seen[key] = where
            self.positions[key_path] = where
            result[key] = self.convert(value_node, key_path, depth + 1)
        return result

    def key(self, node: Node, path: Path) -> str | None:
        if not isinstance(node, ScalarNode):
            kind = "a list" if isinstance(node, SequenceNode) else "a mapping"
            self.problem(path, node, f"a key must be a name (text), not {kind}")
            return None
        if node.tag == _STR:
            if node.value == "<<" and node.style is None:
                self.problem(path, node, "merge keys (<<) are not supported")
                return None
            return str(node.value)
        value = self.scalar(node, path)
        if node.tag in (_INT, _FLOAT, _BOOL, _NULL):
            shown = "null" if value is None else str(value).lower()
            self.problem(
                path,
                node,
                f"a key must be a name (text), not {_kind_of(value)} {shown}; "
                f"quote it if it is meant as text: '{node.value}'",
            )
        return None

    def scalar(self, node: ScalarNode, path: Path) -> Any:
        text = node.value
        tag = node.tag
        if tag == _STR:
            return text
        if tag == _NULL:
            if text in ("", "~", "null", "Null", "NULL"):
                return None
        elif tag == _BOOL:
            if text in ("true", "True", "TRUE"):
                return True
            if text in ("false", "False", "FALSE"):
                return False
        elif tag == _INT:
            number = _parse_int(text)
            if number is not None:
                return number
        elif tag == _FLOAT:
            number_f = _parse_float(text)
            if number_f is not None:
                return number_f
        else:
            self.problem(path, node, _bad_tag(tag))
            return None
        self.problem(path, node, f"{text!r} is not a valid {tag.removeprefix(_TAG)}")
        return None


def _parse_int(text: str) -> int | None:
    body = text.replace("_", "")
    sign = -1 if body.startswith("-") else 1
    body = body.lstrip("+-")
    try:
        if body.startswith("0x"):
            return sign * int(body[2:], 16)
        if body.startswith("0o"):
            return sign * int(body[2:], 8)
        return sign * int(body, 10)
    except ValueError:
        return None


def _parse_float(text: str) -> float | None:
    lowered = text.lower()
    if lowered in (".inf", "+.inf"):
        return math.inf
    if lowered == "-.inf":
        return -math.inf
    if lowered == ".nan":
        return math.nan
    try:
        return float(text.replace("_", ""))
    except ValueError:
        return None


def _bad_tag(tag: str) -> str:
    shown = "!!" + tag.removeprefix(_TAG) if tag.startswith(_TAG) else tag
    return (
        f"unsupported YAML tag {shown!r}: scenario files hold plain data only "
        "(text, numbers, true/false, lists and mappings)"
    )


def _kind_of(value: Any) -> str:
    if isinstance(value, bool):
        return "the boolean"
    if value is None:
        return "the value"
    return "the number"


def _position(node: Node) -> Position:
    return Position(node.start_mark.line + 1, node.start_mark.column + 1)


_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def format_path(path: Path) -> str:
    """``("games", 0, "deal", "x")`` as ``games[0].deal.x``."""
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        elif _IDENTIFIER.match(part) or (part and "." not in part and " " not in part):
            out += f".{part}" if out else part
        else:
            out += f"[{part!r}]"
    return out


def nearest_position(positions: Mapping[Path, Position], path: Path) -> Position | None:
    """The position of ``path`` or of its nearest ancestor that has one."""
    for end in range(len(path), -1, -1):
        found = positions.get(path[:end])
        if found is not None:
            return found
    return None

"""Safe arithmetic expressions for scenario files, evaluated on numpy arrays.

Scenario files are data, so the utilities written in them (``"0.8 * guarantee -
mineral_share"``) are never handed to Python's ``eval``. They are read by a small
recursive-descent parser (precedence climbing, as in Wirth, *Compilerbau*, 1976)
that accepts exactly this language and nothing else:

=====================  ===================================================
numbers                ``3``, ``0.25``, ``.5``, ``1e-3``
names                  issue and parameter names (identifiers)
arithmetic             ``+ - * / **``, unary ``-`` and ``+``, parentheses
comparisons            ``< <= > >= == !=`` (1.0 when true, 0.0 when false)
functions              ``min(a, b, ...)``, ``max(a, b, ...)`` (element-wise,
                       two or more arguments), ``abs(x)``, ``sqrt(x)``,
                       ``log(x)`` (natural), ``exp(x)``, ``clip(x, lo, hi)``,
                       ``where(cond, a, b)`` (``a`` where ``cond`` is non-zero)
=====================  ===================================================

Precedence follows Python: ``**`` binds tightest and is right-associative
(``-x ** 2`` is ``-(x ** 2)``), then unary signs, then ``* /``, then ``+ -``,
then one comparison (chains such as ``a < b < c`` are rejected). Anything else
(attribute access, subscripts, strings, ``^``, ``and``/``or``, keyword
arguments, other functions, dunder names, ...) raises :class:`ExpressionError`
with the 1-based column of the offending token.

A parsed :class:`Expression` is compiled once into nested closures over numpy
operations, so evaluating it on a grid of a million deals costs a handful of
array operations. Every result must be finite: a logarithm of a negative number
or a division by zero raises :class:`NonFiniteError` naming the sub-expression
and the values at which it failed.
"""

from __future__ import annotations

import functools
import keyword
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from fractions import Fraction
from functools import reduce
from typing import Any

import numpy as np
import numpy.typing as npt

__all__ = [
    "FUNCTIONS",
    "MAX_DEPTH",
    "MAX_LENGTH",
    "BoundExpression",
    "Expression",
    "ExpressionError",
    "NonFiniteError",
    "parse_expression",
]

MAX_LENGTH = 10_000
"""Longest expression text accepted, in characters."""

MAX_DEPTH = 100
"""Deepest nesting accepted (parentheses, signs, powers and calls)."""

# Name -> (fewest, most) arguments; None means "no upper limit".
FUNCTIONS: dict[str, tuple[int, int | None]] = {
    "min": (2, None),
    "max": (2, None),
    "abs": (1, 1),
    "sqrt": (1, 1),
    "log": (1, 1),
    "exp": (1, 1),
    "clip": (3, 3),
    "where": (3, 3),
}

_FORBIDDEN_CHARACTERS = {
    "'": "strings are not allowed in expressions",
    '"': "strings are not allowed in expressions",
    "[": "subscripts and lists are not allowed in expressions",
    "]": "subscripts and lists are not allowed in expressions",
    "{": "braces are not allowed in expressions",
    "}": "braces are not allowed in expressions",
    ".": "attribute access ('.') is not allowed in expressions",
    "^": "'^' is not allowed; write powers as **",
    "%": "'%' is not allowed in expressions",
    "@": "'@' is not allowed in expressions",
    "~": "'~' is not allowed in expressions",
    "&": "'&' is not allowed; combine conditions with where(...) or min/max",
    "|": "'|' is not allowed; combine conditions with where(...) or min/max",
    "=": "'=' is not allowed (no keyword arguments or assignments); compare with ==",
    "!": "'!' is not allowed; compare with !=",
    ":": "':' is not allowed in expressions",
    ";": "';' is not allowed in expressions",
    "\\": "'\\' is not allowed in expressions",
}

_FORBIDDEN_PAIRS = {
    "//": "'//' is not allowed; divide with /",
    "<<": "'<<' is not allowed in expressions",
    ">>": "'>>' is not allowed in expressions",
}

_KEYWORD_HINTS = {
    "and": "combine conditions with where(...) or min/max",
    "or": "combine conditions with where(...) or min/max",
    "not": "use where(cond, 0, 1)",
    "if": "use where(cond, a, b)",
    "else": "use where(cond, a, b)",
    "lambda": "functions cannot be defined in expressions",
}


class ExpressionError(ValueError):
    """An expression that is not in the language, or that cannot be evaluated.

    ``message`` says what is wrong and what was expected, ``column`` is the
    1-based column of the offending token in ``source`` (``None`` when the
    problem is not at one place).
    """

    def __init__(self, message: str, column: int | None = None, source: str = "") -> None:
        self.message = message
        self.column = column
        self.source = source
        where = f" (column {column})" if column is not None else ""
        super().__init__(f"{message}{where}")


class NonFiniteError(ExpressionError):
    """An expression evaluated to infinity or NaN somewhere on its input grid.

    ``index`` is the first such position in the broadcast result, ``values``
    the input values there, ``value`` the non-finite result, ``detail`` the
    innermost failing sub-expression and its value.
    """

    def __init__(
        self,
        message: str,
        column: int | None,
        source: str,
        index: tuple[int, ...],
        values: dict[str, float],
        value: float,
    ) -> None:
        super().__init__(message, column, source)
        self.index = index
        self.values = values
        self.value = value


# --------------------------------------------------------------------- tokens
@dataclass(frozen=True)
class _Token:
    kind: str  # "num", "name", "op", "end", or "bad" (text is then the error message)
    text: str
    start: int  # 0-based character offset


_TWO_CHAR_OPS = ("**", "<=", ">=", "==", "!=")
_ONE_CHAR_OPS = "+-*/<>(),"


def _tokenize(text: str) -> list[_Token]:
    """Split ``text`` into tokens.

    Characters outside the language become ``"bad"`` tokens carrying the error
    message, so that the parser reports problems in the order they appear.
    """
    tokens: list[_Token] = []
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if c in " \t\r\n":
            i += 1
            continue
        if c.isdigit() or (c == "." and i + 1 < n and text[i + 1].isdigit()):
            j = _scan_number(text, i)
            tokens.append(_Token("num", text[i:j], i))
            if j < n and (text[j].isalnum() or text[j] == "_"):
                tokens.append(
                    _Token(
                        "bad",
                        f"a number cannot be followed directly by {text[j]!r}; "
                        "write multiplication with * (2 * x)",
                        j,
                    )
                )
            i = j
            continue
        if c.isascii() and (c.isalpha() or c == "_"):
            j = i + 1
            while j < n and text[j].isascii() and (text[j].isalnum() or text[j] == "_"):
                j += 1
            name = text[i:j]
            if name.startswith("__"):
                tokens.append(_Token("bad", "names starting with '__' are not allowed", i))
            elif keyword.iskeyword(name) or keyword.issoftkeyword(name):
                hint = _KEYWORD_HINTS.get(name, "it is a Python keyword, not part of the language")
                tokens.append(_Token("bad", f"{name!r} is not allowed in expressions; {hint}", i))
            else:
                tokens.append(_Token("name", name, i))
            i = j
            continue
        pair = text[i : i + 2]
        if pair in _FORBIDDEN_PAIRS:
            tokens.append(_Token("bad", _FORBIDDEN_PAIRS[pair], i))
            i += 2
            continue
        if pair in _TWO_CHAR_OPS:
            tokens.append(_Token("op", pair, i))
            i += 2
            continue
        if c in _ONE_CHAR_OPS:
            tokens.append(_Token("op", c, i))
            i += 1
            continue
        tokens.append(_Token("bad", _FORBIDDEN_CHARACTERS.get(c, f"unexpected character {c!r}"), i))
        i += 1
    tokens.append(_Token("end", "", n))
    return tokens


def _scan_number(text: str, i: int) -> int:
    n = len(text)
    j = i
    while j < n and text[j].isdigit():
        j += 1
    if j < n and text[j] == ".":
        j += 1
        while j < n and text[j].isdigit():
            j += 1
    if j < n and text[j] in "eE":
        k = j + 1
        if k < n and text[k] in "+-":
            k += 1
        if k < n and text[k].isdigit():
            while k < n and text[k].isdigit():
                k += 1
            j = k
    return j


# ---------------------------------------------------------------------- nodes
_Env = Mapping[str, Any]
_Fn = Callable[[_Env], Any]


class _Node:
    """A parsed sub-expression: its text span and its compiled closure."""

    __slots__ = ("depth", "end", "fn", "start")

    def __init__(self, start: int, end: int, depth: int) -> None:
        self.start = start
        self.end = end
        self.depth = depth
        self.fn: _Fn = self._compile()

    def children(self) -> tuple[_Node, ...]:
        return ()

    def _compile(self) -> _Fn:
        raise NotImplementedError

    def exact(self) -> Fraction | None:
        """The value as a fraction when the node is constant and rational."""
        return None


class _Number(_Node):
    __slots__ = ("text", "value")

    def __init__(self, text: str, start: int, end: int) -> None:
        self.text = text
        self.value = np.float64(float(text))
        super().__init__(start, end, 1)

    def _compile(self) -> _Fn:
        value = self.value
        return lambda env: value

    def exact(self) -> Fraction | None:
        return Fraction(self.text)


class _Name(_Node):
    __slots__ = ("name",)

    def __init__(self, name: str, start: int, end: int) -> None:
        self.name = name
        super().__init__(start, end, 1)

    def _compile(self) -> _Fn:
        name = self.name
        return lambda env: env[name]


class _Negate(_Node):
    __slots__ = ("operand",)

    def __init__(self, operand: _Node, start: int) -> None:
        self.operand = operand
        super().__init__(start, operand.end, operand.depth + 1)

    def children(self) -> tuple[_Node, ...]:
        return (self.operand,)

    def _compile(self) -> _Fn:
        f = self.operand.fn
        return lambda env: -f(env)

    def exact(self) -> Fraction | None:
        value = self.operand.exact()
        return None if value is None else -value


class _Chain(_Node):
    """``t0 op1 t1 op2 t2 ...`` for one precedence level (``+ -`` or ``* /``).

    Kept n-ary rather than as nested binary nodes so that a long sum does not
    make a deep tree.
    """

    __slots__ = ("ops", "terms")

    def __init__(self, terms: list[_Node], ops: list[str]) -> None:
        self.terms = terms
        self.ops = ops
        super().__init__(terms[0].start, terms[-1].end, 1 + max(t.depth for t in terms))

    def children(self) -> tuple[_Node, ...]:
        return tuple(self.terms)

    def _compile(self) -> _Fn:
        first = self.terms[0].fn
        rest = [(_BINARY[op], t.fn) for op, t in zip(self.ops, self.terms[1:], strict=True)]
        if len(rest) == 1:
            (op, second) = rest[0]
            return lambda env: op(first(env), second(env))

        def chain(env: _Env) -> Any:
            acc = first(env)
            for op, f in rest:
                acc = op(acc, f(env))
            return acc

        return chain

    def exact(self) -> Fraction | None:
        acc = self.terms[0].exact()
        for op, term in zip(self.ops, self.terms[1:], strict=True):
            value = term.exact()
            if acc is None or value is None or (op == "/" and value == 0):
                return None
            acc = _EXACT_BINARY[op](acc, value)
        return acc


class _Power(_Node):
    __slots__ = ("base", "exponent")

    def __init__(self, base: _Node, exponent: _Node) -> None:
        self.base = base
        self.exponent = exponent
        super().__init__(base.start, exponent.end, 1 + max(base.depth, exponent.depth))

    def children(self) -> tuple[_Node, ...]:
        return (self.base, self.exponent)

    def _compile(self) -> _Fn:
        b, e = self.base.fn, self.exponent.fn
        return lambda env: np.power(b(env), e(env))

    def exact(self) -> Fraction | None:
        base, exponent = self.base.exact(), self.exponent.exact()
        # Only small integer powers stay rational and cheap.
        if base is None or exponent is None or exponent.denominator != 1:
            return None
        if abs(exponent) > 64 or (base == 0 and exponent < 0):
            return None
        return base ** int(exponent)


class _Compare(_Node):
    __slots__ = ("left", "op", "right")

    def __init__(self, left: _Node, op: str, right: _Node) -> None:
        self.left = left
        self.op = op
        self.right = right
        super().__init__(left.start, right.end, 1 + max(left.depth, right.depth))

    def children(self) -> tuple[_Node, ...]:
        return (self.left, self.right)

    def _compile(self) -> _Fn:
        a, b, op = self.left.fn, self.right.fn, _COMPARE[self.op]
        # Comparisons give floats so that they can take part in arithmetic.
        return lambda env: np.asarray(op(a(env), b(env)), dtype=float)

    def exact(self) -> Fraction | None:
        a, b = self.left.exact(), self.right.exact()
        if a is None or b is None:
            return None
        return Fraction(int(bool(_COMPARE[self.op](a, b))))


class _Call(_Node):
    __slots__ = ("args", "function")

    def __init__(self, function: str, args: list[_Node], start: int, end: int) -> None:
        self.function = function
        self.args = args
        super().__init__(start, end, 1 + max(a.depth for a in args))

    def children(self) -> tuple[_Node, ...]:
        return tuple(self.args)

    def _compile(self) -> _Fn:
        fns = [a.fn for a in self.args]
        name = self.function
        if name in ("min", "max"):
            binary: Callable[[Any, Any], Any] = np.minimum if name == "min" else np.maximum
            return lambda env: reduce(binary, [f(env) for f in fns])
        if name == "clip":
            x, lo, hi = fns
            # min(max(x, lo), hi) rather than np.clip: np.clip rejects array bounds
            # in some numpy versions and this states the meaning plainly.
            return lambda env: np.minimum(np.maximum(x(env), lo(env)), hi(env))
        if name == "where":
            c, a, b = fns
            return lambda env: np.where(np.asarray(c(env)) != 0, a(env), b(env))
        (f,) = fns
        unary: Callable[[Any], Any] = {
            "abs": np.abs,
            "sqrt": np.sqrt,
            "log": np.log,
            "exp": np.exp,
        }[name]
        return lambda env: unary(f(env))

    def exact(self) -> Fraction | None:
        values = [a.exact() for a in self.args]
        if any(v is None for v in values):
            return None
        vs: list[Fraction] = [v for v in values if v is not None]
        if self.function == "min":
            return min(vs)
        if self.function == "max":
            return max(vs)
        if self.function == "abs":
            return abs(vs[0])
        if self.function == "clip":
            return min(max(vs[0], vs[1]), vs[2])
        if self.function == "where":
            return vs[1] if vs[0] != 0 else vs[2]
        return None  # sqrt, log, exp: irrational in general


_BINARY: dict[str, Callable[[Any, Any], Any]] = {
    "+": lambda a, b: a + b,
    "-": lambda a, b: a - b,
    "*": lambda a, b: a * b,
    "/": lambda a, b: np.divide(a, b),
}
_EXACT_BINARY: dict[str, Callable[[Fraction, Fraction], Fraction]] = {
    "+": lambda a, b: a + b,
    "-": lambda a, b: a - b,
    "*": lambda a, b: a * b,
    "/": lambda a, b: a / b,
}
_COMPARE: dict[str, Callable[[Any, Any], Any]] = {
    "<": lambda a, b: a < b,
    "<=": lambda a, b: a <= b,
    ">": lambda a, b: a > b,
    ">=": lambda a, b: a >= b,
    "==": lambda a, b: a == b,
    "!=": lambda a, b: a != b,
}


# --------------------------------------------------------------------- parser
class _Parser:
    def __init__(self, text: str, allowed: Collection[str] | None) -> None:
        self.text = text
        self.tokens = _tokenize(text)
        self.pos = 0
        self.nesting = 0
        self.allowed = None if allowed is None else frozenset(allowed)
        self.name_columns: dict[str, int] = {}

    # token helpers
    @property
    def tok(self) -> _Token:
        token = self.tokens[self.pos]
        if token.kind == "bad":
            raise ExpressionError(token.text, token.start + 1, self.text)
        return token

    def error(self, message: str, token: _Token | None = None) -> ExpressionError:
        token = token or self.tok
        return ExpressionError(message, token.start + 1, self.text)

    def advance(self) -> _Token:
        token = self.tokens[self.pos]
        self.pos += 1
        return token

    def at_op(self, *ops: str) -> bool:
        return self.tok.kind == "op" and self.tok.text in ops

    def enter(self) -> None:
        self.nesting += 1
        if self.nesting > MAX_DEPTH:
            raise self.error(f"expression is nested too deeply (more than {MAX_DEPTH} levels)")

    def leave(self) -> None:
        self.nesting -= 1

    # grammar
    def parse(self) -> _Node:
        if self.tok.kind == "end":
            raise ExpressionError("empty expression; expected a number or a name", 1, self.text)
        node = self.comparison()
        if self.tok.kind != "end":
            raise self.unexpected()
        if node.depth > MAX_DEPTH:
            raise ExpressionError(
                f"expression is nested too deeply (more than {MAX_DEPTH} levels)", 1, self.text
            )
        return node

    def unexpected(self) -> ExpressionError:
        tok = self.tok
        if tok.kind == "end":
            return self.error("unexpected end of expression; expected a number, name or '('")
        if tok.text == ")":
            return self.error("unmatched ')'")
        if tok.text == ",":
            return self.error("unexpected ','; commas only separate function arguments")
        if tok.kind in ("num", "name"):
            return self.error(f"expected an operator before {tok.text!r}")
        if tok.text == "(":
            return self.error("only the functions " + _function_list() + " can be called")
        return self.error(f"unexpected {tok.text!r}")

    def comparison(self) -> _Node:
        left = self.additive()
        if self.at_op(*_COMPARE):
            op = self.advance().text
            right = self.additive()
            if self.at_op(*_COMPARE):
                raise self.error(
                    "chained comparisons are not supported; compare two values at a time"
                )
            return _Compare(left, op, right)
        return left

    def additive(self) -> _Node:
        terms = [self.term()]
        ops: list[str] = []
        while self.at_op("+", "-"):
            ops.append(self.advance().text)
            terms.append(self.term())
        return terms[0] if not ops else _Chain(terms, ops)

    def term(self) -> _Node:
        factors = [self.unary()]
        ops: list[str] = []
        while self.at_op("*", "/"):
            ops.append(self.advance().text)
            factors.append(self.unary())
        return factors[0] if not ops else _Chain(factors, ops)

    def unary(self) -> _Node:
        if self.at_op("-", "+"):
            sign = self.advance()
            self.enter()
            operand = self.unary()
            self.leave()
            return operand if sign.text == "+" else _Negate(operand, sign.start)
        return self.power()

    def power(self) -> _Node:
        base = self.atom()
        if self.at_op("**"):
            self.advance()
            self.enter()
            exponent = self.unary()
            self.leave()
            return _Power(base, exponent)
        return base

    def atom(self) -> _Node:
        tok = self.tok
        if tok.kind == "num":
            self.advance()
            node: _Node = _Number(tok.text, tok.start, tok.start + len(tok.text))
        elif tok.kind == "name":
            node = self.name_or_call()
        elif tok.text == "(":
            self.advance()
            self.enter()
            inner = self.comparison()
            self.leave()
            if not self.at_op(")"):
                if self.tok.kind == "end":
                    raise self.error("missing ')'")
                raise self.unexpected()
            close = self.advance()
            node = inner
            # Widen the span to include the parentheses, for error messages.
            node.start, node.end = tok.start, close.start + 1
        else:
            raise self.unexpected()
        if self.at_op("("):
            raise self.error("only the functions " + _function_list() + " can be called")
        return node

    def name_or_call(self) -> _Node:
        tok = self.advance()
        name = tok.text
        calling = self.at_op("(")
        if name in FUNCTIONS:
            if not calling:
                raise self.error(f"{name!r} is a function; call it as {_usage(name)}", tok)
            return self.call(tok)
        if calling:
            raise self.error(
                f"unknown function {name!r}; the functions are {_function_list()}", tok
            )
        if self.allowed is not None and name not in self.allowed:
            raise self.error(f"unknown name {name!r}; {_expected_names(self.allowed)}", tok)
        self.name_columns.setdefault(name, tok.start + 1)
        return _Name(name, tok.start, tok.start + len(name))

    def call(self, name_tok: _Token) -> _Node:
        self.advance()  # "("
        self.enter()
        args: list[_Node] = []
        if not self.at_op(")"):
            while True:
                if self.at_op(")", ","):
                    raise self.error("expected a function argument")
                args.append(self.comparison())
                if self.at_op(","):
                    self.advance()
                    continue
                if self.at_op(")"):
                    break
                if self.tok.kind == "end":
                    raise self.error(f"missing ')' to close {name_tok.text}(")
                raise self.unexpected()
        close = self.advance()
        self.leave()
        name = name_tok.text
        low, high = FUNCTIONS[name]
        if len(args) < low or (high is not None and len(args) > high):
            wanted = (
                f"{low} or more arguments"
                if high is None
                else f"{low} argument{'s' if low > 1 else ''}"
            )
            raise self.error(
                f"{name} takes {wanted}, got {len(args)}; call it as {_usage(name)}", name_tok
            )
        return _Call(name, args, name_tok.start, close.start + 1)


def _function_list() -> str:
    return ", ".join(FUNCTIONS)


def _usage(name: str) -> str:
    return {
        "min": "min(a, b, ...)",
        "max": "max(a, b, ...)",
        "clip": "clip(x, lo, hi)",
        "where": "where(cond, a, b)",
    }.get(name, f"{name}(x)")


def _expected_names(allowed: Collection[str]) -> str:
    if not allowed:
        return "no names are allowed here, only numbers"
    names = sorted(allowed)
    shown = ", ".join(names[:20]) + (", ..." if len(names) > 20 else "")
    return f"expected one of: {shown}"


# ----------------------------------------------------------------- expression
class Expression:
    """A parsed expression, compiled for vectorised evaluation.

    ``source`` is the text it was parsed from and ``names`` the free names it
    uses. Build with :func:`parse_expression`.
    """

    __slots__ = ("_name_columns", "_root", "names", "source")

    def __init__(self, source: str, root: _Node, name_columns: dict[str, int]) -> None:
        self.source = source
        self._root = root
        self._name_columns = dict(name_columns)
        self.names: frozenset[str] = frozenset(name_columns)

    def __repr__(self) -> str:
        return f"Expression({self.source!r})"

    @property
    def root_node(self) -> _Node:
        """The parsed tree (private to this module's compilers)."""
        return self._root

    def column_of(self, name: str) -> int:
        """1-based column of the first occurrence of ``name``."""
        return self._name_columns[name]

    @property
    def is_constant(self) -> bool:
        """Whether the expression uses no names."""
        return not self.names

    def exact_value(self) -> Fraction | None:
        """The exact value of a constant rational expression, else ``None``.

        ``"1/3"`` gives ``Fraction(1, 3)`` and ``"0.1"`` gives ``Fraction(1, 10)``;
        expressions with names or with ``sqrt``/``log``/``exp`` give ``None``.
        """
        return self._root.exact() if self.is_constant else None

    def evaluate(self, env: Mapping[str, npt.ArrayLike]) -> np.ndarray:
        """Evaluate element-wise on the values in ``env``, broadcasting them.

        ``env`` maps every name in :attr:`names` to a number or an array (extra
        entries are ignored). The result has the broadcast shape of the values
        used (a 0-d array for scalars) and dtype float. Raises
        :class:`ExpressionError` when a name has no value and
        :class:`NonFiniteError` when any element of the result is infinite or NaN.
        """
        values: dict[str, np.ndarray] = {}
        for name in self.names:
            try:
                values[name] = np.asarray(env[name], dtype=float)
            except KeyError:
                raise ExpressionError(
                    f"no value given for {name!r} in {self.source!r}",
                    self._name_columns[name],
                    self.source,
                ) from None
        with np.errstate(all="ignore"):
            result = np.asarray(self._root.fn(values), dtype=float)
        if not np.all(np.isfinite(result)):
            raise self._non_finite(values, result)
        return result

    def bind(
        self, values: Mapping[str, npt.ArrayLike], variables: Sequence[str]
    ) -> BoundExpression:
        """This expression with every name but ``variables`` fixed at its value in ``values``.

        The result is called with one array per variable, in ``variables``
        order, and gives exactly (bit for bit) what :meth:`evaluate` gives on the
        same values, raising the same errors; it is cheaper because every
        sub-expression that uses no variable is evaluated here, once (constant
        folding), and the rest runs as one compiled function instead of a tree
        of closures. Made for utilities evaluated thousands of times with the
        parameters fixed (a bargaining problem's optimizers). Raises
        :class:`ExpressionError` when a name that is not a variable has no value.
        """
        return BoundExpression(self, values, variables)

    def _non_finite(self, values: dict[str, np.ndarray], result: np.ndarray) -> NonFiniteError:
        index = tuple(int(k) for k in np.argwhere(~np.isfinite(result))[0])
        point: dict[str, Any] = {}
        for name, arr in values.items():
            point[name] = np.broadcast_to(arr, result.shape)[index] if arr.ndim else arr
        node, value = _innermost_failure(self._root, point)
        at = ", ".join(f"{k} = {float(v):g}" for k, v in sorted(point.items()))
        where = f" where {at}" if at else ""
        sub = self.source[node.start : node.end]
        inputs = _describe_inputs(node, point)
        detail = inputs if node is self._root else f": {sub!r} gives {value:g}{inputs}"
        message = f"{self.source!r} is not finite ({float(result[index]):g}){detail}{where}"
        return NonFiniteError(
            message,
            node.start + 1,
            self.source,
            index,
            {k: float(v) for k, v in point.items()},
            float(result[index]),
        )


class BoundExpression:
    """An :class:`Expression` with some names fixed: see :meth:`Expression.bind`.

    ``expression``: the expression; ``variables``: the names left free, in the
    order the call takes their arrays; ``values``: the fixed names' values.
    Picklable (rebuilt from the expression's text and the values).
    """

    __slots__ = ("_affine", "_constants", "_fn", "expression", "values", "variables")

    def __init__(
        self, expression: Expression, values: Mapping[str, npt.ArrayLike], variables: Sequence[str]
    ) -> None:
        self.expression = expression
        self.variables = tuple(variables)
        fixed: dict[str, np.ndarray] = {}
        for name in expression.names.difference(self.variables):
            try:
                fixed[name] = np.asarray(values[name], dtype=float)
            except KeyError:
                raise ExpressionError(
                    f"no value given for {name!r} in {expression.source!r}",
                    expression.column_of(name),
                    expression.source,
                ) from None
        self.values = fixed
        plan = _plan(expression.source, self.variables)
        self._fn = plan.fn
        self._affine = plan.affine
        self._constants: tuple[Any, ...] = ()
        if plan.constants is not None:
            # The same operations on the same 0-d arrays as evaluate() applies:
            # the constants are bit for bit its intermediate values.
            with np.errstate(all="ignore"):
                self._constants = plan.constants(
                    [fixed[name] for name in plan.fixed_names], plan.numbers
                )

    def __call__(self, *arrays: npt.ArrayLike) -> np.ndarray:
        """The expression's values with the variables at ``arrays`` (broadcast), as evaluate."""
        if len(arrays) != len(self.variables):
            raise TypeError(
                f"{self.expression!r} bound with variables {self.variables} takes "
                f"{len(self.variables)} arrays, got {len(arrays)}"
            )
        given = [np.asarray(a, dtype=float) for a in arrays]
        if self._fn is not None:
            with np.errstate(all="ignore"):
                result = np.asarray(self._fn(self._constants, given), dtype=float)
            if np.isfinite(result).all():
                return result
        # The slow path names the failing sub-expression and the values there.
        return self.evaluate_unbound(given)

    def unchecked(self, arrays: Sequence[np.ndarray]) -> Any:
        """The values at float ``arrays`` (one per variable), not checked for being finite.

        For callers that evaluate several expressions under one
        ``np.errstate(all="ignore")`` and check the results together, falling
        back to :meth:`__call__` (which raises) when something is not finite.
        """
        if self._fn is None:
            return self.evaluate_unbound(arrays)
        return self._fn(self._constants, arrays)

    def evaluate_unbound(self, arrays: Sequence[np.ndarray]) -> np.ndarray:
        """:meth:`Expression.evaluate` on the fixed values and the variables at ``arrays``."""
        env: dict[str, Any] = dict(self.values)
        env.update(zip(self.variables, arrays, strict=True))
        return self.expression.evaluate(env)

    @property
    def affine(self) -> bool:
        """Whether the expression is provably affine in the variables (``c + sum_j a_j v_j``).

        Decided from the parsed tree (see :func:`_degree`), not by sampling: the
        variables enter only through sums, differences, negation, products with
        at most one factor that holds a variable, and division by terms without
        one. ``False`` means "not proved" (``x * x - x * x`` is affine but says no).
        """
        return self._affine

    def __repr__(self) -> str:
        return f"BoundExpression({self.expression.source!r}, variables={self.variables})"

    def __reduce__(self) -> tuple[Any, ...]:
        return (_rebind, (self.expression.source, self.values, self.variables))


def _rebind(
    source: str, values: Mapping[str, np.ndarray], variables: tuple[str, ...]
) -> BoundExpression:
    return BoundExpression(_parse_cached(source), values, variables)


@dataclass(frozen=True)
class _Plan:
    """How to evaluate one expression with some names free (see :func:`_plan`).

    ``constants(p, n)``: the folded sub-expressions' values, from the fixed
    names' values ``p`` (in ``fixed_names`` order) and ``numbers``;
    ``fn(c, v)``: the expression from those constants and the variables'
    arrays. Both ``None`` when the tree is evaluated by its closures instead.
    ``affine``: the expression is provably affine in the free names.
    """

    fn: Callable[[tuple[Any, ...], Sequence[np.ndarray]], Any] | None
    constants: Callable[[list[np.ndarray], tuple[Any, ...]], tuple[Any, ...]] | None
    fixed_names: tuple[str, ...] = ()
    numbers: tuple[Any, ...] = ()
    affine: bool = False


_DEPTH_LIMIT = 60
"""Deepest generated Python expression compiled; deeper ones run through the closures."""


@functools.lru_cache(maxsize=1024)
def _plan(source: str, variables: tuple[str, ...]) -> _Plan:
    """The evaluation plan of ``source`` with ``variables`` free (one per text and variables).

    The tree is written out as Python source in two parts, each compiled once:
    the maximal sub-expressions without a variable become ``constants(p, n)``
    (over ``p``, the fixed names' values in :attr:`_Plan.fixed_names` order,
    and ``n``, the numbers), computed at :meth:`Expression.bind`; the rest
    becomes ``fn(c, v)`` over ``c`` (those constants) and ``v`` (the
    variables' arrays), computed at each call. Both apply the same numpy
    operations in the same order as the closures (:meth:`_Node._compile`), so
    the values are the same bit for bit. The text is generated from the parsed
    tree alone (indices and fixed operators; no text of the scenario), so it is
    as safe as the closures. A tree too deep to generate falls back to the
    closures (``fn`` is ``None``).
    """
    root = _parse_cached(source).root_node
    index = {name: j for j, name in enumerate(variables)}
    folded: list[_Node] = []
    numbers: list[Any] = []
    fixed_names: dict[str, int] = {}
    uses: dict[int, bool] = {}

    def free(node: _Node) -> bool:
        key = id(node)
        if key not in uses:
            if isinstance(node, _Name):
                uses[key] = node.name in index
            else:
                uses[key] = any([free(child) for child in node.children()])
        return uses[key]

    def text(node: _Node, depth: int, constant: bool) -> str:
        """Python source of ``node``; ``constant``: inside a folded sub-expression."""
        if depth > _DEPTH_LIMIT:
            raise RecursionError
        if not constant and not free(node):
            folded.append(node)
            return f"c[{len(folded) - 1}]"
        deeper = depth + 1
        if isinstance(node, _Number):
            numbers.append(node.value)
            return f"n[{len(numbers) - 1}]"
        if isinstance(node, _Name):
            if constant:
                return f"p[{fixed_names.setdefault(node.name, len(fixed_names))}]"
            return f"v[{index[node.name]}]"
        if isinstance(node, _Negate):
            return f"(-{text(node.operand, deeper, constant)})"
        if isinstance(node, _Chain):
            # Python evaluates ``a - b + c`` left to right, as the closure's loop does.
            out = text(node.terms[0], deeper, constant)
            for op, term in zip(node.ops, node.terms[1:], strict=True):
                right = text(term, deeper, constant)
                out = f"_divide({out}, {right})" if op == "/" else f"{out} {op} {right}"
            return f"({out})"
        if isinstance(node, _Power):
            base = text(node.base, deeper, constant)
            return f"_power({base}, {text(node.exponent, deeper, constant)})"
        if isinstance(node, _Compare):
            left, right = text(node.left, deeper, constant), text(node.right, deeper, constant)
            return f"_asarray({left} {node.op} {right}, dtype=float)"
        if isinstance(node, _Call):
            args = [text(a, deeper, constant) for a in node.args]
            name = node.function
            if name in ("min", "max"):
                binary = "_minimum" if name == "min" else "_maximum"
                out = args[0]
                for a in args[1:]:
                    out = f"{binary}({out}, {a})"
                return out
            if name == "clip":
                return f"_minimum(_maximum({args[0]}, {args[1]}), {args[2]})"
            if name == "where":
                return f"_where(_asarray({args[0]}) != 0, {args[1]}, {args[2]})"
            return f"_{name}({args[0]})"
        raise TypeError(f"unknown node {type(node).__name__}")  # pragma: no cover

    try:
        body = text(root, 0, False)
        constants = [text(node, 0, True) for node in folded]
        code = compile(f"lambda c, v: {body}", "<negsim expression>", "eval")
        listed = "".join(f"{c}, " for c in constants)
        code_constants = compile(f"lambda p, n: ({listed})", "<negsim expression>", "eval")
    except (RecursionError, SyntaxError, MemoryError):
        return _Plan(fn=None, constants=None)
    namespace = dict(_GENERATED_NAMESPACE)
    return _Plan(
        # eval of source generated from the parsed tree alone (see above), never of input text
        fn=eval(code, namespace),
        constants=eval(code_constants, namespace),
        fixed_names=tuple(fixed_names),
        numbers=tuple(numbers),
        affine=_degree(root, free) <= 1,
    )


def _degree(node: _Node, free: Callable[[_Node], bool]) -> int:
    """An upper bound on the degree of ``node`` as a polynomial in the free names.

    0 for a sub-expression without free names, 1 for a free name; sums take the
    largest, products add, a quotient keeps its numerator's degree when the
    divisor has no free name; anything else with a free name in it (powers,
    comparisons, functions, division by a free name) counts as :data:`_NONLINEAR`.
    So a degree of at most 1 proves the expression affine in the free names.
    """
    if not free(node):
        return 0
    if isinstance(node, _Name):
        return 1
    if isinstance(node, _Negate):
        return _degree(node.operand, free)
    if isinstance(node, _Chain):
        degree = _degree(node.terms[0], free)
        for op, term in zip(node.ops, node.terms[1:], strict=True):
            d = _degree(term, free)
            if op in ("+", "-"):
                degree = max(degree, d)
            elif op == "*":
                degree = min(degree + d, _NONLINEAR)
            elif d:
                return _NONLINEAR
        return degree
    return _NONLINEAR


_NONLINEAR = 2


_GENERATED_NAMESPACE: dict[str, Any] = {
    "__builtins__": {},
    "_divide": np.divide,
    "_power": np.power,
    "_asarray": np.asarray,
    "_minimum": np.minimum,
    "_maximum": np.maximum,
    "_where": np.where,
    "_abs": np.abs,
    "_sqrt": np.sqrt,
    "_log": np.log,
    "_exp": np.exp,
    "float": float,
}


def _innermost_failure(node: _Node, point: Mapping[str, Any]) -> tuple[_Node, float]:
    """The deepest sub-expression that is not finite although its inputs are."""
    with np.errstate(all="ignore"):
        while True:
            for child in node.children():
                child_value = float(np.asarray(child.fn(point), dtype=float))
                if not np.isfinite(child_value):
                    node = child
                    break
            else:
                return node, float(np.asarray(node.fn(point), dtype=float))


def _describe_inputs(node: _Node, point: Mapping[str, Any]) -> str:
    """The operands of a failing node, e.g. ``" (log of -0.5)"``."""
    if not isinstance(node, (_Call, _Power, _Chain)):
        return ""
    with np.errstate(all="ignore"):
        operands = [float(np.asarray(c.fn(point), dtype=float)) for c in node.children()]
    if isinstance(node, _Call):
        args = ", ".join(f"{v:g}" for v in operands)
        return f" ({node.function} of {args})"
    if isinstance(node, _Power):
        base = f"({operands[0]:g})" if operands[0] < 0 else f"{operands[0]:g}"
        return f" ({base} ** {operands[1]:g})"
    if "/" in node.ops:
        zero = [i for i, op in enumerate(node.ops, start=1) if op == "/" and operands[i] == 0]
        if zero:
            return " (division by zero)"
    return ""


def parse_expression(text: str, *, allowed_names: Collection[str] | None = None) -> Expression:
    """Parse ``text`` into an :class:`Expression`.

    ``allowed_names``, when given, is the set of names the expression may use
    (for example the scenario's issues and parameters); any other name is an
    error. Raises :class:`ExpressionError` with the 1-based column of the
    offending token for anything outside the language described in this
    module's docstring.
    """
    if not isinstance(text, str):
        raise ExpressionError(f"expected an expression as text, got {type(text).__name__}")
    if len(text) > MAX_LENGTH:
        raise ExpressionError(
            f"expression is too long ({len(text)} characters; at most {MAX_LENGTH})",
            MAX_LENGTH + 1,
            text[:80] + "...",
        )
    if allowed_names is None:
        return _parse_cached(text)
    parser = _Parser(text, allowed_names)
    root = parser.parse()
    return Expression(text, root, parser.name_columns)


@functools.lru_cache(maxsize=4096)
def _parse_cached(text: str) -> Expression:
    """Parse once per text: sweeps rebuild games from the same expressions at every
    point, and an :class:`Expression` is never changed after it is built."""
    parser = _Parser(text, None)
    root = parser.parse()
    return Expression(text, root, parser.name_columns)

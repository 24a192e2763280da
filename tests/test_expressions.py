"""The expression language: what it accepts, how it evaluates, what it rejects and where."""

from __future__ import annotations

import math
from collections.abc import Callable
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from simulator.expressions import (
    MAX_DEPTH,
    MAX_LENGTH,
    ExpressionError,
    NonFiniteError,
    parse_expression,
)

# ------------------------------------------------------------- valid input


@pytest.mark.parametrize(
    ("text", "env", "expected"),
    [
        ("1 + 2 * 3", {}, 7.0),
        ("(1 + 2) * 3", {}, 9.0),
        ("2 ** 3 ** 2", {}, 512.0),  # right-associative, as in Python
        ("-2 ** 2", {}, -4.0),  # ** binds tighter than unary minus
        ("2 ** -1", {}, 0.5),
        ("10 - 4 - 3", {}, 3.0),  # left-associative
        ("12 / 3 / 2", {}, 2.0),
        ("+x - -x", {"x": 1.5}, 3.0),
        (".5 + 1e-3 + 2.", {}, 2.501),
        ("min(3, 1, 2) + max(1, 5)", {}, 6.0),
        ("abs(-2) + sqrt(9) + log(1) + exp(0)", {}, 6.0),
        ("clip(x, 0, 1)", {"x": 7.0}, 1.0),
        ("clip(x, 0, 1)", {"x": -7.0}, 0.0),
        ("where(x > 0, 1, -1)", {"x": 2.0}, 1.0),
        ("where(x > 0, 1, -1)", {"x": -2.0}, -1.0),
        ("(x >= 1) + (x <= 1) + (x == 1) + (x != 1) + (x < 1)", {"x": 1.0}, 3.0),
        ("-(x > 0)", {"x": 1.0}, -1.0),  # comparisons are floats, so they negate
        ("where(x > 0, log(x), 0)", {"x": 0.0}, 0.0),  # the unused branch may be nan
        ("0.8 * guarantee - mineral_share", {"guarantee": 1, "mineral_share": 0.3}, 0.5),
        ("a\n + b", {"a": 1, "b": 2}, 3.0),  # YAML folded text may span lines
    ],
)
def test_known_values(text: str, env: dict[str, float], expected: float) -> None:
    assert float(parse_expression(text).evaluate(env)) == pytest.approx(expected, rel=1e-12)


def test_names_are_the_free_names() -> None:
    expression = parse_expression("a * b + min(a, c) - 2")
    assert expression.names == frozenset({"a", "b", "c"})
    assert expression.source == "a * b + min(a, c) - 2"
    assert expression.column_of("c") == 16
    assert not expression.is_constant
    assert parse_expression("1 + 2").is_constant


def test_evaluation_broadcasts_over_arrays() -> None:
    expression = parse_expression("0.8 * g - m + p")
    g = np.array([0.0, 0.5, 1.0])  # shape (3,)
    m = np.array([[0.0], [0.5]])  # shape (2, 1)
    result = expression.evaluate({"g": g, "m": m, "p": 0.25})
    assert result.shape == (2, 3)
    np.testing.assert_allclose(result, 0.8 * g[None, :] - m + 0.25)


def test_min_max_are_elementwise() -> None:
    a = np.array([1.0, 5.0, 3.0])
    b = np.array([4.0, 2.0, 3.0])
    np.testing.assert_array_equal(
        parse_expression("min(a, b)").evaluate({"a": a, "b": b}), [1, 2, 3]
    )
    np.testing.assert_array_equal(
        parse_expression("max(a, b, 4)").evaluate({"a": a, "b": b}), [4, 5, 4]
    )


def test_clip_and_where_broadcast_array_bounds() -> None:
    x = np.linspace(-1, 2, 7)
    hi = np.array([[0.5], [1.5]])
    result = parse_expression("clip(x, 0, hi)").evaluate({"x": x, "hi": hi})
    np.testing.assert_array_equal(result, np.minimum(np.maximum(x, 0), hi))
    result = parse_expression("where(x < 0.5, x, -x)").evaluate({"x": x})
    np.testing.assert_array_equal(result, np.where(x < 0.5, x, -x))


def test_result_is_a_float_array_even_for_constants() -> None:
    result = parse_expression("3").evaluate({})
    assert isinstance(result, np.ndarray)
    assert result.dtype == float
    assert result.shape == ()


def test_unused_env_entries_are_ignored_and_missing_ones_named() -> None:
    assert float(parse_expression("a").evaluate({"a": 1, "b": object()})) == 1.0
    with pytest.raises(ExpressionError, match="no value given for 'b'") as info:
        parse_expression("a + b").evaluate({"a": 1})
    assert info.value.column == 5


@pytest.mark.parametrize(
    ("text", "exact"),
    [
        ("1/3", Fraction(1, 3)),
        ("0.1 + 0.2", Fraction(3, 10)),
        ("-2 ** 2", Fraction(-4)),
        ("2 ** -2", Fraction(1, 4)),
        ("min(1/3, 1/4)", Fraction(1, 4)),
        ("where(1 > 2, 1, 1/7)", Fraction(1, 7)),
        ("1e-3", Fraction(1, 1000)),
        ("sqrt(4)", None),  # irrational functions are not taken exactly
        ("2 ** 0.5", None),
        ("1/0", None),
        ("x + 1", None),
    ],
)
def test_exact_value_of_constant_expressions(text: str, exact: Fraction | None) -> None:
    assert parse_expression(text).exact_value() == exact


# ------------------------------------------------------------ rejected input


@pytest.mark.parametrize(
    ("text", "column", "fragment"),
    [
        ("a ^ b", 3, "'^' is not allowed"),
        ("x.real", 2, "attribute access"),
        ("x[0]", 2, "subscripts"),
        ("foo(1)", 1, "unknown function 'foo'"),
        ("1 + eval(1)", 5, "unknown function 'eval'"),
        ("min(a, b=1)", 9, "keyword arguments"),
        ("'text'", 1, "strings are not allowed"),
        ('1 + "x"', 5, "strings are not allowed"),
        ("a and b", 3, "'and' is not allowed"),
        ("a or b", 3, "'or' is not allowed"),
        ("not a", 1, "'not' is not allowed"),
        ("a if b else c", 3, "'if' is not allowed"),
        ("lambda: 1", 1, "'lambda' is not allowed"),
        ("__import__", 1, "'__' are not allowed"),
        ("1 + __class__", 5, "'__' are not allowed"),
        ("a < b < c", 7, "chained comparisons"),
        ("2x", 2, "cannot be followed directly"),
        ("1j", 2, "cannot be followed directly"),
        ("(a)(b)", 4, "can be called"),
        ("1 +", 4, "unexpected end"),
        ("((1)", 5, "missing ')'"),
        ("min(1, 2", 9, "missing ')'"),
        ("1)", 2, "unmatched ')'"),
        ("max", 1, "'max' is a function"),
        ("a , b", 3, "commas only separate"),
        ("min(1,)", 7, "expected a function argument"),
        ("min(1)", 1, "min takes 2 or more arguments, got 1"),
        ("sqrt(1, 2)", 1, "sqrt takes 1 argument, got 2"),
        ("clip(1, 2)", 1, "clip takes 3 arguments, got 2"),
        ("a // b", 3, "'//' is not allowed"),
        ("a % b", 3, "'%' is not allowed"),
        ("a @ b", 3, "'@' is not allowed"),
        ("~a", 1, "'~' is not allowed"),
        ("a & b", 3, "'&' is not allowed"),
        ("a | b", 3, "'|' is not allowed"),
        ("a << 1", 3, "'<<' is not allowed"),
        ("a = 1", 3, "'=' is not allowed"),
        ("[1, 2]", 1, "lists are not allowed"),
        ("{1: 2}", 1, "braces are not allowed"),
        ("a; b", 2, "';' is not allowed"),
        ("a $ b", 3, "unexpected character '$'"),
        ("é + 1", 1, "unexpected character 'é'"),
        ("1 2", 3, "expected an operator before '2'"),
        ("a b", 3, "expected an operator before 'b'"),
        ("", 1, "empty expression"),
        ("   ", 1, "empty expression"),
    ],
)
def test_rejected_constructs_name_the_column(text: str, column: int, fragment: str) -> None:
    with pytest.raises(ExpressionError) as info:
        parse_expression(text)
    assert info.value.column == column, str(info.value)
    assert fragment in info.value.message
    assert f"(column {column})" in str(info.value)


def test_first_problem_in_reading_order_is_reported() -> None:
    with pytest.raises(ExpressionError) as info:
        parse_expression("a.b ^ c")
    assert info.value.column == 2


def test_allowed_names_restrict_the_free_names() -> None:
    assert parse_expression("a + b", allowed_names={"a", "b"}).names == {"a", "b"}
    with pytest.raises(ExpressionError, match="unknown name 'c'; expected one of: a, b") as info:
        parse_expression("a + c", allowed_names=["a", "b"])
    assert info.value.column == 5
    with pytest.raises(ExpressionError, match="only numbers"):
        parse_expression("a", allowed_names=())


def test_function_names_are_not_free_names() -> None:
    with pytest.raises(ExpressionError, match="is a function"):
        parse_expression("log + 1")


def test_non_text_is_rejected() -> None:
    with pytest.raises(ExpressionError, match="as text"):
        parse_expression(3)  # type: ignore[arg-type]


# ---------------------------------------------------------- pathological


def test_too_long_is_a_clean_error() -> None:
    with pytest.raises(ExpressionError, match="too long"):
        parse_expression("1+" * MAX_LENGTH + "1")


@pytest.mark.parametrize(
    "text",
    [
        "(" * 1000 + "1" + ")" * 1000,
        "-" * 5000 + "1",
        "2" + "**2" * 3000,
        "abs(" * 500 + "1" + ")" * 500,
        "(" * 100_000,
    ],
)
def test_deep_nesting_is_a_clean_error(text: str) -> None:
    with pytest.raises(ExpressionError, match=r"nested too deeply|too long"):
        parse_expression(text)


def test_nesting_at_the_limit_is_accepted() -> None:
    depth = MAX_DEPTH - 1
    assert float(parse_expression("(" * depth + "1" + ")" * depth).evaluate({})) == 1.0


def test_long_flat_sums_are_accepted_and_evaluate() -> None:
    # A long sum is a flat chain, not a deep tree, so it stays within the limits.
    text = " + ".join(f"x{k % 7}" for k in range(2000))
    env = {f"x{k}": float(k) for k in range(7)}
    expected = sum(float(k % 7) for k in range(2000))
    assert float(parse_expression(text).evaluate(env)) == expected


# ------------------------------------------------------- evaluation errors


@pytest.mark.parametrize(
    ("text", "env", "fragment"),
    [
        ("log(x)", {"x": -1.0}, "log of -1"),
        ("1 + log(x)", {"x": 0.0}, "'log(x)' gives -inf"),
        ("sqrt(x - 1)", {"x": 0.5}, "sqrt of -0.5"),
        ("1 / (x - 3)", {"x": 3.0}, "division by zero"),
        ("exp(x)", {"x": 1000.0}, "exp of 1000"),
        ("x ** 0.5", {"x": -4.0}, "(-4) ** 0.5"),
    ],
)
def test_non_finite_results_are_errors(text: str, env: dict[str, float], fragment: str) -> None:
    with pytest.raises(NonFiniteError) as info:
        parse_expression(text).evaluate(env)
    assert fragment in str(info.value)
    assert repr(text) in str(info.value)


def test_non_finite_error_locates_the_first_bad_element() -> None:
    x = np.array([[4.0, 1.0], [0.0, -1.0]])
    with pytest.raises(NonFiniteError) as info:
        parse_expression("2 * log(x)").evaluate({"x": x, "unused": 1})
    err = info.value
    assert err.index == (1, 0)
    assert err.values == {"x": 0.0}
    assert err.value == -math.inf
    assert err.column == 5
    assert "where x = 0" in str(err)


def test_non_finite_error_with_broadcast_inputs_reports_their_values() -> None:
    a = np.array([1.0, 2.0, 3.0])
    b = np.array([[1.0], [0.0]])
    with pytest.raises(NonFiniteError) as info:
        parse_expression("a / b").evaluate({"a": a, "b": b})
    assert info.value.index == (1, 0)
    assert info.value.values == {"a": 1.0, "b": 0.0}


# ---------------------------------------------------- agreement with Python


Env = dict[str, float]
Tree = tuple[str, Callable[[Env], float]]


def _finite(value: float) -> float:
    # Python float arithmetic overflows to inf silently in * and +; such trees are skipped.
    if isinstance(value, complex) or not math.isfinite(value):
        raise OverflowError
    return value


def _binary(op: str) -> Callable[[float, float], float]:
    return {
        "+": lambda a, b: a + b,
        "-": lambda a, b: a - b,
        "*": lambda a, b: a * b,
        "/": lambda a, b: a / b,
        "**": lambda a, b: a**b,
    }[op]


def _trees(depth: int) -> st.SearchStrategy[Tree]:
    """Random arithmetic trees: (our text, the same computed with Python floats).

    Valid by construction; the Python side raises ZeroDivisionError or
    OverflowError where the arithmetic leaves the finite reals.
    """
    numbers = st.sampled_from(["0", "1", "2", "3", "7", "0.5", "2.25", "1e-1", "3."])
    leaves = st.one_of(
        numbers.map(lambda t: (t, lambda env, v=float(t): v)),
        st.sampled_from(["x", "y", "z"]).map(lambda name: (name, lambda env, n=name: env[n])),
    )
    if depth == 0:
        return leaves
    sub = _trees(depth - 1)

    def binary(t: tuple[Tree, str, Tree]) -> Tree:
        (ta, fa), op, (tb, fb) = t
        f = _binary(op)
        return f"({ta} {op} {tb})", lambda env: _finite(f(fa(env), fb(env)))

    def call(name: str, fn: Callable[..., float]) -> Callable[[list[Tree]], Tree]:
        def make(args: list[Tree]) -> Tree:
            text = f"{name}({', '.join(a for a, _ in args)})"
            return text, lambda env: fn(*[f(env) for _, f in args])

        return make

    def where(t: tuple[Tree, Tree, Tree]) -> Tree:
        (ta, fa), (tb, fb), (tc, fc) = t
        return (
            f"where({ta} < {tb}, {tb}, {tc})",
            lambda env: fb(env) if fa(env) < fb(env) else fc(env),
        )

    return st.one_of(
        leaves,
        st.tuples(sub, st.sampled_from(["+", "-", "*", "/", "**"]), sub).map(binary),
        sub.map(lambda t: (f"(-{t[0]})", lambda env: -t[1](env))),
        st.lists(sub, min_size=2, max_size=3).map(call("min", min)),
        st.lists(sub, min_size=2, max_size=3).map(call("max", max)),
        st.lists(sub, min_size=1, max_size=1).map(call("abs", abs)),
        st.tuples(sub, sub, sub).map(where),
    )


_VALUES = st.floats(-10, 10, allow_nan=False)


@settings(max_examples=300, deadline=None)
@given(_trees(4), _VALUES, _VALUES, _VALUES)
def test_evaluation_matches_python_arithmetic(tree: Tree, x: float, y: float, z: float) -> None:
    text, reference = tree
    env = {"x": x, "y": y, "z": z}
    try:
        expected = reference(env)
    except (ZeroDivisionError, OverflowError):
        return
    value = float(parse_expression(text).evaluate(env))
    assert value == pytest.approx(expected, rel=1e-12, abs=1e-300)


@settings(max_examples=100, deadline=None)
@given(_trees(3), st.lists(_VALUES, min_size=1, max_size=5))
def test_vectorised_evaluation_equals_elementwise(tree: Tree, xs: list[float]) -> None:
    expression = parse_expression(tree[0])
    try:
        together = expression.evaluate({"x": np.array(xs), "y": 1.5, "z": -0.5})
    except NonFiniteError:
        return
    one_by_one = [float(expression.evaluate({"x": x, "y": 1.5, "z": -0.5})) for x in xs]
    assert np.broadcast_to(together, (len(xs),)).tolist() == one_by_one


# ------------------------------------------------------- bound expressions
# Expression.bind fixes some names (a sweep's parameters) and compiles the rest:
# it must give what evaluate gives, bit for bit, errors included.


def _extend(sub: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    chain = st.tuples(
        sub, st.lists(st.tuples(st.sampled_from(["+", "-", "*", "/"]), sub), max_size=3)
    ).map(lambda t: "(" + t[0] + "".join(f" {op} {term}" for op, term in t[1]) + ")")
    return st.one_of(
        chain,
        st.tuples(sub, sub).map(lambda t: f"({t[0]} ** {t[1]})"),
        sub.map(lambda t: f"(-{t})"),
        st.tuples(sub, st.sampled_from(["<", "<=", ">", ">=", "==", "!="]), sub).map(
            lambda t: f"({t[0]} {t[1]} {t[2]})"
        ),
        st.tuples(st.sampled_from(["abs", "sqrt", "log", "exp"]), sub).map(
            lambda t: f"{t[0]}({t[1]})"
        ),
        st.tuples(st.sampled_from(["min", "max"]), st.lists(sub, min_size=2, max_size=3)).map(
            lambda t: f"{t[0]}({', '.join(t[1])})"
        ),
        st.tuples(st.sampled_from(["clip", "where"]), sub, sub, sub).map(
            lambda t: f"{t[0]}({t[1]}, {t[2]}, {t[3]})"
        ),
    )


_TEXTS = st.recursive(
    st.sampled_from(["x", "y", "a", "b", "0", "1", "2.5", "1e-3", "0.5"]), _extend, max_leaves=12
)
"""Random expression texts over the whole language (names x, y free; a, b fixed)."""


_FIXED = st.fixed_dictionaries({"a": _VALUES, "b": _VALUES})


@settings(max_examples=300, deadline=None)
@given(_TEXTS, _FIXED, st.lists(_VALUES, min_size=1, max_size=6), _VALUES)
def test_bound_expression_equals_evaluate_bit_for_bit(
    text: str, fixed: dict[str, float], xs: list[float], y: float
) -> None:
    expression = parse_expression(text)
    bound = expression.bind(fixed, ["x", "y"])
    x = np.array(xs)
    env = {**fixed, "x": x, "y": y}
    # The compiled function against the closures, non-finite values included.
    with np.errstate(all="ignore"):
        fast = np.asarray(bound.unchecked([x, np.asarray(y)]), dtype=float)
        slow = np.asarray(
            expression.root_node.fn({k: np.asarray(v, dtype=float) for k, v in env.items()}),
            dtype=float,
        )
    np.testing.assert_array_equal(fast, slow)
    assert fast.dtype == slow.dtype
    # The checked call: the same values, or the same error.
    try:
        expected = expression.evaluate(env)
    except NonFiniteError as exc:
        with pytest.raises(NonFiniteError) as info:
            bound(x, y)
        assert str(info.value) == str(exc)
    else:
        got = bound(x, y)
        np.testing.assert_array_equal(got, expected)
        assert got.shape == expected.shape


@settings(max_examples=200, deadline=None)
@given(_TEXTS, _FIXED, _VALUES, _VALUES, _VALUES, _VALUES)
def test_expressions_proved_affine_are_affine(
    text: str, fixed: dict[str, float], x0: float, y0: float, x1: float, y1: float
) -> None:
    expression = parse_expression(text)
    bound = expression.bind(fixed, ["x", "y"])
    if not bound.affine:
        return
    # f(p + t (q - p)) is linear in t: the midpoint value is the mean of the ends.
    xs = np.array([x0, x1, (x0 + x1) / 2])
    ys = np.array([y0, y1, (y0 + y1) / 2])
    with np.errstate(all="ignore"):
        values = np.broadcast_to(np.asarray(bound.unchecked([xs, ys]), dtype=float), (3,))
    if not np.all(np.isfinite(values)):
        return
    scale = max(1.0, float(np.max(np.abs(values))))
    assert values[2] == pytest.approx((values[0] + values[1]) / 2, abs=1e-9 * scale)


@pytest.mark.parametrize(
    ("text", "affine"),
    [
        ("a * x + b * y - 3", True),
        ("-(x - y) * 2 / b", True),
        ("sqrt(a) * x + log(exp(b)) * y", True),  # functions of fixed names only
        ("(a + b) * (x - 1) * b", True),
        ("a", True),  # constant
        ("x * y", False),
        ("a / x", False),
        ("x ** 1", False),  # powers are not analysed: "not proved"
        ("min(x, 1)", False),
        ("abs(x)", False),
        ("(x > 0) * a", False),
        ("where(a > 0, x, y)", False),
    ],
)
def test_affine_is_proved_from_the_tree(text: str, affine: bool) -> None:
    assert parse_expression(text).bind({"a": 2.0, "b": 0.5}, ["x", "y"]).affine is affine


def test_binding_folds_the_fixed_names_and_keeps_the_variables_free() -> None:
    expression = parse_expression("a * x * (1 - b) - b * y")
    first = expression.bind({"a": 2.0, "b": 0.25}, ["x", "y"])
    second = expression.bind({"a": 3.0, "b": 0.5}, ["x", "y"])  # same plan, new constants
    x, y = np.array([0.0, 1.0, 2.0]), np.array([1.0, 0.0, -1.0])
    np.testing.assert_array_equal(first(x, y), 2.0 * x * 0.75 - 0.25 * y)
    np.testing.assert_array_equal(second(x, y), 3.0 * x * 0.5 - 0.5 * y)
    # The same text bound with another set of free names is another plan.
    free_b = expression.bind({"a": 2.0, "y": 1.0}, ["x", "b"])
    np.testing.assert_array_equal(
        free_b(x, np.array(0.25)),
        expression.evaluate({"a": 2.0, "y": 1.0, "x": x, "b": 0.25}),
    )


def test_binding_names_a_missing_value_and_ignores_unused_variables() -> None:
    with pytest.raises(ExpressionError, match="no value given for 'b'") as info:
        parse_expression("a + b * x").bind({"a": 1.0}, ["x"])
    assert info.value.column == 5
    bound = parse_expression("a + 1").bind({"a": 1.0}, ["x", "unused"])
    assert float(bound(np.zeros(2), 0.0)) == 2.0
    with pytest.raises(TypeError, match="takes 2 arrays"):
        bound(np.zeros(2))


def test_bound_expression_reports_non_finite_values_as_evaluate_does() -> None:
    expression = parse_expression("log(x - a)")
    bound = expression.bind({"a": 1.0}, ["x"])
    with pytest.raises(NonFiniteError) as info:
        bound(np.array([2.0, 0.5]))
    assert info.value.index == (1,)
    assert info.value.values == {"a": 1.0, "x": 0.5}
    assert "log of -0.5" in str(info.value)


@pytest.mark.parametrize(
    "text",
    [
        "sqrt(" * 80 + "x" + ")" * 80,  # deeper than the generated code goes: closures
        " - ".join(["x"] * 2400) + " * a",  # a long flat chain, near the length limit
        "-" * 90 + "x",
    ],
)
def test_deep_and_long_expressions_bind_too(text: str) -> None:
    expression = parse_expression(text)
    bound = expression.bind({"a": 0.5}, ["x"])
    x = np.array([0.25, 4.0])
    np.testing.assert_array_equal(bound(x), expression.evaluate({"a": 0.5, "x": x}))


def test_bound_expressions_pickle() -> None:
    import pickle

    bound = parse_expression("a * x - b").bind({"a": 2.0, "b": 1.0}, ["x"])
    again = pickle.loads(pickle.dumps(bound))
    x = np.linspace(0, 1, 5)
    np.testing.assert_array_equal(again(x), bound(x))
    assert again.affine and again.variables == ("x",)

"""The expression language (remotemedia.core.expression, docs/EXPRESSIONS.md).

The shared vectors of tests/data/expressions.json are the contract both runtimes meet (the C++ tests
run the same file). Here also what JSON cannot carry (NaN, bytes, numpy values, opaque objects),
with expected values from Python's and numpy's own operators, and a hypothesis test that random
trees of the grammar print to text that parses back to the same tree.
"""

from __future__ import annotations

import enum
import json
import math
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from remotemedia import errors
from remotemedia.core import expression as expr_module
from remotemedia.core.expression import NESTING_LIMIT, TOKEN_LIMIT, Expression

VECTORS = json.loads(
    (Path(__file__).resolve().parents[2] / "data" / "expressions.json").read_text(encoding="utf-8")
)["cases"]
INT64_MAX = 2**63 - 1
INT64_MIN = -(2**63)


def same(a, b) -> bool:
    """Equal with the same types all the way down (1, 1.0 and True differ; -0.0 is not 0.0)."""
    if type(a) is not type(b):
        return False
    if type(a) is float:
        if math.isnan(a) or math.isnan(b):
            return math.isnan(a) and math.isnan(b)
        return a == b and math.copysign(1, a) == math.copysign(1, b)
    if type(a) is list:
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))
    if type(a) is dict:
        return list(a) == list(b) and all(same(a[k], b[k]) for k in a)
    if type(a) is np.ndarray:
        return a.dtype == b.dtype and a.shape == b.shape and np.array_equal(a, b, equal_nan=True)
    if isinstance(a, np.generic):
        return a.dtype == b.dtype and (a == b or (np.isnan(a) and np.isnan(b)))
    return a == b


def ev(text, item=None):
    return Expression.parse(text).evaluate(item)


def error_of(text, item=None) -> type:
    with pytest.raises(errors.NodeError) as info:
        ev(text, item)
    return type(info.value)


@pytest.fixture(autouse=True)
def numpy_warnings_are_errors():
    # Evaluation must silence numpy's floating-point warnings itself.
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        yield


# ----------------------------------------------------------------------------- shared vectors


def test_the_vector_file_covers_every_outcome():
    kinds = [("result" in c) + 2 * ("error" in c) + 4 * ("syntax_error_column" in c) for c in VECTORS]
    assert len(VECTORS) >= 150
    assert kinds.count(1) >= 100 and kinds.count(2) >= 40 and kinds.count(4) >= 40
    assert set(kinds) == {1, 2, 4}, "each case has exactly one expected outcome"


@pytest.mark.parametrize("case", VECTORS, ids=[c["expr"][:60] for c in VECTORS])
def test_vector(case):
    text = case["expr"]
    if "syntax_error_column" in case:
        with pytest.raises(errors.InvalidParameterError) as info:
            Expression.parse(text)
        e = info.value
        assert e.path is None
        prefix = f"syntax error at column {case['syntax_error_column']}: "
        assert e.message.startswith(prefix), e.message
        if "message" in case:
            assert e.message == prefix + case["message"]
        return
    expression = Expression.parse(text)
    assert expression.text == text
    if "result" in case:
        got = expression.evaluate(case["item"])
        assert same(got, case["result"]), f"got {got!r}, want {case['result']!r}"
    else:
        with pytest.raises(errors.NodeError) as info:
            expression.evaluate(case["item"])
        assert type(info.value).__name__ == case["error"], repr(info.value)


def test_syntax_errors_are_manifest_errors_without_a_path_and_value_errors():
    with pytest.raises(errors.InvalidParameterError) as info:
        Expression.parse("item +")
    assert isinstance(info.value, errors.ManifestError) and isinstance(info.value, ValueError)
    assert str(info.value) == "syntax error at column 7: unexpected end of expression"
    with pytest.raises(errors.InvalidParameterError, match="must be a string"):
        Expression.parse(5)


def test_evaluation_errors_are_node_errors_of_python_classes():
    with pytest.raises(ZeroDivisionError):
        ev("1 / item", 0)
    with pytest.raises(TypeError):
        ev("item + 'a'", 1)
    with pytest.raises(errors.NodeValueError) as info:
        ev("item.missing", {})
    assert info.value.node_id is None, "the node locates it, not the expression"


# ------------------------------------------------------------------------- the object itself


def test_truthy_and_evaluate():
    e = Expression.parse("item and item.x")
    assert e.evaluate({}) == {} and e.truthy({}) is False
    assert e.evaluate({"x": 0}) == 0 and e.truthy({"x": 0}) is False
    assert e.truthy({"x": [1]}) is True
    with pytest.raises(errors.NodeTypeError):
        Expression.parse("item").truthy(np.arange(3))


def test_expressions_compare_by_text_and_repr_shows_it():
    assert Expression.parse("item > 1") == Expression.parse("item > 1")
    assert Expression.parse("item > 1") != Expression.parse("item>1")
    assert repr(Expression.parse("item > 1")) == "Expression('item > 1')"
    assert len({Expression.parse("1"), Expression.parse("1")}) == 1


def test_unparse_is_canonical():
    assert Expression.parse("(item+1)*2").unparse() == "(item + 1) * 2"
    assert Expression.parse("((item))").unparse() == "item"
    assert Expression.parse("-(2**2)").unparse() == "-2 ** 2"
    assert Expression.parse("(-2)**2").unparse() == "(-2) ** 2"
    assert Expression.parse("not (a_b == 1)".replace("a_b", "item")).unparse() == "not item == 1"
    assert Expression.parse("(1 < 2) < 3").unparse() == "(1 < 2) < 3"
    assert Expression.parse("'it\\'s'").unparse() == '"it\'s"'
    assert Expression.parse("item.a['b'][0]").unparse() == 'item.a["b"][0]'


def test_nesting_limit_and_long_chains():
    assert ev("(" * NESTING_LIMIT + "7" + ")" * NESTING_LIMIT) == 7
    with pytest.raises(errors.InvalidParameterError, match=f"column {NESTING_LIMIT + 1}:"):
        Expression.parse("(" * (NESTING_LIMIT + 1) + "7" + ")" * (NESTING_LIMIT + 1))
    # A flat chain is one node, evaluated in a loop: no RecursionError up to the token limit.
    terms = (TOKEN_LIMIT + 1) // 2  # "item + item ..." of n terms is 2n - 1 tokens
    assert terms > sys.getrecursionlimit()
    assert ev(" + ".join(["item"] * terms), 1) == terms
    assert ev(" and ".join(["item"] * terms), 2) == 2
    assert ev("item" + ".a" * 2000, _nested("a", 2000)) == 0


def test_token_limit():
    """One token more than TOKEN_LIMIT is a syntax error at that token (the native runtime's
    typed program once wrapped its 16-bit register indices past 65,535 terms)."""
    assert ev(" + ".join(["1"] * ((TOKEN_LIMIT + 1) // 2))) == (TOKEN_LIMIT + 1) // 2
    text = " + ".join(["1"] * (TOKEN_LIMIT // 2 + 1))  # TOKEN_LIMIT + 1 tokens: the last "1" is one too many
    column = text.rindex("1") + 1
    with pytest.raises(errors.InvalidParameterError,
                       match=f"^syntax error at column {column}: expression longer than {TOKEN_LIMIT} tokens$"):
        Expression.parse(text)


def _nested(key, depth):
    v = 0
    for _ in range(depth):
        v = {key: v}
    return v


# ---------------------------------------------------------------- what JSON cannot express


def test_nan_and_infinity():
    nan, inf = float("nan"), float("inf")
    assert ev("item == item", nan) is False and ev("item != item", nan) is True
    assert ev("[item] == [item]", nan) is False, "no identity shortcut, unlike Python lists"
    assert ev("item in [item]", nan) is False
    assert math.isnan(ev("min(item, 1)", nan)) and ev("min(1, item)", nan) == 1
    assert ev("not item", nan) is False
    assert error_of("round(item)", nan) is errors.NodeValueError
    assert error_of("int(item)", nan) is errors.NodeValueError
    assert error_of("round(item)", inf) is errors.NodeOverflowError
    assert error_of("int(-item)", inf) is errors.NodeOverflowError
    assert math.isnan(ev("item % 1.0", inf)) and math.isnan(ev("item // 1", inf))
    assert ev("1 // item", inf) == 0.0 and ev("-1 // item", inf) == -1.0
    assert ev("(-2) ** item", inf) == inf, "CPython's float_pow, not the Calculator's fractional-power error"
    assert math.isnan(ev("(-2) ** item", nan))
    assert ev("round(item, 2)", inf) == inf
    assert ev("item > 9223372036854775807", inf) is True


def test_bytes_have_length_equality_and_truth_only():
    b = b"a\0b"
    assert ev("len(item)", b) == 3 and ev("item == item", b) is True
    assert ev("item == 'a\\0b'", b) is False, "bytes never equal a str"
    assert ev("not item", b"") is True
    for text in ("item + item", "item < item", "item[0]", "'a' in item"):
        assert error_of(text, b) is errors.NodeTypeError, text
    assert ev("is_str(item)", b) is False


class Color(enum.IntEnum):
    RED = 1


@pytest.mark.parametrize("opaque", [(1, 2), Color.RED, {1: "a"}, "x".join, np.array(["a"])])
def test_opaque_values_pass_through_and_have_no_truth_or_arithmetic(opaque):
    assert ev("item", opaque) is opaque
    assert ev("item == item", opaque) is True, "identity"
    assert ev("[item] == [item]", opaque) is True
    assert error_of("not item", opaque) is errors.NodeTypeError
    assert error_of("item + 1", opaque) is errors.NodeTypeError
    assert error_of("item < 1", opaque) is errors.NodeTypeError
    assert ev("is_int(item) or is_map(item) or is_list(item)", opaque) is False


def test_ints_beyond_int64_are_numbers_whose_value_cannot_be_used():
    big = 2**70
    assert ev("item", big) == big and ev("is_int(item)", big) is True
    assert ev("not item", big) is False and ev("item == 'x'", big) is False
    for text in ("item + 1", "item == 1", "item < 2.5", "abs(item)", "[1, 2][item]", "-item"):
        assert error_of(text, big) is errors.NodeOverflowError, text
    assert error_of("item > 0", np.uint64(2**64 - 1)) is errors.NodeOverflowError


# ---------------------------------------------------------------------------------- numpy


def test_numpy_scalars_keep_numpy_arithmetic_and_are_numbers_elsewhere():
    x = np.int64(7)
    assert same(ev("item * 2", x), np.int64(14))
    assert same(ev("10 - item", x), np.int64(3))
    assert same(ev("item / 2", x), np.float64(3.5))
    assert same(ev("item // 2", x), np.int64(3))
    assert same(ev("item * item", x), np.int64(49))
    assert same(ev("item + 0.5", x), np.float64(7.5))
    assert same(ev("-item", x), np.int64(-7))
    assert same(ev("item > 3", x), True), "comparisons give Python bools"
    assert same(ev("abs(item)", x), 7) and same(ev("float(item)", x), 7.0), "functions give Python numbers"
    assert ev("max(item, 3)", x) is x, "min / max return the operand itself"
    assert same(ev("item and 5", x), 5)
    assert ev("is_int(item) and is_number(item) and not is_float(item)", x) is True
    assert ev("is_float(item)", np.float32(0.5)) is True and ev("is_bool(item)", np.bool_(True)) is True
    assert ev("item == 0.1", np.float32(0.1)) is False, "float32 0.1 compared as the double it is"
    assert same(ev("item * 2", np.float32(1.5)), np.float32(3.0))
    assert same(ev("item + item", np.int32(5)), np.int32(10))
    assert same(ev("item[0] + item[1]", [np.int32(5), np.int64(1)]), np.int64(6))
    assert same(ev("item[0] + item[1]", [np.int32(5), np.float32(1)]), np.float64(6.0))
    assert ev("item > 1", np.uint8(200)) is True


def test_numpy_errors():
    assert error_of("item + 1", np.int64(INT64_MAX)) is errors.NodeOverflowError
    assert error_of("1 - item", np.int64(INT64_MIN)) is errors.NodeOverflowError
    assert error_of("-item", np.int64(INT64_MIN)) is errors.NodeOverflowError
    assert error_of("item + 3000000000", np.int32(1)) is errors.NodeOverflowError
    assert error_of("3000000000 + item", np.int32(1)) is errors.NodeOverflowError
    assert error_of("item ** -1", np.int64(2)) is errors.NodeValueError
    assert ev("item ** -1", 2) == 0.5, "a Python int goes to float power"
    assert error_of("2 ** item", np.int64(-1)) is errors.NodeValueError
    assert error_of("item / 0", np.float64(1.0)) is errors.NodeZeroDivisionError
    assert error_of("1.0 % item", np.float64(0.0)) is errors.NodeZeroDivisionError
    assert error_of("item + 1", np.uint8(1)) is errors.NodeTypeError


def test_arrays_have_no_truth_and_compare_nothing():
    a = np.array([1, 2, 3])
    for text in ("not item", "item and 1", "item == 1", "item == item", "1 in [item]", "abs(item)",
                 "'x' in item"):
        assert error_of(text, a) is errors.NodeTypeError, text
    assert ev("len(item)", a) == 3
    assert error_of("len(item)", np.int64(3)) is errors.NodeTypeError


def test_array_arithmetic_indexing_and_shapes():
    a = np.array([1, 2, 3], dtype=np.int64)
    assert same(ev("item * 2", a), np.array([2, 4, 6]))
    assert same(ev("10 - item", a), np.array([9, 8, 7]))
    assert same(ev("item + item", a), np.array([2, 4, 6]))
    assert same(ev("item / item", a), np.array([1.0, 1.0, 1.0]))
    assert same(ev("item ** item[1]", a), np.array([1, 4, 9]))
    assert same(ev("item[-1]", a), np.int64(3))
    assert error_of("item[3]", a) is errors.NodeValueError
    assert error_of("item[0] + item[1]", [a, np.array([1, 0])]) is errors.NodeValueError
    assert error_of("7 // item", np.array([1, 0])) is errors.NodeZeroDivisionError
    assert error_of("item[0] * item[1]", [np.array([1, INT64_MAX]), np.array([2, 2])]) is errors.NodeOverflowError
    mixed = ev("item[0] * item[1]", [np.array([3, 1], np.int32), np.array([0.5, 2], np.float32)])
    assert same(mixed, np.array([1.5, 2.0]))
    m = np.arange(1, 7).reshape(2, 3)
    assert same(ev("item[-1]", m), np.array([4, 5, 6]))
    assert same(ev("item[1][2]", m), np.int64(6)) and ev("len(item)", m) == 2
    # a 0-d array stays an array in arithmetic and is a number elsewhere
    z = np.array(5)
    assert same(ev("item + 1", z), np.array(6)) and ev("item > 4", z) is True


def test_numpy_results_match_numpy_where_no_error_is_added():
    rng = np.random.default_rng(3)
    for dtype in (np.int32, np.int64, np.float32, np.float64):
        a = rng.integers(1, 50, 20).astype(dtype)
        for op in ("+", "-", "*", "/", "//", "%"):
            with np.errstate(all="ignore"):
                assert same(ev(f"item {op} 3", a), eval(f"a {op} 3")), (dtype, op)
                assert same(ev(f"7 {op} item", a), np.asarray(eval(f"7 {op} a"))), (dtype, op)
                assert same(ev(f"item[0] {op} item[1]", [a, a[::-1].copy()]), eval(f"a {op} a[::-1]"))


# --------------------------------------------------------------------- random trees (hypothesis)

_names = st.from_regex(r"[A-Za-z_][A-Za-z0-9_]{0,6}", fullmatch=True)
_atoms = st.one_of(
    st.just(("item",)),
    st.builds(lambda v: ("const", v), st.integers(0, INT64_MAX)),
    st.builds(lambda v: ("const", v), st.floats(min_value=0.0, allow_nan=False, allow_infinity=False).filter(
        lambda f: not (f == 0.0 and math.copysign(1, f) < 0))),
    st.builds(lambda v: ("const", v), st.text(max_size=6)),
    st.builds(lambda v: ("const", v), st.sampled_from([True, False, None])),
)


def _trees(children):
    operands = st.lists(children, min_size=2, max_size=4)
    return st.one_of(
        st.builds(lambda e: ("list", e), st.lists(children, max_size=3)),
        st.builds(lambda b, t: ("postfix", b, t), _atoms,
                  st.lists(st.one_of(st.builds(lambda n: ("field", n), _names),
                                     st.builds(lambda i: ("index", i), children)), min_size=1, max_size=3)),
        st.builds(lambda k, e: (k, e), st.sampled_from(["neg", "pos", "not"]), children),
        st.builds(lambda b, e: ("pow", b, e), children, children),
        st.builds(lambda k, e: (k, e), st.sampled_from(["or", "and"]), operands),
        operands.flatmap(lambda xs: st.builds(
            lambda ops: ("compare", xs, ops),
            st.lists(st.sampled_from(["==", "!=", "<", "<=", ">", ">=", "in", "not in"]),
                     min_size=len(xs) - 1, max_size=len(xs) - 1))),
        st.tuples(operands, st.sampled_from([("+", "-"), ("*", "/", "//", "%")])).flatmap(
            lambda p: st.builds(lambda ops: ("binary", p[0], ops),
                                st.lists(st.sampled_from(p[1]), min_size=len(p[0]) - 1,
                                         max_size=len(p[0]) - 1))),
        st.sampled_from(sorted(expr_module.FUNCTIONS)).flatmap(lambda name: st.builds(
            lambda args: ("call", name, args),
            st.lists(children, min_size=expr_module.FUNCTIONS[name][0],
                     max_size=expr_module.FUNCTIONS[name][1] or 3)))
    )


TREES = st.recursive(_atoms, _trees, max_leaves=12)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(TREES)
def test_random_trees_print_to_text_that_parses_back_to_the_same_tree(tree):
    text = expr_module._unparse(tree)
    try:
        parsed = Expression.parse(text)
    except errors.InvalidParameterError as e:
        assert "nested more than" in e.message, (text, e.message)  # only a too-deep tree may fail
        return
    assert repr(parsed._tree) == repr(tree), text
    assert parsed.unparse() == text
    # and it evaluates (to a value or a node error, never anything else) on a few items
    for item in (0, -3, 2.5, "ab", [1, 2], {"a": 1}, None, True):
        try:
            parsed.evaluate(item)
        except errors.NodeError:
            pass


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.sampled_from(list("item()[]'\"\\.,+-*/%<>=!012 néx_au")), max_size=20))
def test_any_text_parses_or_reports_a_column_inside_it(text):
    try:
        Expression.parse(text)
    except errors.InvalidParameterError as e:
        column = int(e.message.split("column ")[1].split(":")[0])
        assert 1 <= column <= len(text) + 1, (text, e.message)


# ------------------------------------------------------------ the native runtime, the same answers

_DIFF_ITEMS = [0, -3, 7, 2.5, -0.0, 1e300, "ab", "é", "", [1, 2], [], {"a": 1, "b": [2.5]}, {}, None,
               True, False, 2**63, np.int64(5), np.float64(-1.5), np.int32(3), np.float32(0.5),
               np.array([1, 2]), b"xy", (1, 2)]


def _native_outcomes(text, items):
    """MapNode(text) over each item on the native runtime: ("ok", [value]) or ("error", class)."""
    from remotemedia import Pipeline
    from remotemedia.nodes import MapNode

    outcomes = []
    for item in items:
        pipeline = Pipeline("expression")
        pipeline.add_node(MapNode(name="m", expression=text))
        try:
            outcomes.append(("ok", pipeline.run_sync([item], runtime="native")))
        except errors.NodeError as exc:
            outcomes.append(("error", type(exc)))
    return outcomes


def _python_outcomes(text, items):
    e = Expression.parse(text)
    outcomes = []
    for item in items:
        try:
            v = e.evaluate(item)
            outcomes.append(("ok", [] if v is None else [v]))  # MapNode emits nothing for None
        except errors.NodeError as exc:
            outcomes.append(("error", type(exc)))
    return outcomes


def _native_available() -> bool:
    try:
        from remotemedia import _runtime  # noqa: F401
        from remotemedia.nodes import MapNode  # noqa: F401
    except ImportError:
        return False
    return True


@pytest.mark.skipif(not _native_available(), reason="the native runtime is not built")
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(TREES)
def test_random_trees_give_the_same_outcome_on_the_native_runtime(tree):
    text = expr_module._unparse(tree)
    try:
        Expression.parse(text)
    except errors.InvalidParameterError:
        return
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # numpy's own warnings while converting results
        native = _native_outcomes(text, _DIFF_ITEMS)
    python = _python_outcomes(text, _DIFF_ITEMS)
    for item, n, p in zip(_DIFF_ITEMS, native, python):
        assert n[0] == p[0], (text, item, n, p)
        if n[0] == "error":
            assert n[1] is p[1], (text, item, n, p)
        else:
            assert len(n[1]) == len(p[1]) and all(
                (x is y) or same(x, y) or (type(x) is type(y) is tuple and x == y)
                or ("**" in text and _one_ulp_apart(x, y))
                for x, y in zip(n[1], p[1])
            ), (text, item, n, p)


def _one_ulp_apart(x, y) -> bool:
    """numpy float power: numpy's SIMD kernel and the C library's pow may differ by one ulp, the one
    tolerated difference (docs/SEMANTICS.md)."""
    if not (isinstance(x, (np.floating, np.ndarray)) and type(x) is type(y) and x.dtype == y.dtype):
        return False
    if x.dtype.kind != "f" or np.shape(x) != np.shape(y):
        return False
    x, y = np.asarray(x), np.asarray(y)
    with np.errstate(all="ignore"):
        return bool(np.all((x == y) | (np.nextafter(x, np.inf) == y) | (np.nextafter(x, -np.inf) == y)
                           | (np.isnan(x) & np.isnan(y))))

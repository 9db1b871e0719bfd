"""The expression language of FilterNode, MapNode and RouterNode (docs/EXPRESSIONS.md).

The native runtime (include/remotemedia/expression.h) implements the same page; the shared vectors
in tests/data/expressions.json hold both to it. The parser is hand-written (not Python's ``ast``) so
that what parses, and the column a syntax error reports, are exactly the native parser's. An
expression is compiled once into nested closures; evaluating it walks no tree.

Numbers use the Calculator's arithmetic (``remotemedia.nodes.calculator.Arithmetic``), so ``+ - *
/ % **`` (and ``//``) raise the same errors as CalculatorNode for the same operands.
"""

from __future__ import annotations

import math
import operator
from typing import Any, Callable

import numpy as np

from remotemedia.core.audio import Audio
from remotemedia.core.params import INT64_MAX, INT64_MIN
from remotemedia.errors import (
    InvalidParameterError,
    NodeOverflowError,
    NodeTypeError,
    NodeValueError,
    NodeZeroDivisionError,
)

__all__ = ["Expression", "NESTING_LIMIT", "TOKEN_LIMIT", "FUNCTIONS"]

#: Parentheses, brackets, calls, indexes, unary operators and exponents open a nesting level; an
#: expression deeper than this is a syntax error (both runtimes parse and evaluate recursively).
NESTING_LIMIT = 32
# At most this many tokens (the native runtime's Expression::kTokenLimit, which keeps its typed
# program's 16-bit register indices in range).
TOKEN_LIMIT = 4096

#: name -> (fewest, most) arguments; None: no upper bound.
FUNCTIONS: dict[str, tuple[int, int | None]] = {
    "abs": (1, 1),
    "len": (1, 1),
    "min": (1, None),
    "max": (1, None),
    "round": (1, 2),
    "int": (1, 1),
    "float": (1, 1),
    "is_int": (1, 1),
    "is_float": (1, 1),
    "is_number": (1, 1),
    "is_bool": (1, 1),
    "is_str": (1, 1),
    "is_list": (1, 1),
    "is_map": (1, 1),
    "is_null": (1, 1),
}

_CONSTANTS = {"True": True, "true": True, "False": False, "false": False, "None": None, "null": None}
_KEYWORDS = ("and", "or", "not", "in")
_COMPARE_OPS = ("==", "!=", "<", "<=", ">", ">=")
_TWO_CHAR_OPS = ("**", "//", "==", "!=", "<=", ">=")
_ONE_CHAR_OPS = "+-*/%<>()[],."
_ESCAPES = {"\\": "\\", "'": "'", '"': '"', "n": "\n", "t": "\t", "r": "\r", "0": "\0"}
_WHITESPACE = " \t\n\r"
_DIGITS = "0123456789"
_NAME_START = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ_"
_NAME_CHARS = _NAME_START + _DIGITS
_HEX = "0123456789abcdefABCDEF"


# ------------------------------------------------------------------------------------------ lexer

# Token kinds
_NUMBER, _STRING, _NAME, _OP, _END = "number", "string", "name", "op", "end"


class _Token:
    __slots__ = ("kind", "text", "value", "column")

    def __init__(self, kind: str, text: str, value: Any, column: int) -> None:
        self.kind, self.text, self.value, self.column = kind, text, value, column

    def is_op(self, text: str) -> bool:
        return self.kind == _OP and self.text == text

    def is_name(self, text: str) -> bool:
        return self.kind == _NAME and self.text == text

    def describe(self) -> str:
        if self.kind == _END:
            return "end of expression"
        if self.kind == _STRING:
            return "string"
        if self.kind == _NUMBER:
            return f"number {self.text}"
        return f"'{self.text}'"


def _syntax_error(column: int, detail: str) -> InvalidParameterError:
    return InvalidParameterError(f"syntax error at column {column}: {detail}", path=None)


def _tokenize(text: str) -> list[_Token]:
    tokens: list[_Token] = []
    i, n = 0, len(text)
    while True:
        while i < n and text[i] in _WHITESPACE:
            i += 1
        if i >= n:
            tokens.append(_Token(_END, "", None, n + 1))
            return tokens
        c = text[i]
        start = i
        if len(tokens) == TOKEN_LIMIT:
            raise _syntax_error(start + 1, f"expression longer than {TOKEN_LIMIT} tokens")
        if c in _DIGITS or (c == "." and i + 1 < n and text[i + 1] in _DIGITS):
            i = _scan_number(text, i)
            tokens.append(_number_token(text[start:i], start + 1))
        elif c == "'" or c == '"':
            i, value = _scan_string(text, i)
            tokens.append(_Token(_STRING, text[start:i], value, start + 1))
        elif c in _NAME_START:
            while i < n and text[i] in _NAME_CHARS:
                i += 1
            tokens.append(_Token(_NAME, text[start:i], None, start + 1))
        elif text[i : i + 2] in _TWO_CHAR_OPS:
            tokens.append(_Token(_OP, text[i : i + 2], None, start + 1))
            i += 2
        elif c in _ONE_CHAR_OPS:
            tokens.append(_Token(_OP, c, None, start + 1))
            i += 1
        elif c == "=":
            raise _syntax_error(start + 1, "unexpected '=' (comparison is '==')")
        else:
            raise _syntax_error(start + 1, f"unexpected character '{c}'")


def _scan_number(text: str, i: int) -> int:
    """The end of the number starting at ``i`` (digits, fraction, exponent); a name character
    right after it makes it invalid (``1abc``, ``0x1f``, ``1_000``, ``1e``)."""
    n, start = len(text), i
    while i < n and text[i] in _DIGITS:
        i += 1
    if i < n and text[i] == ".":
        i += 1
        while i < n and text[i] in _DIGITS:
            i += 1
    if i < n and text[i] in "eE":
        j = i + 1
        if j < n and text[j] in "+-":
            j += 1
        if j < n and text[j] in _DIGITS:
            while j < n and text[j] in _DIGITS:
                j += 1
            i = j
    if i < n and text[i] in _NAME_CHARS:
        end = i
        while end < n and text[end] in _NAME_CHARS:
            end += 1
        raise _syntax_error(start + 1, f"invalid number '{text[start:end]}'")
    return i


def _number_token(text: str, column: int) -> _Token:
    if "." in text or "e" in text or "E" in text:
        return _Token(_NUMBER, text, float(text), column)
    if len(text) > 1 and text[0] == "0" and text.strip("0"):
        raise _syntax_error(column, f"invalid number '{text}' (leading zeros)")
    value = int(text)
    if value > INT64_MAX:
        raise _syntax_error(column, f"integer literal {text} does not fit in int64")
    return _Token(_NUMBER, text, value, column)


def _scan_string(text: str, i: int) -> tuple[int, str]:
    quote, start, n = text[i], i, len(text)
    i += 1
    out: list[str] = []
    while True:
        if i >= n:
            raise _syntax_error(start + 1, "unterminated string")
        c = text[i]
        if c == quote:
            return i + 1, "".join(out)
        if c != "\\":
            out.append(c)
            i += 1
            continue
        if i + 1 >= n:
            raise _syntax_error(start + 1, "unterminated string")
        e = text[i + 1]
        if e in _ESCAPES:
            out.append(_ESCAPES[e])
            i += 2
        elif e == "u":
            digits = text[i + 2 : i + 6]
            if len(digits) != 4 or any(d not in _HEX for d in digits):
                raise _syntax_error(i + 1, "invalid \\u escape (it takes 4 hex digits)")
            code = int(digits, 16)
            if 0xD800 <= code <= 0xDFFF:
                raise _syntax_error(i + 1, f"invalid \\u escape (\\u{digits} is a surrogate)")
            out.append(chr(code))
            i += 6
        else:
            raise _syntax_error(i + 1, f"invalid escape sequence '\\{e}'")


# ----------------------------------------------------------------------------------------- parser
#
# The syntax tree is made of tuples:
#   ("item",)  ("const", value)  ("list", [e...])  ("postfix", base, [("field", name) | ("index", e)])
#   ("neg", e)  ("pos", e)  ("not", e)  ("pow", base, exponent)  ("call", name, [e...])
#   ("or", [e...])  ("and", [e...])  ("compare", [e...], [op...])  ("binary", [e...], [op...])
# "binary" holds one precedence level (+ - or * / // %), folded from the left.


class _Parser:
    def __init__(self, text: str) -> None:
        self.tokens = _tokenize(text)
        self.pos = 0
        self.depth = 0

    @property
    def tok(self) -> _Token:
        return self.tokens[self.pos]

    def advance(self) -> _Token:
        t = self.tokens[self.pos]
        self.pos += 1
        return t

    def enter(self, column: int) -> None:
        self.depth += 1
        if self.depth > NESTING_LIMIT:
            raise _syntax_error(column, f"expression nested more than {NESTING_LIMIT} levels deep")

    def leave(self) -> None:
        self.depth -= 1

    def unexpected(self, expected: str | None = None) -> InvalidParameterError:
        t = self.tok
        if expected:
            return _syntax_error(t.column, f"expected {expected}, found {t.describe()}")
        return _syntax_error(t.column, f"unexpected {t.describe()}")

    def expect(self, op: str, expected: str) -> None:
        if not self.tok.is_op(op):
            raise self.unexpected(expected)
        self.advance()

    def parse(self) -> tuple:
        tree = self.expression()
        if self.tok.kind != _END:
            raise self.unexpected()
        return tree

    def expression(self) -> tuple:
        return self.or_test()

    def or_test(self) -> tuple:
        operands = [self.and_test()]
        while self.tok.is_name("or"):
            self.advance()
            operands.append(self.and_test())
        return operands[0] if len(operands) == 1 else ("or", operands)

    def and_test(self) -> tuple:
        operands = [self.not_test()]
        while self.tok.is_name("and"):
            self.advance()
            operands.append(self.not_test())
        return operands[0] if len(operands) == 1 else ("and", operands)

    def not_test(self) -> tuple:
        if self.tok.is_name("not"):
            self.enter(self.advance().column)
            operand = self.not_test()
            self.leave()
            return ("not", operand)
        return self.comparison()

    def comparison(self) -> tuple:
        operands = [self.arith()]
        ops: list[str] = []
        while True:
            t = self.tok
            if t.kind == _OP and t.text in _COMPARE_OPS:
                op = t.text
            elif t.is_name("in"):
                op = "in"
            elif t.is_name("not"):
                self.advance()
                if not self.tok.is_name("in"):
                    raise self.unexpected("'in' after 'not'")
                op = "not in"
            else:
                break
            self.advance()
            ops.append(op)
            operands.append(self.arith())
        return operands[0] if not ops else ("compare", operands, ops)

    def arith(self) -> tuple:
        return self._binary_level(("+", "-"), self.term)

    def term(self) -> tuple:
        return self._binary_level(("*", "/", "//", "%"), self.factor)

    def _binary_level(self, symbols: tuple[str, ...], operand: Callable[[], tuple]) -> tuple:
        operands = [operand()]
        ops: list[str] = []
        while self.tok.kind == _OP and self.tok.text in symbols:
            ops.append(self.advance().text)
            operands.append(operand())
        return operands[0] if not ops else ("binary", operands, ops)

    def factor(self) -> tuple:
        t = self.tok
        if t.is_op("-") or t.is_op("+"):
            self.advance()
            self.enter(t.column)
            operand = self.factor()
            self.leave()
            return ("neg" if t.text == "-" else "pos", operand)
        return self.power()

    def power(self) -> tuple:
        base = self.postfix()
        if self.tok.is_op("**"):
            self.enter(self.advance().column)
            exponent = self.factor()
            self.leave()
            return ("pow", base, exponent)
        return base

    def postfix(self) -> tuple:
        base = self.atom()
        trailers: list[tuple] = []
        while True:
            t = self.tok
            if t.is_op("."):
                self.advance()
                if self.tok.kind != _NAME:
                    raise self.unexpected("a field name after '.'")
                trailers.append(("field", self.advance().text))
            elif t.is_op("["):
                self.advance()
                self.enter(t.column)
                index = self.expression()
                self.expect("]", "']'")
                self.leave()
                trailers.append(("index", index))
            else:
                break
        return base if not trailers else ("postfix", base, trailers)

    def atom(self) -> tuple:
        t = self.tok
        if t.kind == _NUMBER or t.kind == _STRING:
            self.advance()
            return ("const", t.value)
        if t.kind == _NAME:
            name = t.text
            if name == "item":
                self.advance()
                return ("item",)
            if name in _CONSTANTS:
                self.advance()
                return ("const", _CONSTANTS[name])
            if name in FUNCTIONS:
                return self.call()
            if name in _KEYWORDS:
                raise self.unexpected()
            raise _syntax_error(t.column, f"unknown name '{name}'")
        if t.is_op("("):
            self.advance()
            self.enter(t.column)
            inner = self.expression()
            self.expect(")", "')'")
            self.leave()
            return inner
        if t.is_op("["):
            self.advance()
            self.enter(t.column)
            elements = self.sequence("]")
            self.leave()
            return ("list", elements)
        raise self.unexpected()

    def sequence(self, close: str) -> list[tuple]:
        """Comma-separated expressions up to ``close`` (consumed), none allowed."""
        if self.tok.is_op(close):
            self.advance()
            return []
        elements = [self.expression()]
        while self.tok.is_op(","):
            self.advance()
            elements.append(self.expression())
        self.expect(close, f"',' or '{close}'")
        return elements

    def call(self) -> tuple:
        name_token = self.advance()
        name = name_token.text
        if not self.tok.is_op("("):
            raise _syntax_error(name_token.column, f"function '{name}' must be called: {name}(...)")
        open_paren = self.advance()
        self.enter(open_paren.column)
        args = self.sequence(")")
        self.leave()
        fewest, most = FUNCTIONS[name]
        if len(args) < fewest or (most is not None and len(args) > most):
            if most is None:
                wanted = f"at least {fewest} argument"
            elif fewest == most:
                wanted = f"{fewest} argument"
            else:
                wanted = f"{fewest} or {most} arguments"
            raise _syntax_error(
                name_token.column, f"{name}() takes {wanted} ({len(args)} given)"
            )
        return ("call", name, args)


# ------------------------------------------------------------------------------------ unparsing

_PREC_OR, _PREC_AND, _PREC_NOT, _PREC_COMPARE, _PREC_SUM, _PREC_TERM = 1, 2, 3, 4, 5, 6
_PREC_UNARY, _PREC_POWER, _PREC_ATOM = 7, 8, 9
_STRING_ESCAPES = {"\\": "\\\\", '"': '\\"', "\n": "\\n", "\t": "\\t", "\r": "\\r", "\0": "\\0"}


def _unparse(node: tuple, context: int = 0) -> str:
    kind = node[0]
    if kind == "item":
        return "item"
    if kind == "const":
        return _literal(node[1])
    if kind == "list":
        return "[" + ", ".join(_unparse(e) for e in node[1]) + "]"
    if kind == "call":
        return node[1] + "(" + ", ".join(_unparse(e) for e in node[2]) + ")"
    if kind == "postfix":
        text = _unparse(node[1], _PREC_ATOM)
        if node[1][0] == "const" and type(node[1][1]) is int:
            text = f"({text})"  # 0.x would read as the number "0." then x
        for trailer_kind, arg in node[2]:
            text += "." + arg if trailer_kind == "field" else "[" + _unparse(arg) + "]"
        return text
    if kind in ("neg", "pos"):
        text, prec = ("-" if kind == "neg" else "+") + _unparse(node[1], _PREC_UNARY), _PREC_UNARY
    elif kind == "not":
        text, prec = "not " + _unparse(node[1], _PREC_NOT), _PREC_NOT
    elif kind == "pow":
        text = _unparse(node[1], _PREC_ATOM) + " ** " + _unparse(node[2], _PREC_UNARY)
        prec = _PREC_POWER
    elif kind in ("or", "and"):
        prec = _PREC_OR if kind == "or" else _PREC_AND
        text = f" {kind} ".join(_unparse(e, prec + 1) for e in node[1])
    else:  # compare, binary: one precedence level, operands one level up
        operands, ops = node[1], node[2]
        prec = _PREC_COMPARE if kind == "compare" else (
            _PREC_SUM if ops[0] in ("+", "-") else _PREC_TERM
        )
        text = _unparse(operands[0], prec + 1)
        for op, operand in zip(ops, operands[1:]):
            text += f" {op} " + _unparse(operand, prec + 1)
    return f"({text})" if prec < context else text


def _literal(value: Any) -> str:
    if value is None or type(value) is bool:
        return repr(value)
    if type(value) is int:
        return str(value)
    if type(value) is float:
        if not math.isfinite(value):
            raise ValueError(f"{value!r} has no literal")
        return repr(value)
    if type(value) is str:
        return '"' + "".join(_STRING_ESCAPES.get(c, c) for c in value) + '"'
    raise ValueError(f"{value!r} has no literal")


# --------------------------------------------------------------------------------- value model
#
# Kinds, as the native runtime sees Python values (src/python/convert.cpp): exact types only; a dict
# with a non-str key, a subclass or any other type is an opaque object; numpy arrays and scalars of
# the modelled dtypes are arrays, and a numpy scalar or a 0-d array stands for the number it holds
# everywhere except in arithmetic (numpy rules).

_MODELLED_DTYPES = frozenset(
    np.dtype(t)
    for t in (
        np.bool_, np.int8, np.int16, np.int32, np.int64,
        np.uint8, np.uint16, np.uint32, np.uint64,
        np.float16, np.float32, np.float64,
    )
)  # fmt: skip
_ARITH_DTYPES = frozenset(np.dtype(t) for t in (np.int32, np.int64, np.float32, np.float64))
_INT_DTYPE_BOUNDS = {np.dtype(np.int32): (-(2**31), 2**31 - 1), np.dtype(np.int64): (INT64_MIN, INT64_MAX)}


def _a(name: str) -> str:
    """The type name with its article, for messages ("an int", "a str"); the native runtime's a_type."""
    return ("an " if name[:1] in ("a", "e", "i", "o", "u") else "a ") + name


def _type_name(v: Any) -> str:
    t = type(v)
    if v is None:
        return "NoneType"
    if t is Audio:  # the native runtime's name for its audio values (Value::type_name)
        return "audio"
    if t is np.ndarray:
        return f"ndarray[{v.dtype}]"
    if isinstance(v, np.generic):
        # A dtype outside the model travels as an opaque object, named by its Python type
        # ("numpy.str_", not "numpy.<U1").
        return f"numpy.{v.dtype}" if v.dtype in _MODELLED_DTYPES else f"numpy.{t.__name__}"
    return t.__name__


def _is_map(v: Any) -> bool:
    return type(v) is dict and all(type(k) is str for k in v)


def _is_numpy(v: Any) -> bool:
    """A numpy array or scalar of a modelled dtype."""
    t = type(v)
    if t is np.ndarray:
        return v.dtype in _MODELLED_DTYPES
    return isinstance(v, np.generic) and v.dtype in _MODELLED_DTYPES


def _is_array(v: Any) -> bool:
    """An array with at least one dimension (not a number)."""
    return type(v) is np.ndarray and v.ndim >= 1 and v.dtype in _MODELLED_DTYPES


def _check_int64(v: int) -> int:
    if not INT64_MIN <= v <= INT64_MAX:
        # Without the value: the native runtime holds such an int as an opaque object.
        raise NodeOverflowError("int too large to convert to int64")
    return v


def _result_int64(v: int, call: str) -> int:
    """A function's int result, which must fit int64 (the message names the call: "abs(-9223372036854775808)")."""
    if not INT64_MIN <= v <= INT64_MAX:
        raise NodeOverflowError(f"{call} does not fit in int64")
    return v


def _number(v: Any) -> bool | int | float | None:
    """The Python number ``v`` stands for, or None when it is not a number. An int outside int64
    (or a numpy uint64 beyond it) is a NodeOverflowError: the native runtime cannot use its value."""
    t = type(v)
    if t is int:
        return _check_int64(v)
    if t is float or t is bool:
        return v
    if (t is np.ndarray and v.ndim == 0 and v.dtype in _MODELLED_DTYPES) or (
        isinstance(v, np.generic) and v.dtype in _MODELLED_DTYPES
    ):
        n = v.item()
        return _check_int64(n) if type(n) is int else n
    return None


def _is_number(v: Any) -> bool:
    t = type(v)
    if t is int or t is float or t is bool:
        return True
    if t is np.ndarray:
        return v.ndim == 0 and v.dtype in _MODELLED_DTYPES
    return isinstance(v, np.generic) and v.dtype in _MODELLED_DTYPES


def _array_error(what: str) -> NodeTypeError:
    return NodeTypeError(f"{what} of an array is ambiguous (use a numpy scalar or an element)")


def truth(v: Any) -> bool:
    """Python's truthiness, except that arrays and opaque objects have none (NodeTypeError)."""
    t = type(v)
    if t is bool:
        return v
    if t is int or t is float:
        return v != 0
    if v is None:
        return False
    if t is str or t is bytes or t is list:
        return len(v) != 0
    if t is dict and _is_map(v):
        return len(v) != 0
    if _is_array(v):
        raise _array_error("the truth value")
    n = _number(v)
    if n is not None:
        return n != 0
    raise NodeTypeError(f"the truth value of {_type_name(v)} is not defined")


def _equal(a: Any, b: Any) -> bool:
    if _is_array(a) or _is_array(b):
        raise _array_error("comparison")
    a_number, b_number = _is_number(a), _is_number(b)
    if a_number or b_number:
        return a_number and b_number and _number(a) == _number(b)
    ta, tb = type(a), type(b)
    if a is None or b is None:
        return a is b
    if ta is str or ta is bytes:
        return ta is tb and a == b
    if ta is list:
        if tb is not list or len(a) != len(b):
            return False
        return all(_equal(x, y) for x, y in zip(a, b))
    if _is_map(a):
        if not _is_map(b) or len(a) != len(b):
            return False
        for key, value in a.items():
            if key not in b or not _equal(value, b[key]):
                return False
        return True
    return a is b  # opaque objects: identity


_ORDER = {"<": operator.lt, "<=": operator.le, ">": operator.gt, ">=": operator.ge}


def _order(op: str, a: Any, b: Any) -> bool:
    if _is_array(a) or _is_array(b):
        raise _array_error("comparison")
    if _is_number(a) and _is_number(b):
        return _ORDER[op](_number(a), _number(b))
    ta = type(a)
    if ta is str and type(b) is str:
        return _ORDER[op](a, b)
    if ta is list and type(b) is list:
        for x, y in zip(a, b):
            if not _equal(x, y):
                return _order(op, x, y)
        return _ORDER[op](len(a), len(b))
    raise NodeTypeError(f"'{op}' is not supported between {_type_name(a)} and {_type_name(b)}")


def _contains(container: Any, x: Any) -> bool:
    t = type(container)
    if t is str:
        if type(x) is not str:
            raise NodeTypeError(f"'in <str>' needs a str on the left, not {_type_name(x)}")
        return x in container
    if t is list:
        return any(_equal(element, x) for element in container)
    if t is dict and _is_map(container):
        tx = type(x)
        if tx is str:
            return x in container
        if tx is list or tx is dict or tx is np.ndarray:
            raise NodeTypeError(f"{_a(_type_name(x))} cannot be a key of a map")
        return False
    raise NodeTypeError(f"'in' needs a str, list or map on the right, not {_type_name(container)}")


def _compare(op: str, a: Any, b: Any) -> bool:
    if op == "==":
        return _equal(a, b)
    if op == "!=":
        return not _equal(a, b)
    if op == "in":
        return _contains(b, a)
    if op == "not in":
        return not _contains(b, a)
    return _order(op, a, b)


# ----------------------------------------------------------------------------------- arithmetic

_OPERATION_NAMES = {
    "+": "add", "-": "subtract", "*": "multiply", "/": "divide", "//": "floor_divide",
    "%": "modulo", "**": "power",
}  # fmt: skip
_PY_OPS = {
    "+": operator.add, "-": operator.sub, "*": operator.mul, "/": operator.truediv,
    "//": operator.floordiv, "%": operator.mod, "**": operator.pow,
}  # fmt: skip


def _arithmetic(symbol: str, operand: Any):
    from remotemedia.nodes.calculator import Arithmetic  # nodes import core: import when used

    return Arithmetic(_OPERATION_NAMES[symbol], operand)


def _is_py_number(v: Any) -> bool:
    t = type(v)
    return t is int or t is float or t is bool


def binary(symbol: str, a: Any, b: Any, arithmetic: Any = None) -> Any:
    """``a symbol b`` for an arithmetic operator. ``arithmetic`` is a prepared Calculator
    ``Arithmetic`` for ``symbol`` with operand ``b``, when ``b`` is a constant."""
    ta, tb = type(a), type(b)
    a_py, b_py = ta is int or ta is float or ta is bool, tb is int or tb is float or tb is bool
    if a_py and b_py:
        if ta is int:
            _check_int64(a)
        if tb is int:
            _check_int64(b)
        elif tb is bool:
            b = int(b)
        return (arithmetic or _arithmetic(symbol, b))._number(a)
    if symbol == "+" and ta is tb and (ta is str or ta is list):
        return a + b
    a_np, b_np = _is_numpy(a), _is_numpy(b)
    if a_np and b_py:
        if tb is int:
            _check_int64(b)
        elif tb is bool:
            b = int(b)
        return (arithmetic or _arithmetic(symbol, b))._numpy(a)
    if (a_np and b_np) or (a_py and b_np):
        if ta is int:
            _check_int64(a)
        elif ta is bool:
            a = int(a)
        return _numpy_general(symbol, a, b)
    raise NodeTypeError(
        f"unsupported operand types for {symbol}: {_type_name(a)} and {_type_name(b)}"
    )


def _numpy_general(symbol: str, a: Any, b: Any) -> Any:
    """numpy arithmetic beyond the Calculator's (array op Python number): a Python number on the
    left, or numpy on both sides. Checks in the Calculator's order: dtypes, a Python int that
    does not fit an int dtype, shapes, zero divisors, negative int powers, int results out of range.
    """
    for v in (a, b):
        if not _is_py_number(v) and v.dtype not in _ARITH_DTYPES:
            raise NodeTypeError(f"unsupported dtype {v.dtype} (expected int32, int64, float32 or float64)")
    for number, other in ((a, b), (b, a)):
        if type(number) is int and other.dtype in _INT_DTYPE_BOUNDS:
            lo, hi = _INT_DTYPE_BOUNDS[other.dtype]
            if not lo <= number <= hi:
                raise NodeOverflowError(f"Python integer {number} out of bounds for {other.dtype}")
    a_shape, b_shape = np.shape(a), np.shape(b)
    if a_shape and b_shape and a_shape != b_shape:
        raise NodeValueError(f"operands of shapes {a_shape} and {b_shape} do not match")
    if symbol in ("/", "//", "%") and np.any(np.asarray(b) == 0):
        raise NodeZeroDivisionError("modulo by zero" if symbol == "%" else "division by zero")
    result_dtype = np.result_type(a, b)
    op = _PY_OPS[symbol]
    if result_dtype in _INT_DTYPE_BOUNDS and symbol != "/":
        if symbol == "**" and np.any(np.asarray(b) < 0):
            raise NodeValueError("integers to negative integer powers are not allowed")
        from remotemedia.nodes.calculator import _exact_int

        lo, hi = _INT_DTYPE_BOUNDS[result_dtype]
        xs = np.broadcast_to(np.asarray(a), np.broadcast_shapes(a_shape, b_shape))
        ys = np.broadcast_to(np.asarray(b), xs.shape)
        for x, y in zip(xs.flat, ys.flat):
            if _exact_int(op, int(x), int(y), lo, hi) is None:
                # Each operand by its dtype, a Python number by its value (as numpy_general words it).
                names = [repr(v) if _is_py_number(v) else str(v.dtype) for v in (a, b)]
                raise NodeOverflowError(
                    f"{names[0]} {symbol} {names[1]}: a result does not fit in {result_dtype}"
                )
        result = op(a, b)
    else:
        with np.errstate(all="ignore"):
            result = op(a, b)
    return np.asarray(result) if type(a) is np.ndarray or type(b) is np.ndarray else result


def negate(v: Any, symbol: str = "-") -> Any:
    """Unary minus (``x * -1``) or plus (``x * 1``): Python numbers and numpy values only."""
    if not (_is_py_number(v) or _is_numpy(v)):
        raise NodeTypeError(f"bad operand type for unary {symbol}: {_type_name(v)}")
    return binary("*", v, -1 if symbol == "-" else 1)


# ------------------------------------------------------------------------------------ functions


def _numeric_arg(name: str, v: Any) -> bool | int | float:
    n = _number(v)
    if n is None:
        raise NodeTypeError(f"{name}() needs a number, not {_type_name(v)}")
    return n


def _fn_abs(x: Any) -> int | float:
    n = _numeric_arg("abs", x)
    if type(n) is float:
        return abs(n)
    return _result_int64(abs(int(n)), f"abs({int(n)})")


def _fn_len(x: Any) -> int:
    t = type(x)
    if t is str or t is bytes or t is list or (t is dict and _is_map(x)):
        return len(x)
    if _is_array(x):
        return len(x)
    raise NodeTypeError(f"{_type_name(x)} has no len()")


def _min_max(name: str, op: str, args: list) -> Any:
    if len(args) == 1:
        if type(args[0]) is not list:
            raise NodeTypeError(f"{name}() of one argument needs a list, not {_type_name(args[0])}")
        args = args[0]
        if not args:
            raise NodeValueError(f"{name}() of an empty list")
    best = args[0]
    for x in args[1:]:
        if _order(op, x, best):
            best = x
    return best


def _fn_round(x: Any, *ndigits: Any) -> int | float:
    n = _numeric_arg("round", x)
    if not ndigits:
        if type(n) is float:
            if math.isnan(n):
                raise NodeValueError("cannot round a NaN to an int")
            if math.isinf(n):
                raise NodeOverflowError("cannot round an infinity to an int")
            return _result_int64(round(n), f"round({n!r})")
        return int(n)
    digits = ndigits[0]
    d = _number(digits)
    if d is None or type(d) is float:
        raise NodeTypeError(f"round()'s digits must be an int, not {_type_name(digits)}")
    if type(n) is float:
        try:
            return round(n, int(d))
        except OverflowError:
            raise NodeOverflowError("rounded value too large for a float") from None
    if d < -19:  # 10 ** 20 > 2 * |n|: 0 (without building 10 ** -d)
        return 0
    return _result_int64(round(int(n), int(d)), f"round({int(n)}, {int(d)})")


def _fn_int(x: Any) -> int:
    n = _numeric_arg("int", x)
    if type(n) is float:
        if math.isnan(n):
            raise NodeValueError("cannot convert a NaN to an int")
        if math.isinf(n):
            raise NodeOverflowError("cannot convert an infinity to an int")
        return _result_int64(int(n), f"int({n!r})")
    return int(n)


def _fn_float(x: Any) -> float:
    return float(_numeric_arg("float", x))


def _numpy_kind(v: Any) -> str:
    """'b', 'i', 'u' or 'f' for a numpy scalar or 0-d array, '' otherwise."""
    t = type(v)
    if (t is np.ndarray and v.ndim == 0) or isinstance(v, np.generic):
        if v.dtype in _MODELLED_DTYPES:
            return v.dtype.kind
    return ""


def _is_int(v: Any) -> bool:
    return type(v) is int or _numpy_kind(v) in ("i", "u")


def _is_float(v: Any) -> bool:
    return type(v) is float or _numpy_kind(v) == "f"


_FUNCTIONS: dict[str, Callable[..., Any]] = {
    "abs": _fn_abs,
    "len": _fn_len,
    "min": lambda *args: _min_max("min", "<", list(args)),
    "max": lambda *args: _min_max("max", ">", list(args)),
    "round": _fn_round,
    "int": _fn_int,
    "float": _fn_float,
    "is_int": _is_int,
    "is_float": _is_float,
    "is_number": lambda v: _is_int(v) or _is_float(v),
    "is_bool": lambda v: type(v) is bool or _numpy_kind(v) == "b",
    "is_str": lambda v: type(v) is str,
    "is_list": lambda v: type(v) is list,
    "is_map": _is_map,
    "is_null": lambda v: v is None,
}


# ---------------------------------------------------------------------------- access (. and [])


def _field(v: Any, name: str) -> Any:
    if type(v) is dict and _is_map(v):
        try:
            return v[name]
        except KeyError:
            raise NodeValueError(f"no field '{name}'") from None
    raise NodeTypeError(f"{_a(_type_name(v))} has no fields (looking up '{name}')")


def _code_point_index(length: int, i: Any, what: str) -> int:
    ti = type(i)
    if ti is int or ti is bool or _numpy_kind(i) in ("b", "i", "u"):
        n = _number(i)
        k = n + length if n < 0 else n
        if not 0 <= k < length:
            raise NodeValueError(f"index {n} out of range for {_a(what)} of length {length}")
        return int(k)
    raise NodeTypeError(f"{_a(what)} index must be an int, not {_type_name(i)}")


def _index(v: Any, i: Any) -> Any:
    t = type(v)
    if t is list:
        return v[_code_point_index(len(v), i, "list")]
    if t is str:
        return v[_code_point_index(len(v), i, "str")]
    if t is dict and _is_map(v):
        if type(i) is not str:
            raise NodeTypeError(f"a map index must be a str, not {_type_name(i)}")
        return _field(v, i)
    if _is_array(v):
        return v[_code_point_index(len(v), i, "array")]
    raise NodeTypeError(f"{_a(_type_name(v))} cannot be indexed")


# ------------------------------------------------------------------------------------- compiler

Evaluator = Callable[[Any], Any]


def _identity(item: Any) -> Any:
    return item


def _compile(node: tuple) -> Evaluator:
    kind = node[0]
    if kind == "item":
        return _identity
    if kind == "const":
        value = node[1]
        return lambda item: value
    if kind == "list":
        elements = [_compile(e) for e in node[1]]
        return lambda item: [e(item) for e in elements]
    if kind == "postfix":
        return _compile_postfix(node)
    if kind in ("neg", "pos"):
        operand = _compile(node[1])
        symbol = "-" if kind == "neg" else "+"
        return lambda item: negate(operand(item), symbol)
    if kind == "not":
        operand = _compile(node[1])
        return lambda item: not truth(operand(item))
    if kind == "pow":
        return _compile_binary(("binary", [node[1], node[2]], ["**"]))
    if kind == "or":
        return _compile_or(node)
    if kind == "and":
        return _compile_and(node)
    if kind == "compare":
        return _compile_compare(node)
    if kind == "binary":
        return _compile_binary(node)
    if kind == "call":
        return _compile_call(node)
    raise AssertionError(kind)


def _compile_postfix(node: tuple) -> Evaluator:
    base = _compile(node[1])
    steps: list[tuple[bool, Any]] = []
    for trailer_kind, arg in node[2]:
        steps.append((True, arg) if trailer_kind == "field" else (False, _compile(arg)))

    def evaluate(item: Any) -> Any:
        v = base(item)
        for is_field, arg in steps:
            v = _field(v, arg) if is_field else _index(v, arg(item))
        return v

    return evaluate


def _compile_or(node: tuple) -> Evaluator:
    operands = [_compile(e) for e in node[1]]
    last = operands[-1]
    head = operands[:-1]

    def evaluate(item: Any) -> Any:
        for operand in head:
            v = operand(item)
            if truth(v):
                return v
        return last(item)

    return evaluate


def _compile_and(node: tuple) -> Evaluator:
    operands = [_compile(e) for e in node[1]]
    last = operands[-1]
    head = operands[:-1]

    def evaluate(item: Any) -> Any:
        for operand in head:
            v = operand(item)
            if not truth(v):
                return v
        return last(item)

    return evaluate


_FAST_ORDER = {"<": operator.lt, "<=": operator.le, ">": operator.gt, ">=": operator.ge,
               "==": operator.eq, "!=": operator.ne}  # fmt: skip


def _compile_compare(node: tuple) -> Evaluator:
    operands = [_compile(e) for e in node[1]]
    ops = node[2]
    if len(ops) == 1:
        left, right, op = operands[0], operands[1], ops[0]
        fast = _FAST_ORDER.get(op)
        right_node = node[1][1]
        if fast is not None and right_node[0] == "const" and type(right_node[1]) in (int, float):
            b = right_node[1]  # a literal: an int is within int64

            def evaluate_constant(item: Any) -> bool:
                a = item if left is _identity else left(item)
                ta = type(a)
                if ta is float or (ta is int and INT64_MIN <= a <= INT64_MAX):
                    return fast(a, b)
                return _compare(op, a, b)

            return evaluate_constant
        if fast is not None:
            # Floats, and ints within int64, compare as Python does; anything else takes the rules.
            def evaluate(item: Any) -> bool:
                a, b = left(item), right(item)
                ta, tb = type(a), type(b)
                if (ta is float or (ta is int and INT64_MIN <= a <= INT64_MAX)) and (
                    tb is float or (tb is int and INT64_MIN <= b <= INT64_MAX)
                ):
                    return fast(a, b)
                return _compare(op, a, b)

            return evaluate
        return lambda item: _compare(op, left(item), right(item))
    pairs = list(zip(ops, operands[1:]))
    first = operands[0]

    def chain(item: Any) -> bool:
        a = first(item)
        for op, operand in pairs:
            b = operand(item)
            if not _compare(op, a, b):
                return False
            a = b
        return True

    return chain


def _compile_binary(node: tuple) -> Evaluator:
    operands = [_compile(e) for e in node[1]]
    steps = []
    for op, operand_node, operand in zip(node[2], node[1][1:], operands[1:]):
        steps.append(_binary_step(op, operand, operand_node))
    first = operands[0]
    if len(steps) == 1:
        step = steps[0]
        if first is _identity:
            return lambda item: step(item, item)
        return lambda item: step(first(item), item)

    def evaluate(item: Any) -> Any:
        v = first(item)
        for step in steps:
            v = step(v, item)
        return v

    return evaluate


_FAST_OPS = {
    "+": operator.add, "-": operator.sub, "*": operator.mul, "/": operator.truediv,
    "//": operator.floordiv, "%": operator.mod,
}  # fmt: skip


def _binary_step(op: str, operand: Evaluator, operand_node: tuple) -> Callable[[Any, Any], Any]:
    """``v op operand(item)``. Ints within int64 with an int64 result, and floats, take Python's
    own operator where it is exactly the rule (no zero divisor; not ``**``); the rest the rules,
    with the Calculator's checks made once for a constant operand."""
    fast = _FAST_OPS.get(op)
    divides = op in ("/", "//", "%")
    constant = operand_node[1] if operand_node[0] == "const" else None
    if type(constant) in (int, float):
        prepared = _arithmetic(op, constant)
        b, tb = constant, type(constant)
        if fast is None or (divides and not constant):
            return lambda v, item: binary(op, v, b, prepared)

        def step_constant(v: Any, item: Any) -> Any:
            tv = type(v)
            if tv is tb:
                if tv is float:
                    return fast(v, b)
                if INT64_MIN <= v <= INT64_MAX:
                    r = fast(v, b)
                    if type(r) is float or INT64_MIN <= r <= INT64_MAX:
                        return r
            return binary(op, v, b, prepared)

        return step_constant
    if fast is None:
        return lambda v, item: binary(op, v, operand(item), None)

    def step(v: Any, item: Any) -> Any:
        b = operand(item)
        tv = type(v)
        if tv is type(b) and (tv is float or tv is int) and (b or not divides):
            if tv is float:
                return fast(v, b)
            if INT64_MIN <= v <= INT64_MAX and INT64_MIN <= b <= INT64_MAX:
                r = fast(v, b)
                if type(r) is float or INT64_MIN <= r <= INT64_MAX:
                    return r
        return binary(op, v, b, None)

    return step


def _compile_call(node: tuple) -> Evaluator:
    function = _FUNCTIONS[node[1]]
    args = [_compile(e) for e in node[2]]
    if len(args) == 1:
        only = args[0]
        return lambda item: function(only(item))
    return lambda item: function(*[a(item) for a in args])


# ----------------------------------------------------------------------------------- Expression


class Expression:
    """A parsed expression: parse once, evaluate per item. Evaluating keeps no state, so one
    Expression may serve several threads."""

    __slots__ = ("_text", "_tree", "_evaluate")

    def __init__(self, text: str, tree: tuple) -> None:
        self._text = text
        self._tree = tree
        self._evaluate = _compile(tree)

    @classmethod
    def parse(cls, text: str) -> "Expression":
        """Parses ``text``; a syntax error is an InvalidParameterError (``path=None``: the node sets
        it) whose message gives the 1-based column, counted in characters."""
        if type(text) is not str:
            raise InvalidParameterError(
                f"an expression must be a string, got {type(text).__name__}", path=None
            )
        return cls(text, _Parser(text).parse())

    @property
    def text(self) -> str:
        return self._text

    def evaluate(self, item: Any) -> Any:
        """The expression's value for ``item``; a NodeError when it has none."""
        return self._evaluate(item)

    def truthy(self, item: Any) -> bool:
        """The truth of the expression's value for ``item`` (FilterNode, RouterNode)."""
        return truth(self._evaluate(item))

    def unparse(self) -> str:
        """The expression in canonical form: single spaces, double quotes, only the parentheses
        precedence needs. Parsing it gives back the same expression."""
        return _unparse(self._tree)

    def __repr__(self) -> str:
        return f"Expression({self._text!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Expression) and self._text == other._text

    def __hash__(self) -> int:
        return hash(self._text)

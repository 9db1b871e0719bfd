"""Where and why a JSON text is not valid JSON (docs/MANIFEST.md, rule 3), in the one vocabulary
both runtimes use: src/core/json_fault.cpp (``find_json_fault``) finds the same fault in the same
words.

CPython's ``json`` and nlohmann each have their own reasons and positions; a text either one refuses
(or, for CPython, one it takes although it is not JSON: a duplicate key, NaN, a number beyond a
double, a lone surrogate escape) is scanned again here, only then: the scan is slower than the
parser, and a valid text never pays for it. Bytes, so that invalid UTF-8 is found where it is;
columns count the characters of the (valid) UTF-8 before the fault, from 1.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass

__all__ = ["JsonFault", "find_fault"]


@dataclass(frozen=True)
class JsonFault:
    """The first fault of a text: ``line`` and ``column`` from 1 (one column past the last
    character at the end of the text) and ``reason``, one of: unexpected end of input, unexpected
    character 'x' (U+XXXX outside ASCII '!'-'~'), extra data after the value, invalid number,
    invalid literal, unterminated string, invalid escape, lone surrogate escape, control character
    U+000A in a string, invalid UTF-8 byte 0xff, NaN is not a JSON value (Infinity, -Infinity),
    number out of the range of a double, duplicate key "k" (the second key, as written)."""

    line: int
    column: int
    reason: str

    @property
    def where(self) -> str:
        """'at line L column C: reason'"""
        return f"at line {self.line} column {self.column}: {self.reason}"


_WHITESPACE = re.compile(rb"[ \t\n\r]*")
_NUMBER = re.compile(rb"-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?")
_PLAIN_STRING_RUN = re.compile(rb'[^"\\\x00-\x1f\x80-\xff]*')
_HEX4 = re.compile(rb"[0-9a-fA-F]{4}")
_CONSTANTS = (b"NaN", b"Infinity", b"-Infinity")
# Array elements the scan can take in one step, each followed by its comma: ASCII strings without
# escapes, literals, numbers without exponent and at most 300 integer digits (always finite). Only a
# speed-up: a long array of items would otherwise be a Python loop per element. Possessive, so that
# re keeps no backtracking state per element.
_SIMPLE_ELEMENTS = re.compile(
    rb'(?>[ \t\n\r]*+(?>"[\x20\x21\x23-\x5b\x5d-\x7e]*+"|true|false|null'
    rb"|-?+(?>0|[1-9][0-9]{0,299}+)(?>\.[0-9]++)?+)[ \t\n\r]*+,)*+"
)


class _Fault(Exception):
    def __init__(self, offset: int, reason: str) -> None:
        super().__init__(reason)
        self.offset, self.reason = offset, reason


def _utf8_char(data: bytes, i: int) -> tuple[int, int] | None:
    """(code point, length) of the UTF-8 character at ``i``; None if the bytes there are not one."""
    for n in (1, 2, 3, 4):
        try:
            ch = data[i:i + n].decode("utf-8")
        except UnicodeDecodeError as e:
            if e.reason != "unexpected end of data" or i + n >= len(data):
                return None
            continue
        return ord(ch), n
    return None  # pragma: no cover - a 4-byte prefix always decides


def _character_fault(data: bytes, i: int) -> _Fault:
    char = _utf8_char(data, i)
    if char is None:
        return _Fault(i, f"invalid UTF-8 byte 0x{data[i]:02x}")
    code = char[0]
    shown = f"'{chr(code)}'" if 0x21 <= code <= 0x7E else f"U+{code:04X}"
    return _Fault(i, f"unexpected character {shown}")


def _skip_string(data: bytes, i: int) -> int:
    """The offset after the string literal whose opening quote is at ``i``."""
    start, n = i, len(data)
    i += 1
    while True:
        i = _PLAIN_STRING_RUN.match(data, i).end()
        if i >= n:
            raise _Fault(start, "unterminated string")
        b = data[i]
        if b == 0x22:  # "
            return i + 1
        if b == 0x5C:  # backslash
            if i + 1 >= n:
                raise _Fault(start, "unterminated string")
            e = data[i + 1]
            if e in b'"\\/bfnrt':
                i += 2
            elif e == 0x75 and _HEX4.match(data, i + 2):  # u
                code = int(data[i + 2:i + 6], 16)
                if 0xD800 <= code <= 0xDBFF and data.startswith(b"\\u", i + 6) and _HEX4.match(data, i + 8) \
                        and 0xDC00 <= int(data[i + 8:i + 12], 16) <= 0xDFFF:
                    i += 12
                elif 0xD800 <= code <= 0xDFFF:
                    raise _Fault(i, "lone surrogate escape")
                else:
                    i += 6
            else:
                raise _Fault(i, "invalid escape")
        elif b < 0x20:
            raise _Fault(i, f"control character U+{b:04X} in a string")
        else:
            char = _utf8_char(data, i)
            if char is None:
                raise _Fault(i, f"invalid UTF-8 byte 0x{b:02x}")
            i += char[1]


def _skip_scalar(data: bytes, i: int) -> int:
    for constant in _CONSTANTS:
        if data.startswith(constant, i):
            raise _Fault(i, f"{constant.decode()} is not a JSON value")
    b = data[i]
    if b == 0x22:
        return _skip_string(data, i)
    if b == 0x2D or 0x30 <= b <= 0x39:  # - or a digit
        m = _NUMBER.match(data, i)
        end = m.end() if m else i
        if end == i or (end < len(data) and data[end] in b".eE"):
            raise _Fault(i, "invalid number")
        if math.isinf(float(data[i:end])):
            raise _Fault(i, "number out of the range of a double")
        return end
    for literal in (b"true", b"false", b"null"):
        if b == literal[0]:
            if not data.startswith(literal, i):
                raise _Fault(i, "invalid literal")
            return i + len(literal)
    raise _character_fault(data, i)


def _scan(data: bytes) -> None:
    """Raises _Fault at the first syntax fault of ``data``; iterative, so any depth is scanned."""
    n = len(data)
    stack: list[int] = []  # the open brackets, as bytes: 0x5B [ or 0x7B {
    keys: list[set[str]] = []  # the keys of each open object so far

    def skip(i: int) -> int:
        return _WHITESPACE.match(data, i).end()

    def expect_key(i: int) -> int:
        i = skip(i)
        if i >= n:
            raise _Fault(i, "unexpected end of input")
        if data[i] != 0x22:
            raise _character_fault(data, i)
        start, i = i, _skip_string(data, i)
        key = json.loads(data[start:i].decode("utf-8"))
        if key in keys[-1]:
            raise _Fault(start, f"duplicate key {data[start:i].decode('utf-8')}")
        keys[-1].add(key)
        i = skip(i)
        if i >= n:
            raise _Fault(i, "unexpected end of input")
        if data[i] != 0x3A:  # :
            raise _character_fault(data, i)
        return i + 1

    i = 0
    while True:
        # a value at i
        if stack and stack[-1] == 0x5B:
            i = _SIMPLE_ELEMENTS.match(data, i).end()
        i = skip(i)
        if i >= n:
            raise _Fault(i, "unexpected end of input")
        b = data[i]
        if b in (0x5B, 0x7B):
            stack.append(b)
            if b == 0x7B:
                keys.append(set())
            i = skip(i + 1)
            close = 0x5D if b == 0x5B else 0x7D
            if i < n and data[i] == close:
                if stack.pop() == 0x7B:
                    keys.pop()
                i += 1
            elif b == 0x7B:
                i = expect_key(i)
                continue
            else:
                continue
        else:
            i = _skip_scalar(data, i)
        # after a value: a comma, a closing bracket or, at the top, the end
        while True:
            i = skip(i)
            if not stack:
                if i < n:
                    raise _Fault(i, "extra data after the value")
                return
            if i >= n:
                raise _Fault(i, "unexpected end of input")
            b = data[i]
            if b == 0x2C:  # ,
                i = expect_key(i + 1) if stack[-1] == 0x7B else i + 1
                break
            if b == stack[-1] + 2:  # ] after [, } after {
                if stack.pop() == 0x7B:
                    keys.pop()
                i += 1
                continue
            raise _character_fault(data, i)



def find_fault(data: bytes) -> JsonFault | None:
    """The first fault of ``data`` as strict RFC 8259 JSON in UTF-8, with no duplicate key in an
    object and no number beyond the range of a double; None when it has none. Iterative, so a text
    of any depth is scanned (the depth limit is the manifest's rule 2, not a fault of the syntax)."""
    try:
        _scan(data)
    except _Fault as fault:
        line_start = data.rfind(b"\n", 0, fault.offset) + 1
        line = data.count(b"\n", 0, fault.offset) + 1
        column = 1 + len(data[line_start:fault.offset].decode("utf-8"))  # valid up to the fault
        return JsonFault(line, column, fault.reason)
    return None

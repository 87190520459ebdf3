"""Request bodies parsed as JSON within the limits of finscore.api.limits.

Python's JSON parser recurses once per nesting level (a RecursionError near 1,000 levels) and turns
digits into integers without bound (a ValueError past 4,300 digits); unchecked, both surface as a 500
for a request that is merely abusive. The limits are checked on the raw bytes first, with C-speed
passes (about a tenth of the parse itself on a 5 MB body); only a body that seems to break one is
looked at closely, with its string literals removed, so that brackets and digits inside strings never
count against it. A body whose strings hide its depth (unbalanced closing brackets inside strings)
can pass the first pass; the parser's own RecursionError is then still answered as a 400.
"""

from __future__ import annotations

import json
import re
from itertools import accumulate
from typing import Any

from finscore.api.limits import MAX_BODY_BYTES, MAX_JSON_DEPTH, MAX_NUMBER_DIGITS
from finscore.errors import BodyTooLarge, FieldIssue, InvalidRequest

_STRING = re.compile(rb'"(?:[^"\\]|\\.)*"', re.DOTALL)
_NOT_BRACKETS = bytes(c for c in range(256) if c not in b"[]{}")
_STEP = {ord("["): 1, ord("{"): 1, ord("]"): -1, ord("}"): -1}
# Every digit as "0" and everything else as a space: a long number is then a plain substring search.
_DIGITS_AS_ZERO = bytes(ord("0") if chr(c).isdigit() and c < 128 else ord(" ") for c in range(256))
_LONG_NUMBER = b"0" * (MAX_NUMBER_DIGITS + 1)
# A float past 1.8e308 needs an exponent of three digits; only then are floats parsed one by one.
_BIG_EXPONENT = re.compile(rb"[0-9.][eE][+-]?0*[1-9][0-9]{2}")


def check_body_size(size: int) -> None:
    if size > MAX_BODY_BYTES:
        raise BodyTooLarge(f"The body is {size} bytes; at most {MAX_BODY_BYTES} are accepted",
                           [FieldIssue("body", f"larger than {MAX_BODY_BYTES} bytes")])


def _depth(data: bytes) -> int:
    return max(accumulate(map(_STEP.__getitem__, data.translate(None, _NOT_BRACKETS))), default=0)


def _has_long_number(data: bytes) -> bool:
    return _LONG_NUMBER in data.translate(_DIGITS_AS_ZERO)


def _too_deep() -> InvalidRequest:
    return InvalidRequest(f"The body nests deeper than {MAX_JSON_DEPTH} levels",
                          [FieldIssue("body", f"nested more than {MAX_JSON_DEPTH} levels deep")])


def parse_json_body(text: str) -> Any:
    """TEXT as JSON; 413 past the size limit, 400 past the depth or number-length limit."""
    data = text.encode("utf-8", "surrogatepass")
    check_body_size(len(data))
    deep, long_number = _depth(data) > MAX_JSON_DEPTH, _has_long_number(data)
    if deep or long_number:
        skeleton = _STRING.sub(b'""', data)
        if deep and _depth(skeleton) > MAX_JSON_DEPTH:
            raise _too_deep()
        if long_number and _has_long_number(skeleton):
            raise InvalidRequest(f"The body holds a number longer than {MAX_NUMBER_DIGITS} digits",
                                 [FieldIssue("body", f"a number longer than {MAX_NUMBER_DIGITS} digits")])
    try:
        if _BIG_EXPONENT.search(data):
            return json.loads(text, parse_float=_finite_float, parse_constant=_no_constant)
        return json.loads(text, parse_constant=_no_constant)
    except RecursionError:
        raise _too_deep() from None


def _not_finite(literal: str) -> InvalidRequest:
    return InvalidRequest(f"The body holds {literal}, which is not a finite number",
                          [FieldIssue("body", f"{literal} is not a finite number")])


def _no_constant(literal: str) -> float:
    # NaN and Infinity are not JSON, though Python's parser accepts them.
    raise _not_finite(literal)


def _finite_float(literal: str) -> float:
    value = float(literal)
    if value in (float("inf"), float("-inf")):
        raise _not_finite(literal)
    return value

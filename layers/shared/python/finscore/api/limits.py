"""The request limits every route keeps, in AWS and locally; the OpenAPI document and README state them.

API Gateway accepts bodies up to 10 MB and Lambda's synchronous payload is 6 MB with the event around
the body, so a body past MAX_BODY_BYTES is refused with 413 before anything parses it. Python's JSON
parser recurses per nesting level and turns digits into integers without bound, so depth and number
length are limited before a body reaches it (deeper or longer is never a real request).
"""

from __future__ import annotations

MAX_BODY_BYTES = 5 * 1024 * 1024
MAX_JSON_DEPTH = 64
MAX_NUMBER_DIGITS = 100
# API Gateway refuses a request line past 8 KB; the local gateway answers 414 at the same length.
MAX_URL_LENGTH = 8192

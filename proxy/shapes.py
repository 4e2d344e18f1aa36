"""Value shapes the gateway lets through without reading them as text.

Headers, query parameters, path segments, identifier fields (`model`, `tool_call_id`) and
object keys are not prose: they pass only when they have the shape of what they claim to
be (an id, a version, an enum). A value of any other shape is inspected like text or
refused, never forwarded as it came.

Nine digits or more in a row, alone or in groups of two or more split by separators,
is never an identifier here, whatever surrounds it: card, social security and phone
numbers are such runs, and ids, versions and dates are shorter (`2024-10-21` has eight;
`sonnet-4-20250514` is a version and a date). Nor is anything that reads as an IP address.
"""

from __future__ import annotations

import base64
import re

# Nine digits is the shortest number the policies protect (a US SSN); dated model names
# carry eight (claude-3-5-sonnet-20241022).
_DIGIT_GROUPS = re.compile(r"(?<!\d)\d{2,}(?:[-. /()+_:~=,]{1,2}\d{2,})*")
_IPV4 = re.compile(r"(?<![\d.])\d{1,3}(?:\.\d{1,3}){3}(?![\d.])")
_IPV6 = re.compile(r"(?<![\w:])[0-9a-f]{0,4}(?::[0-9a-f]{0,4}){2,7}(?![\w:])", re.IGNORECASE)
# Opaque provider blobs (signatures) are random base64, where nine digits in a row turn up
# by chance; twelve do not (10/64 to the 12th per position), and every card number has 13.
_BLOB_DIGIT_RUN = re.compile(r"\d{12,}")
_BASE64 = re.compile(r"[A-Za-z0-9+/]{16,}={0,2}")
_PRINTABLE = frozenset(range(0x20, 0x7F)) | {0x09, 0x0A, 0x0D}

# An id, a model, an enum value: no spaces, no @, bounded.
IDENTIFIER = re.compile(r"[A-Za-z0-9_][A-Za-z0-9._:/+=-]{0,255}")
# What providers accept as a function, tool or schema name.
NAME = re.compile(r"[A-Za-z0-9_.-]{1,128}")
# An object key that names a field (`content`, `cache_control`, `$defs`, `x-order`).
FIELD = re.compile(r"[A-Za-z_$][A-Za-z0-9_.$-]{0,63}")
# A path segment: ids, model names (ft:gpt-4o:org:x, anthropic.claude-v2:1, gemini:method),
# a Vertex model version after @ (claude-3-5-sonnet@20240620).
SEGMENT = re.compile(r"[A-Za-z0-9._~:=-]{1,200}(@[A-Za-z0-9]{1,32}(:[A-Za-z]{1,64})?)?")
TOKEN_LIST = re.compile(r"[A-Za-z0-9._:=+-]{1,128}(\s*,\s*[A-Za-z0-9._:=+-]{1,128}){0,31}")
INTEGER = re.compile(r"\d{1,6}")
DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def looks_personal(value: str) -> bool:
    """A run of digits long enough to be personal data, or an IP address."""
    return any(sum(c.isdigit() for c in run.group()) >= 9
               for run in _DIGIT_GROUPS.finditer(value)) or \
        _IPV4.search(value) is not None or \
        (":" in value and _IPV6.search(value) is not None)


# Ids the providers issue: a known prefix and a long random body (OpenAI's 48 hex
# characters, Anthropic's base62). Runs of digits turn up in them by chance (a fifth of
# OpenAI's ids hold nine in a row), so where a provider's id is expected (a path segment, a
# page cursor, an `id` field, never a key, a name, a header or an id the client chose),
# such an id passes whatever digits it holds. The one gap: an application that built such
# an id around a number of its own would send that number.
PROVIDER_ID = re.compile(r"(?:resp|msg|conv|fc|call|rs|ws|ci|ig|mcp|cu|fs|ctc|lsh|item|"
                         r"batch|msgbatch|file|toolu|srvtoolu|chatcmpl|cmpl)[_-]"
                         r"[0-9A-Za-z]{20,64}")


def has_shape(value: str, shape: re.Pattern[str]) -> bool:
    """`value` is whole `shape`, and does not look like personal data."""
    return shape.fullmatch(value) is not None and not looks_personal(value)


def has_id_shape(value: str, shape: re.Pattern[str]) -> bool:
    """Where a provider's id is expected: `has_shape`, or an id the provider issued."""
    return has_shape(value, shape) or (shape.fullmatch(value) is not None and
                                       PROVIDER_ID.fullmatch(value) is not None)


def is_identifier(value: str) -> bool:
    return has_shape(value, IDENTIFIER)


def is_blob(value: str) -> bool:
    """Standard base64 of binary data, as providers send it back (a thinking signature,
    redacted content): not text, and not text encoded as base64 either."""
    if len(value) % 4 or not _BASE64.fullmatch(value) or _BLOB_DIGIT_RUN.search(value):
        return False
    try:
        data = base64.b64decode(value, validate=True)
    except ValueError:
        return False
    printable = sum(byte in _PRINTABLE for byte in data[:4096])
    return printable < 0.9 * min(len(data), 4096)


def shown(value: str) -> str:
    """A request's value as our own messages and the audit log may quote it: an identifier
    of bounded length, quoted; anything else is not shown at all."""
    if len(value) <= 64 and is_identifier(value):
        return repr(value)
    return "(a value that is not an identifier, not shown)"

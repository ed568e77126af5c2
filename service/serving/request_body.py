"""From HTTP request to parsed JSON, as docs/contract.md decides: media type, charset, Content-Encoding, size,
UTF-8, BOM, nesting depth and NaN literals. Each failure is a BodyProblem naming the contract's problem and detail.
"""

import json
import re
import zlib

from . import contract

JSON_MEDIA_TYPE = "application/json"
_BOM = b"\xef\xbb\xbf"
# OWS is space or tab (RFC 9110); \s would also take characters the gateway's parser does not.
_CHARSET = re.compile(r';[ \t]*charset[ \t]*=[ \t]*"?([^"; \t]+)', re.IGNORECASE)
_ACCEPTED_CHARSETS = ("utf-8", "utf8")
_GZIP, _DEFLATE = "gzip", "deflate"
_ENCODINGS = ("", "identity", _GZIP, _DEFLATE)
# A compressed body may be a little larger than what it inflates to; past this, it is refused unread.
_COMPRESSED_SLACK = 65536
# Outside strings, the characters that open and close a nesting level.
_STRING_OR_BRACKET = re.compile(r'"(?:[^"\\]|\\.)*"?|[\[\]{}]', re.DOTALL)


class BodyProblem(Exception):
    """The body cannot be taken as a prediction request: `kind` is the contract's problem, `detail` its sentence."""

    def __init__(self, kind, detail, headers=None):
        Exception.__init__(self, detail)
        self.kind = kind
        self.detail = detail
        self.headers = headers


def check_media_type(content_type):
    """415 unless Content-Type is application/json, in UTF-8 if a charset is given."""
    header = content_type or ""
    media_type = header.split(";", 1)[0].strip(" \t").lower()
    match = _CHARSET.search(header)
    charset = match.group(1).lower() if match else None
    if media_type != JSON_MEDIA_TYPE or (charset is not None and charset not in _ACCEPTED_CHARSETS):
        raise BodyProblem(
            "unsupported-media-type", contract.detail("unsupported-media-type"), {"Accept-Post": JSON_MEDIA_TYPE}
        )


def check_encoding(content_encoding):
    encoding = (content_encoding or "").strip(" \t").lower()
    if encoding not in _ENCODINGS:
        raise BodyProblem(
            "unsupported-media-type", contract.detail("unsupported-encoding"), {"Accept-Encoding": "gzip, deflate"}
        )
    return encoding if encoding in (_GZIP, _DEFLATE) else None


def too_large(limit):
    return BodyProblem("body-too-large", contract.detail("body-too-large", maxBodyBytes=limit))


def read_limited(environ, content_length, limit):
    """The raw body, at most `limit` bytes, else BodyProblem 413. A body shorter than its Content-Length is a 400.

    Werkzeug enforces MAX_CONTENT_LENGTH for forms only, and cuts a chunked body silently, so the limit is applied
    here: for a chunked body (gunicorn terminates the stream) one byte past the limit tells "too large" from "at".
    """
    stream = environ["wsgi.input"]
    if content_length is not None:
        if content_length > limit:
            raise too_large(limit)
        wanted = content_length
    elif environ.get("wsgi.input_terminated"):
        wanted = limit + 1
    else:
        return b""  # no length and an unterminated stream: nothing can be read safely (as Werkzeug does)
    chunks, size = [], 0
    while size < wanted:
        try:
            chunk = stream.read(wanted - size)
        except Exception:  # the client went away mid-body (Werkzeug's ClientDisconnected, a socket error)
            raise BodyProblem("malformed-json", contract.detail("incomplete-body")) from None
        if not chunk:
            break
        chunks.append(chunk)
        size += len(chunk)
    if size > limit:
        raise too_large(limit)
    if content_length is not None and size < content_length:
        raise BodyProblem("malformed-json", contract.detail("incomplete-body"))
    return b"".join(chunks)


def raw_limit(limit, encoding):
    return limit + _COMPRESSED_SLACK if encoding else limit


def decompress(raw, encoding, limit):
    """Inflate a gzip (one or more members) or zlib-wrapped deflate body, stopping one byte past `limit`."""
    bad = BodyProblem("malformed-json", contract.detail("bad-compression"))
    out = []
    size = 0
    data = raw
    while True:
        inflater = zlib.decompressobj(31 if encoding == _GZIP else 15)
        try:
            chunk = inflater.decompress(data, limit + 1 - size)
        except zlib.error:
            raise bad from None
        out.append(chunk)
        size += len(chunk)
        if size > limit:
            raise too_large(limit)
        if not inflater.eof:
            raise bad
        data = inflater.unused_data
        # gzip: what follows a member must be another member (as Node's gunzip reads it); deflate: ignored.
        if encoding != _GZIP or not data:
            return b"".join(out)


def nesting_depth(text):
    """How deep [ and { nest outside string literals: the contract's measure, whether or not the JSON is valid."""
    depth = deepest = 0
    for token in _STRING_OR_BRACKET.findall(text):
        if token in ("[", "{"):
            depth += 1
            if depth > deepest:
                deepest = depth
        elif token in ("]", "}"):
            depth -= 1
    return deepest


def too_deep(text):
    # Fewer opening brackets than the limit (inside strings or not) cannot nest deeper: counted in C, so a refused body
    # of a few objects with 90,000 members does not pay for a scan of every string in it.
    if text.count("[") + text.count("{") <= contract.MAX_NESTING_DEPTH:
        return False
    return nesting_depth(text) > contract.MAX_NESTING_DEPTH


def _reject_constant(_literal):
    raise ValueError("NaN and Infinity are not JSON")


def decode_text(raw):
    """Bytes -> text: strict UTF-8, a leading byte order mark dropped. BodyProblem 400 otherwise."""
    if raw.startswith(_BOM):
        raw = raw[3:]
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        raise BodyProblem("malformed-json", contract.detail("malformed-json")) from None


def parse_json(text):
    """Text -> Python values, reading numbers as the gateway's JavaScript does: every number is a double
    (so 1e400 and a 5,000-digit integer are both infinity, not an error). BodyProblem 400 when it is not JSON.
    """
    try:
        return json.loads(text, parse_constant=_reject_constant, parse_int=float)
    except RecursionError:
        raise deep_problem() from None
    except ValueError:
        if too_deep(text):
            raise deep_problem() from None
        raise BodyProblem("malformed-json", contract.detail("malformed-json")) from None


def deep_problem():
    return BodyProblem("malformed-json", contract.detail("too-deep"))

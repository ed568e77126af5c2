"""The HTTP contract's wording and limits, read once from contract.json (the gateway reads the same bytes).

Everything a client sees in a problem+json answer comes from that file: types, titles, details, the errors[] order
and cap. docs/contract.md explains each rule; this module only applies them.
"""

import json
import os
import re

with open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "contract.json"), encoding="utf-8") as _fh:
    CONTRACT = json.load(_fh)

TYPE_PREFIX = CONTRACT["typePrefix"]
MAX_MAGNITUDE = float(CONTRACT["maxMagnitude"])
# The largest whole number an integer feature takes: the last one a double (and a JavaScript number) holds exactly.
MAX_INTEGER = int(CONTRACT["maxInteger"])
MAX_NESTING_DEPTH = int(CONTRACT["maxNestingDepth"])
MAX_ERRORS = int(CONTRACT["maxErrors"])
MAX_LISTED_CATEGORIES = int(CONTRACT["maxListedCategories"])
MAX_ECHOED_NAME_LENGTH = int(CONTRACT["maxEchoedNameLength"])
MIN_YEAR = int(CONTRACT["minYear"])
MAX_YEAR = int(CONTRACT["maxYear"])
PROBLEMS = CONTRACT["problems"]
DETAILS = CONTRACT["details"]
ERROR_DETAILS = CONTRACT["errors"]
# Every errors[].code: the part after "where." in the keys of "errors".
ERROR_CODES = frozenset(key.split(".")[1] for key in ERROR_DETAILS)

_LIMIT_VALUES = {
    "maxNestingDepth": MAX_NESTING_DEPTH,
    "maxErrors": MAX_ERRORS,
    "minYear": MIN_YEAR,
    "maxYear": MAX_YEAR,
    "maxInteger": MAX_INTEGER,
}
_PLACEHOLDER = re.compile(r"\{([A-Za-z]+)\}")


def fill(text, **values):
    """Fill {name} placeholders in one pass, as the gateway does: a filled-in value (a category name, say) is never
    scanned again, and a placeholder without a value stays as written."""
    known = dict(_LIMIT_VALUES, **values)

    def value_of(match):
        name = match.group(1)
        return str(known[name]) if name in known else match.group(0)

    return _PLACEHOLDER.sub(value_of, text)


def detail(name, **values):
    return fill(DETAILS[name], **values)


def error_detail(key, **values):
    return fill(ERROR_DETAILS[key], **values)


def problem_body(kind, detail_text=None, errors=None, request_id=None):
    """A problem+json body as an ordered dict: type, title, status, detail, errors, errorsOmitted, requestId.

    `errors` is the full list; at most MAX_ERRORS entries are listed and errorsOmitted counts the rest.
    """
    spec = PROBLEMS[kind]
    body = {"type": TYPE_PREFIX + kind, "title": spec["title"], "status": spec["status"]}
    if errors is not None:
        count = len(errors)
        if count > MAX_ERRORS:
            body["detail"] = detail("validation-error.capped", count=count)
            body["errors"] = errors[:MAX_ERRORS]
            body["errorsOmitted"] = count - MAX_ERRORS
        else:
            body["detail"] = detail("validation-error.one" if count == 1 else "validation-error.many", count=count)
            body["errors"] = errors
    elif detail_text is not None:
        body["detail"] = detail_text
    if request_id is not None:
        body["requestId"] = request_id
    return body


def status_of(kind):
    return PROBLEMS[kind]["status"]


def echoed_name(name):
    """A member name the client sent, as a pointer may echo it: at most MAX_ECHOED_NAME_LENGTH code points, then
    "\u2026" (the gateway counts code points too, so both cut a name at the same place)."""
    return name if len(name) <= MAX_ECHOED_NAME_LENGTH else name[:MAX_ECHOED_NAME_LENGTH] + "\u2026"


def utf16_order(key):
    """Sort key giving JavaScript's default string order (UTF-16 code units), which the gateway sorts by."""
    return key.encode("utf-16-be", "surrogatepass")

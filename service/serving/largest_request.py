"""The cheap refusal of a body that no valid request could be (docs/contract.md, "Cheap refusals"), decided on its
text before it is parsed.

Parsing is what a refused body costs: one row of 90,000 made-up names (~760 KB) is a dict of 90,000 keys, ~40 ms of
json.loads before any count can refuse it. Every member of a JSON object is followed by one ':' outside strings, and
a ':' inside a string belongs to a name or a value. So the ':' characters of a valid request are at most one for
"instances" and, per row and per feature, one plus what the feature's name and its longest valid value hold (a text's
maxLength, a date-time's three, the most any of a category's values has). str.count counts them in C; a body holding
more cannot be valid, whatever else is in it, and is refused as too large. The gateway counts alike
(gateway/src/schema/largest-request.ts), so both answer the same body the same way.
"""

from . import contract
from .request_body import BodyProblem

# HH:MM:SS and an offset's +HH:MM (serving/formats.py); a date, a number, a boolean or null holds none.
_VALUE_COLONS = {"datetime": 3}


def _value_colons(feature):
    kind = feature["type"]
    if kind == "text":
        return int(feature["maxLength"])  # every character of a text may be one
    if kind == "category":
        return max((c.count(":") for c in feature["categories"] if isinstance(c, str)), default=0)
    return _VALUE_COLONS.get(kind, 0)


def max_colons(schema):
    """The most ':' characters the JSON text of a valid request for this schema can hold."""
    per_row = sum(1 + f["name"].count(":") + _value_colons(f) for f in schema["features"])
    return 1 + int(schema["limits"]["maxRows"]) * per_row


def refuse_impossible(text, most, max_rows):
    """BodyProblem 413 when `text` holds more ':' than `most` (max_colons of the model's schema)."""
    if text.count(":") > most:
        raise BodyProblem("body-too-large", contract.detail("too-many-members", maxRows=max_rows))

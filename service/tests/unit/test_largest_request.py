"""serving.largest_request: the most ':' a valid request can hold, and the 413 for a body holding more."""

import pytest
from support import expected_detail

from serving.largest_request import max_colons, refuse_impossible
from serving.request_body import BodyProblem


def schema_of(*features, max_rows=10):
    return {"features": list(features), "limits": {"maxRows": max_rows, "maxBodyBytes": 1 << 20}}


@pytest.mark.parametrize(
    "feature, in_value",
    [
        ({"name": "x", "type": "number"}, 0),
        ({"name": "x", "type": "integer"}, 0),
        ({"name": "x", "type": "boolean"}, 0),
        ({"name": "x", "type": "date"}, 0),
        ({"name": "x", "type": "datetime"}, 3),  # 2026-01-01T10:00:00+01:00
        ({"name": "x", "type": "text", "maxLength": 250}, 250),  # every character may be one
        ({"name": "x", "type": "category", "categories": ["a", "b:c", "d::e"]}, 2),  # the most any one holds
        ({"name": "x", "type": "category", "categories": [1, 2, 3]}, 0),
        ({"name": "a:b", "type": "number"}, 1),  # a name's own ':' count too
    ],
)
def test_each_feature_adds_its_member_and_what_its_name_and_longest_value_hold(feature, in_value):
    # one ':' for "instances", then per row one per member plus those inside its name and value
    assert max_colons(schema_of(feature)) == 1 + 10 * (1 + in_value)
    assert max_colons(schema_of(feature, {"name": "y", "type": "number"}, max_rows=1000)) == 1 + 1000 * (2 + in_value)


def test_a_valid_request_never_holds_more():
    datetime = {"name": "when:utc", "type": "datetime"}
    category = {"name": "tag", "type": "category", "categories": ["a:b:c", "d"]}
    schema = schema_of(datetime, category, max_rows=3)
    row = '{"when:utc": "2026-01-01T10:00:00.5+01:00", "tag": "a:b:c"}'
    text = '{"instances": [%s]}' % ", ".join([row] * 3)
    assert text.count(":") == max_colons(schema)
    refuse_impossible(text, max_colons(schema), 3)  # at the bound: parsed and validated as usual


def test_one_more_is_refused_as_too_large():
    with pytest.raises(BodyProblem) as caught:
        refuse_impossible('{"instances": [{"x": ":"}]}', 2, 1)
    assert caught.value.kind == "body-too-large"
    assert caught.value.detail == expected_detail("too-many-members", maxRows=1)

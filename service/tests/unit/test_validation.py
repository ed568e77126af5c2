"""serving.validation: every problem of a parsed body, with its JSON pointer, code and contract.json's wording, in the
order contract.md fixes."""

import numpy as np
import pytest
from support import CONTRACT

from serving import validation
from serving.validation import compile_schema, escape_pointer, validate_instances

WORDS = CONTRACT["errors"]
SCHEMA = {
    "schemaVersion": 1,
    "model": {"name": "v", "version": "0" * 12, "sha256": "0" * 64},
    "features": [
        {"name": "length", "type": "number", "nullable": False},
        {"name": "weight/kg", "type": "number", "nullable": True},
        {"name": "rooms", "type": "integer", "nullable": False},
        {"name": "colour", "type": "category", "nullable": False, "categories": ["blue", "red"]},
        {"name": "code~x", "type": "category", "nullable": True, "categories": ["c%02d" % i for i in range(25)]},
    ],
    "target": {"name": "y", "type": "number"},
    "limits": {"maxRows": 3, "maxBodyBytes": 4096},
}


def row(**changes):
    values = {"length": 1.5, "weight/kg": None, "rooms": 2.0, "colour": "red", "code~x": "c03"}
    values.update(changes)
    return values


def errors(payload):
    return [(e["pointer"], e["code"]) for e in validate_instances(payload, SCHEMA)]


def one_value(name, value):
    """The errors of one otherwise valid row with `value` for feature `name`."""
    return errors({"instances": [dict(row(), **{name: value})]})


def test_pointer_tokens_are_escaped_as_rfc_6901_says():
    assert escape_pointer("a/b~c") == "a~1b~0c"
    assert escape_pointer("~1") == "~01"


def test_a_valid_batch_has_no_errors():
    assert validate_instances({"instances": [row(), row(**{"weight/kg": 3, "code~x": None})]}, SCHEMA) == []


@pytest.mark.parametrize("payload", [[], "instances", None, 3.0, True])
def test_a_document_that_is_not_an_object_is_only_that(payload):
    assert errors(payload) == [("", "not_an_object")]


@pytest.mark.parametrize(
    "payload, code",
    [
        ({}, "required"),
        ({"instances": {"0": {}}}, "not_an_array"),
        ({"instances": None}, "not_an_array"),
        ({"instances": []}, "too_few_rows"),
        ({"instances": [{"length": "x"}] * 4}, "too_many_rows"),  # nothing reported per row then
    ],
)
def test_instances_problems(payload, code):
    assert errors(payload) == [("/instances", code)]


def test_too_many_rows_names_the_limit():
    (error,) = validate_instances({"instances": [row()] * 4}, SCHEMA)
    assert error["detail"] == WORDS["instances.too_many_rows"].replace("{maxRows}", "3")


@pytest.mark.parametrize(
    "name, value, code",
    [
        ("length", None, "not_nullable"),
        ("length", "1.5", "not_a_number"),
        ("length", True, "not_a_number"),
        ("length", [1.0], "not_a_number"),
        ("length", {"v": 1.0}, "not_a_number"),
        ("length", float("inf"), "not_finite"),
        ("length", float("nan"), "not_finite"),
        ("length", 3.5e38, "not_finite"),
        ("rooms", 2.5, "not_an_integer"),
        ("rooms", 2.0**53, "not_an_integer"),  # past what a double holds exactly: contract.json's maxInteger
        ("rooms", -(2**53), "not_an_integer"),
        ("rooms", 1e20, "not_an_integer"),
        ("rooms", 3.5e38, "not_finite"),
        ("rooms", False, "not_a_number"),
        ("colour", 1.0, "not_a_string"),
        ("colour", "Red", "unknown_category"),
        ("colour", None, "not_nullable"),
    ],
)
def test_each_rule_has_its_code_at_the_features_pointer(name, value, code):
    assert one_value(name, value) == [("/instances/0/" + escape_pointer(name), code)]


@pytest.mark.parametrize(
    "name, value",
    [
        ("rooms", 2.0),
        ("rooms", -3),
        ("rooms", 2.0**53 - 1),
        ("rooms", 1 - 2**53),
        ("length", 3.4e38),
        ("weight/kg", None),
    ],
)
def test_whole_floats_large_finite_numbers_and_nullable_nulls_are_fine(name, value):
    assert one_value(name, value) == []


def test_an_absent_feature_is_required_even_if_nullable():
    assert errors({"instances": [{"length": 1.0, "rooms": 1.0, "colour": "red"}]}) == [
        ("/instances/0/weight~1kg", "required"),
        ("/instances/0/code~0x", "required"),
    ]


def test_details_are_contract_sentences_that_never_echo_the_value():
    secret = "zz-secret-value"
    found = validate_instances({"instances": [row(length=secret, colour=secret, **{"code~x": secret})]}, SCHEMA)
    assert [e["detail"] for e in found] == [
        WORDS["feature.not_a_number"],
        WORDS["feature.unknown_category"].replace("{categories}", "blue, red"),
        WORDS["feature.unknown_category.many"].replace("{count}", "25"),  # more than maxListedCategories
    ]
    assert secret not in repr(found)


def test_rows_are_reported_in_order_with_unknown_members_sorted_by_utf16_after_the_features():
    # U+1F600 is a surrogate pair in UTF-16 (0xD83D...), which sorts before U+FF61, unlike code point order. The row
    # has as many members as the model has features (5), so each is looked at.
    bad = {"length": "x", "\U0001f600": 1, "\uff61": 1, "b": 1, "a/b": 1}
    found = errors({"instances": [row(), "row", bad]})
    assert found == [
        ("/instances/1", "not_an_object"),
        ("/instances/2/length", "not_a_number"),
        ("/instances/2/weight~1kg", "required"),
        ("/instances/2/rooms", "required"),
        ("/instances/2/colour", "required"),
        ("/instances/2/code~0x", "required"),
        ("/instances/2/a~1b", "unknown_field"),
        ("/instances/2/b", "unknown_field"),
        ("/instances/2/\U0001f600", "unknown_field"),
        ("/instances/2/\uff61", "unknown_field"),
    ]
    assert errors({"z": 1}) == [("/instances", "required"), ("/z", "unknown_field")]


def test_objects_with_more_members_than_allowed_are_refused_whole_before_their_members():
    # A request has one member ("instances"); a row at most one per feature. Beyond that nothing inside is looked at,
    # so 90,000 names cost what one does, and none of them is echoed.
    assert errors({"instances": [row()], "extra": 1}) == [("", "too_many_members")]
    assert errors({"a": 1, "b": 2}) == [("", "too_many_members")]
    huge = dict(row(length="x"), **{"n%05d" % i: 1 for i in range(90000)})
    found = validate_instances({"instances": [huge, dict(row(), extra=1), row(rooms=2.5)]}, SCHEMA)
    assert [(e["pointer"], e["code"]) for e in found] == [
        ("/instances/0", "too_many_members"),
        ("/instances/1", "too_many_members"),
        ("/instances/2/rooms", "not_an_integer"),
    ]
    assert found[0]["detail"] == WORDS["row.too_many_members"].replace("{features}", "5")
    # As many members as features is looked at member by member: a missing feature and one unknown name.
    assert errors({"instances": [_swap(row(), "length", "extra")]}) == [
        ("/instances/0/length", "required"),
        ("/instances/0/extra", "unknown_field"),
    ]


def _swap(values, name, other):
    values = dict(values)
    values[other] = values.pop(name)
    return values


def test_echoed_names_are_cut_at_the_contracts_length():
    limit = CONTRACT["maxEchoedNameLength"]
    long_name = "\U0001f600" + "n" * (limit * 1000)  # a code point outside the BMP counts once, as in JavaScript
    found = errors({"instances": [_swap(row(), "length", long_name)]})
    assert found[-1] == ("/instances/0/" + long_name[:limit] + "\u2026", "unknown_field")
    exact = "m/" * (limit // 2)
    assert errors({exact: 1})[-1] == ("/" + escape_pointer(exact), "unknown_field")  # escaped after cutting, not cut


def test_every_code_is_one_contract_json_words():
    codes = set(code for _pointer, code in one_value("length", "x") + errors([]) + errors({"x": 1}))
    assert codes <= validation.contract.ERROR_CODES


@pytest.mark.parametrize(
    "value, code",
    [
        (np.float64(2.0), None),
        (np.int64(2), None),
        (np.float32(2.5), "not_an_integer"),
        (np.float64(2.0**60), "not_an_integer"),
        (np.bool_(True), "not_a_number"),
    ],
)
def test_direct_callers_may_pass_numpy_scalars_but_not_numpy_bools(value, code):
    expected = [] if code is None else [("/instances/0/rooms", code)]
    assert one_value("rooms", value) == expected


def test_the_fast_path_never_accepts_what_the_exact_check_refuses():
    # Each row is valid but one value: the whole-column fast path must hand the batch to the exact check.
    for name, value in (
        ("length", True),
        ("rooms", 1.5),
        ("colour", "blue "),
        ("length", float("nan")),
        ("rooms", 2.0**53),
        ("rooms", -(2**53)),
    ):
        batch = [row() for _ in range(3)]
        batch[2][name] = value
        assert errors({"instances": batch}) != []


def test_a_compiled_schema_is_used_as_is():
    compiled = compile_schema(SCHEMA)
    assert compile_schema(compiled) is compiled
    assert validate_instances({"instances": [row(length=None)]}, compiled)[0]["code"] == "not_nullable"

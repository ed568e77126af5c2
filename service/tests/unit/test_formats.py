"""serving.formats: the ISO 8601 dates and date-times of docs/contract.md, parsed to the nanosecond, checked as the
gateway checks them (gateway/test/feature-types.test.ts holds the same cases)."""

import datetime

import numpy as np
import pandas as pd
import pytest

from serving.formats import format_date, format_datetime, parse_date, parse_datetime

EPOCH = datetime.datetime(1970, 1, 1)


def nanos(*args):
    delta = datetime.datetime(*args) - EPOCH
    return (delta.days * 86400 + delta.seconds) * 10**9 + delta.microseconds * 1000


@pytest.mark.parametrize(
    "text, expected",
    [
        ("1970-01-01", 0),
        ("2024-02-29", nanos(2024, 2, 29)),
        ("2000-02-29", nanos(2000, 2, 29)),
        ("1678-01-01", nanos(1678, 1, 1)),
        ("2261-12-31", nanos(2261, 12, 31)),
        ("1969-12-31", -86400 * 10**9),
    ],
)
def test_dates_that_exist_in_the_years_of_the_contract_parse_to_midnight_utc(text, expected):
    assert parse_date(text) == expected
    assert format_date(expected) == text


@pytest.mark.parametrize(
    "text",
    [
        "2023-02-29",  # not a leap year
        "1900-02-29",  # divisible by 100, not by 400
        "2026-04-31",
        "2026-13-01",
        "2026-00-10",
        "2026-01-00",
        "1677-12-31",  # before minYear
        "2262-01-01",  # after maxYear
        "2026-1-01",
        "26-01-01",
        "2026/01/01",
        "2026-01-01T00:00:00",  # a date-time is not a date
        "2026-01-01\n",
        " 2026-01-01",
        "\u0662\u0660\u0662\u0666-01-01",  # Arabic-Indic digits are not [0-9]
        "",
    ],
)
def test_anything_else_is_not_a_date(text):
    assert parse_date(text) is None


@pytest.mark.parametrize(
    "text, expected",
    [
        ("2026-03-04T05:06:07", nanos(2026, 3, 4, 5, 6, 7)),
        ("2026-03-04T05:06:07Z", nanos(2026, 3, 4, 5, 6, 7)),
        ("2026-03-04T05:06:07+02:00", nanos(2026, 3, 4, 3, 6, 7)),
        ("2026-03-04T05:06:07-05:30", nanos(2026, 3, 4, 10, 36, 7)),
        ("2026-03-04T00:30:00+01:00", nanos(2026, 3, 3, 23, 30, 0)),
        ("2026-03-04T05:06:07.5", nanos(2026, 3, 4, 5, 6, 7) + 500000000),
        ("2026-03-04T05:06:07.123456789Z", nanos(2026, 3, 4, 5, 6, 7) + 123456789),
        ("1678-01-01T00:00:00+23:59", nanos(1677, 12, 31, 0, 1, 0)),  # still inside pandas' nanosecond range
        ("2261-12-31T23:59:59.999999999-23:59", nanos(2262, 1, 1, 23, 58, 59) + 999999999),
    ],
)
def test_date_times_are_instants_an_offset_converts_to_utc_none_means_utc(text, expected):
    assert parse_datetime(text) == expected
    # pandas reads the same instant
    stamp = pd.Timestamp(text)
    utc = stamp.tz_convert("UTC").tz_localize(None) if stamp.tzinfo is not None else stamp
    assert utc.value == expected


@pytest.mark.parametrize(
    "text",
    [
        "2026-03-04",
        "2026-03-04T05:06",  # seconds are required
        "2026-03-04 05:06:07",  # a space is not the T
        "2026-03-04t05:06:07",
        "2026-03-04T05:06:07z",
        "2026-03-04T24:00:00",
        "2026-03-04T23:60:00",
        "2026-03-04T23:59:60",  # no leap second
        "2026-03-04T05:06:07.",
        "2026-03-04T05:06:07.1234567890",  # more than nanoseconds
        "2026-03-04T05:06:07+0200",
        "2026-03-04T05:06:07+02",
        "2026-03-04T05:06:07+24:00",
        "2026-03-04T05:06:07+02:60",
        "2026-02-30T05:06:07",
        "2262-01-01T00:00:00Z",
        "2026-03-04T05:06:07Z\n",
    ],
)
def test_anything_else_is_not_a_date_time(text):
    assert parse_datetime(text) is None


def test_formatting_round_trips_and_drops_trailing_zeros_of_the_fraction():
    value = nanos(2026, 3, 4, 5, 6, 7) + 120000000
    assert format_datetime(value, False) == "2026-03-04T05:06:07.12"
    assert format_datetime(value, True) == "2026-03-04T05:06:07.12Z"
    assert format_datetime(nanos(1700, 1, 1), True) == "1700-01-01T00:00:00Z"
    for text in ("1700-01-01T00:00:00", "2100-12-31T23:59:59.000000001"):
        assert format_datetime(parse_datetime(text), False) == text
    assert np.datetime64(format_datetime(value, False)).astype("datetime64[ns]").astype(np.int64) == value

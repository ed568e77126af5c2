"""The JSON forms of the feature values that are not plain numbers or strings (docs/contract.md, "Feature types"):
dates and date-times as ISO 8601 strings, parsed and range-checked exactly as the gateway does
(gateway/src/schema/formats.ts). (A text's length is Python's len: code points, as JSON Schema's maxLength counts.)

A date is YYYY-MM-DD. A date-time is YYYY-MM-DDTHH:MM:SS with an optional fraction of 1 to 9 digits and an optional
offset (Z or +HH:MM/-HH:MM): with an offset it is converted to UTC; without one it is taken as UTC, i.e. as the
wall-clock time it says. Years run from contract.json's minYear to maxYear, the whole years pandas' nanosecond
timestamps can hold, so every valid value fits every datetime64 unit a model may have been trained on.

Values are parsed into nanoseconds since 1970-01-01T00:00:00 UTC with integer arithmetic only (no datetime module,
no pandas), so the service gives the same instant on every Python and pandas it runs on.
"""

import re

from .contract import MAX_YEAR, MIN_YEAR

NANOS_PER_SECOND = 1000000000
NANOS_PER_DAY = 86400 * NANOS_PER_SECOND
# fullmatch and [0-9] (not \d, which matches any Unicode digit): exactly what the gateway's regular expressions accept.
_DATE = re.compile(r"([0-9]{4})-([0-9]{2})-([0-9]{2})")
_DATETIME = re.compile(
    r"([0-9]{4})-([0-9]{2})-([0-9]{2})T([0-9]{2}):([0-9]{2}):([0-9]{2})(?:\.([0-9]{1,9}))?(Z|[+-][0-9]{2}:[0-9]{2})?"
)
_MONTH_DAYS = (31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)


def _leap(year):
    return year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)


def _days_from_civil(year, month, day):
    """Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's days_from_civil)."""
    year -= month <= 2
    era = (year if year >= 0 else year - 399) // 400
    yoe = year - era * 400
    doy = (153 * (month + (-3 if month > 2 else 9)) + 2) // 5 + day - 1
    doe = yoe * 365 + yoe // 4 - yoe // 100 + doy
    return era * 146097 + doe - 719468


def _civil_from_days(days):
    """(year, month, day) of days since 1970-01-01 (Hinnant's civil_from_days)."""
    days += 719468
    era = (days if days >= 0 else days - 146096) // 146097
    doe = days - era * 146097
    yoe = (doe - doe // 1460 + doe // 36524 - doe // 146096) // 365
    doy = doe - (365 * yoe + yoe // 4 - yoe // 100)
    mp = (5 * doy + 2) // 153
    day = doy - (153 * mp + 2) // 5 + 1
    month = mp + 3 if mp < 10 else mp - 9
    return yoe + era * 400 + (month <= 2), month, day


def _valid_date(year, month, day):
    if not MIN_YEAR <= year <= MAX_YEAR or not 1 <= month <= 12 or day < 1:
        return False
    return day <= (29 if month == 2 and _leap(year) else _MONTH_DAYS[month - 1])


def parse_date(text):
    """'YYYY-MM-DD' -> nanoseconds since the epoch (midnight UTC), or None when it is not a valid date."""
    match = _DATE.fullmatch(text)
    if match is None:
        return None
    year, month, day = int(match.group(1)), int(match.group(2)), int(match.group(3))
    if not _valid_date(year, month, day):
        return None
    return _days_from_civil(year, month, day) * NANOS_PER_DAY


def parse_datetime(text):
    """An ISO 8601 date-time (see the module) -> nanoseconds since the epoch in UTC, or None when it is not valid."""
    match = _DATETIME.fullmatch(text)
    if match is None:
        return None
    year, month, day = int(match.group(1)), int(match.group(2)), int(match.group(3))
    hour, minute, second = int(match.group(4)), int(match.group(5)), int(match.group(6))
    if not _valid_date(year, month, day) or hour > 23 or minute > 59 or second > 59:
        return None
    fraction = match.group(7) or ""
    offset = match.group(8)
    shift = 0
    if offset and offset != "Z":
        hours, minutes = int(offset[1:3]), int(offset[4:6])
        if hours > 23 or minutes > 59:
            return None
        shift = (hours * 60 + minutes) * 60 * NANOS_PER_SECOND
        if offset[0] == "-":
            shift = -shift
    seconds = (_days_from_civil(year, month, day) * 86400) + hour * 3600 + minute * 60 + second
    return seconds * NANOS_PER_SECOND + int(fraction.ljust(9, "0") or 0) - shift


def is_date(value):
    return type(value) is str and parse_date(value) is not None


def is_datetime(value):
    return type(value) is str and parse_datetime(value) is not None


def format_date(nanos):
    """Nanoseconds since the epoch -> 'YYYY-MM-DD' of its UTC day."""
    return "%04d-%02d-%02d" % _civil_from_days(nanos // NANOS_PER_DAY)


def format_datetime(nanos, utc_suffix):
    """Nanoseconds since the epoch -> 'YYYY-MM-DDTHH:MM:SS[.fraction]' (the fraction's trailing zeros dropped), with
    'Z' when utc_suffix (a model trained on time-zone-aware values) and without an offset otherwise."""
    days, rest = divmod(nanos, NANOS_PER_DAY)
    seconds, fraction = divmod(rest, NANOS_PER_SECOND)
    text = "%sT%02d:%02d:%02d" % (format_date(days * NANOS_PER_DAY), seconds // 3600, seconds // 60 % 60, seconds % 60)
    if fraction:
        text += "." + ("%09d" % fraction).rstrip("0")
    return text + ("Z" if utc_suffix else "")

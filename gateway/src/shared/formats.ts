// The JSON forms of the feature values that are not plain numbers or category strings (docs/contract.md, "Feature
// types"), decided exactly as the Flask service's serving/formats.py decides them: the same regular expressions
// (anchored, ASCII digits only), the same calendar and the same years, so both servers accept and refuse the same
// strings. Pure (no Node, no zod): the gateway's validator and the client package's validator both import it.

// The patterns the OpenAPI document states, so that a schema-driven fuzzer or a form generates only what the servers
// accept: the contract's years (1678-2261, contract.json's minYear and maxYear), days that exist, leap years
// included. The validators below decide with arithmetic; a test compares these patterns with them on every day of
// 1600-2300 (and on days that do not exist), so the two cannot drift.
const YEAR = '(?:167[89]|16[89][0-9]|1[7-9][0-9]{2}|2[01][0-9]{2}|22[0-5][0-9]|226[01])';
// Leap years among them: every fourth, except 1700, 1800, 1900, 2100 and 2200.
const LEAP_YEAR =
  '(?:16(?:8[048]|9[26])|1[7-9](?:0[48]|[2468][048]|[13579][26])|20(?:[02468][048]|[13579][26])' +
  '|21(?:0[48]|[2468][048]|[13579][26])|22(?:0[48]|[24][048]|[135][26]|60))';
const MONTH_DAY =
  '(?:(?:0[13578]|1[02])-(?:0[1-9]|[12][0-9]|3[01])|(?:0[469]|11)-(?:0[1-9]|[12][0-9]|30)|02-(?:0[1-9]|1[0-9]|2[0-8]))';
const DAY = `(?:${YEAR}-${MONTH_DAY}|${LEAP_YEAR}-02-29)`;
const HOUR = '(?:[01][0-9]|2[0-3])';
/** `YYYY-MM-DD`. */
export const DATE_PATTERN = `^${DAY}$`;
/** `YYYY-MM-DDTHH:MM:SS`, an optional fraction of 1 to 9 digits, an optional offset (`Z`, `+HH:MM`, `-HH:MM`). */
export const DATETIME_PATTERN = `^${DAY}T${HOUR}:[0-5][0-9]:[0-5][0-9](?:\\.[0-9]{1,9})?(?:Z|[+-]${HOUR}:[0-5][0-9])?$`;

const DATE = /^([0-9]{4})-([0-9]{2})-([0-9]{2})$/;
const DATETIME =
  /^([0-9]{4})-([0-9]{2})-([0-9]{2})T([0-9]{2}):([0-9]{2}):([0-9]{2})(?:\.[0-9]{1,9})?(Z|[+-]([0-9]{2}):([0-9]{2}))?$/;
const MONTH_DAYS = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

const leap = (year: number) => year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0);

export interface DateChecks {
  /** A date as the contract writes it: `YYYY-MM-DD`, a day that exists, in the contract's years. */
  isDate(value: string): boolean;
  /** A date-time as the contract writes it (see DATETIME_PATTERN), every field in range, in the contract's years. */
  isDatetime(value: string): boolean;
}

/** The date checks for the contract's years (contract.json's minYear and maxYear). */
export function dateChecks(minYear: number, maxYear: number): DateChecks {
  const validDate = (year: number, month: number, day: number): boolean => {
    if (year < minYear || year > maxYear || month < 1 || month > 12 || day < 1) return false;
    return day <= (month === 2 && leap(year) ? 29 : MONTH_DAYS[month - 1]!);
  };
  return {
    isDate(value) {
      const m = DATE.exec(value);
      return m !== null && validDate(Number(m[1]), Number(m[2]), Number(m[3]));
    },
    isDatetime(value) {
      const m = DATETIME.exec(value);
      if (m === null || !validDate(Number(m[1]), Number(m[2]), Number(m[3]))) return false;
      if (Number(m[4]) > 23 || Number(m[5]) > 59 || Number(m[6]) > 59) return false;
      return m[8] === undefined || (Number(m[8]) <= 23 && Number(m[9]) <= 59);
    },
  };
}

/**
 * Characters as the contract counts a text's length: Unicode code points, as JSON Schema's maxLength does (and
 * Python's len): a surrogate pair is one, a lone surrogate one too. Not String.length, which counts UTF-16 units.
 */
export function codePointLength(value: string): number {
  let length = value.length;
  for (let i = 0; i < value.length - 1; i++) {
    const unit = value.charCodeAt(i);
    if (unit >= 0xd800 && unit <= 0xdbff) {
      const next = value.charCodeAt(i + 1);
      if (next >= 0xdc00 && next <= 0xdfff) {
        length--;
        i++;
      }
    }
  }
  return length;
}

// The JSON forms of the feature values that are not plain numbers or category strings (docs/contract.md, "Feature
// types"), decided exactly as the Flask service's serving/formats.py decides them: the same regular expressions
// (anchored, ASCII digits only), the same calendar and the same years, so both servers accept and refuse the same
// strings. Pure (no Node, no zod): the gateway's validator and the client package's validator both import it.

/** `YYYY-MM-DD`. */
export const DATE_PATTERN = '^[0-9]{4}-[0-9]{2}-[0-9]{2}$';
/** `YYYY-MM-DDTHH:MM:SS`, an optional fraction of 1 to 9 digits, an optional offset (`Z`, `+HH:MM`, `-HH:MM`). */
export const DATETIME_PATTERN =
  '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(?:\\.[0-9]{1,9})?(?:Z|[+-][0-9]{2}:[0-9]{2})?$';

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

import { CONTRACT } from '../contract.js';
import { dateChecks } from '../shared/formats.js';

// The contract's value formats (shared/formats.ts, which the client package compiles too) bound to contract.json's years.
export { codePointLength, DATE_PATTERN, DATETIME_PATTERN } from '../shared/formats.js';
export const { isDate, isDatetime } = dateChecks(CONTRACT.minYear, CONTRACT.maxYear);

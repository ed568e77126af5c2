/**
 * A first look at the user's CSV before anything is written: the header must parse and hold the target column, and a
 * feature must be left besides it. Deeper checks (types, classes, rows) need pandas and live in the generated
 * train.py, which exits with a message naming the problem.
 */
import { parse } from 'csv-parse/sync';

export function csvHeaderProblems(head: string, targetColumn: string | undefined): string[] {
  let header: string[];
  try {
    header = (parse(head, { to_line: 1, bom: true, relax_column_count: true }) as string[][])[0] ?? [];
  } catch (error) {
    return [`the first line is not CSV (${(error as Error).message.split('\n')[0]})`];
  }
  if (header.length === 0 || header.every((h) => h.trim() === ''))
    return ['the file is empty: the first line must name the columns'];
  const problems: string[] = [];
  if (targetColumn && !header.includes(targetColumn)) {
    problems.push(`has no column "${targetColumn}" for --target; its columns are: ${header.join(', ')}`);
  } else if (header.length < 2) {
    problems.push('needs at least one feature column besides the target');
  }
  return problems;
}

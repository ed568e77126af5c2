/**
 * A first look at the user's CSV before anything is written: the file must exist and its header parse, with the
 * target column among at least two. Deeper checks (types, classes, rows) need pandas and live in the generated
 * train.py, which exits with a message naming the problem.
 */
import { closeSync, openSync, readSync, statSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'csv-parse/sync';

/** The header of a CSV's first 64 KiB: its columns, or what is wrong with it. */
export function parseCsvHeader(head: string): { columns: string[] } | { problem: string } {
  let header: string[];
  try {
    header = (parse(head, { to_line: 1, bom: true, relax_column_count: true }) as string[][])[0] ?? [];
  } catch (error) {
    return { problem: `its first line is not CSV (${(error as Error).message.split('\n')[0]})` };
  }
  if (header.length === 0 || header.every((h) => h.trim() === ''))
    return { problem: 'the file is empty: its first line must name the columns' };
  if (header.length < 2)
    return { problem: `has one column (${header[0]}): it needs the target and at least one feature column` };
  return { columns: header };
}

function readHead(file: string): string {
  const fd = openSync(file, 'r');
  try {
    const buffer = Buffer.alloc(65_536);
    return buffer.subarray(0, readSync(fd, buffer, 0, buffer.length, 0)).toString('utf8');
  } finally {
    closeSync(fd);
  }
}

/** What is wrong with the CSV at `file` (relative to cwd), said so the user knows what to fix; undefined if nothing. */
export function csvFileProblem(file: string, cwd: string): string | undefined {
  const full = path.resolve(cwd, file);
  let isFile: boolean;
  try {
    isFile = statSync(full).isFile();
  } catch {
    return `${file} does not exist${path.isAbsolute(file) ? '' : ` (looked in ${cwd})`}: give the path of your CSV file`;
  }
  if (!isFile) return `${file} is a folder: give the path of your CSV file`;
  let head: string;
  try {
    head = readHead(full);
  } catch (error) {
    return `${file} cannot be read (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`;
  }
  const header = parseCsvHeader(head);
  return 'problem' in header ? `${file}: ${header.problem}` : undefined;
}

/** The columns of the CSV at `file` (relative to cwd), or undefined when it cannot be read as one. */
export function csvColumns(file: string, cwd: string): string[] | undefined {
  if (csvFileProblem(file, cwd) !== undefined) return undefined;
  const header = parseCsvHeader(readHead(path.resolve(cwd, file)));
  return 'columns' in header ? header.columns : undefined;
}

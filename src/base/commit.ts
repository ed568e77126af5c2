/**
 * Writing a project all-or-nothing. Yeoman's mem-fs commits file by file and its conflicter asks per file (and gives
 * up silently without a terminal); an upgrade that fails half-way would leave a project half old, half new. Here:
 * a new project is written into a sibling folder and renamed into place; changes to an existing project are staged
 * next to their targets, then swapped in, and rolled back from memory if any step fails.
 */
import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Change } from '../lib/apply.js';

export interface FileWrite { path: string; content: Buffer; executable?: boolean }

/** The disk operations a list of changes implies, plus extra files (.yo-rc.json). */
export function writesOf(changes: Change[], extra: FileWrite[] = []) {
  const writes: FileWrite[] = [...changes.filter((c) => c.content !== undefined && c.action !== 'identical').map((c) => ({ path: c.path, content: c.content!, executable: c.executable })), ...extra];
  const deletes = changes.filter((c) => c.action === 'delete').map((c) => c.path);
  const renames = changes.filter((c) => c.action === 'deactivate').map((c) => ({ from: c.path, to: c.renameTo! }));
  return { writes, deletes, renames };
}

function writeInto(root: string, file: FileWrite, suffix = '') {
  const target = path.join(root, file.path) + suffix;
  mkdirSync(path.dirname(target), { recursive: true });
  writeFileSync(target, file.content);
  if (file.executable) chmodSync(target, 0o755);
  return target;
}

/** A new project: everything lands at once, or not at all. */
export function commitNewProject(root: string, files: FileWrite[]): void {
  const staging = `${root}.partial-${process.pid}`;
  rmSync(staging, { recursive: true, force: true });
  try {
    for (const file of files) writeInto(staging, file);
    if (existsSync(root)) rmSync(root, { recursive: false }); // an empty folder of that name (checked by the caller)
    renameSync(staging, root);
  } catch (error) {
    rmSync(staging, { recursive: true, force: true });
    throw error;
  }
}

/** An existing project: stage every new content, then swap; on any failure restore what was there. */
export function commitChanges(root: string, changes: Change[], extra: FileWrite[] = []): void {
  const { writes, deletes, renames } = writesOf(changes, extra);
  const suffix = `.sci-eb-${process.pid}.tmp`;
  const staged: string[] = [];
  const backups = new Map<string, Buffer | undefined>();
  const remember = (rel: string) => {
    const abs = path.join(root, rel);
    if (!backups.has(abs)) backups.set(abs, existsSync(abs) ? readFileSync(abs) : undefined);
  };
  try {
    for (const file of writes) staged.push(writeInto(root, file, suffix));
  } catch (error) {
    for (const tmp of staged) rmSync(tmp, { force: true });
    throw error;
  }
  try {
    for (const file of writes) {
      remember(file.path);
      renameSync(path.join(root, file.path) + suffix, path.join(root, file.path));
    }
    for (const { from, to } of renames) {
      remember(from);
      remember(to);
      renameSync(path.join(root, from), path.join(root, to));
    }
    for (const rel of deletes) {
      remember(rel);
      unlinkSync(path.join(root, rel));
    }
  } catch (error) {
    for (const [abs, content] of backups) {
      if (content === undefined) rmSync(abs, { force: true });
      else writeFileSync(abs, content);
    }
    for (const tmp of staged) rmSync(tmp, { force: true });
    throw error;
  }
}

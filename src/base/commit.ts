/**
 * Writing a project all-or-nothing. Yeoman's mem-fs commits file by file and its conflicter asks per file (and gives
 * up silently without a terminal); an upgrade that fails half-way would leave a project half old, half new. Here:
 * a new project is written into a sibling folder and renamed into place; changes to an existing project are staged
 * next to their targets, then swapped in, and rolled back from memory if any step fails.
 */
import {
  chmodSync,
  existsSync,
  lstatSync,
  mkdirSync,
  readFileSync,
  renameSync,
  rmdirSync,
  rmSync,
  statSync,
  unlinkSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import path from 'node:path';
import type { Change } from '../lib/apply.js';
import { UsageError } from '../lib/errors.js';

export interface FileWrite {
  path: string;
  content: Buffer;
  executable?: boolean;
}

/** Files written or removed besides the project's own: .yo-rc.json and the merge bases. */
export interface ExtraWrites {
  writes?: FileWrite[];
  deletes?: string[];
}

/** The disk operations a list of changes implies, plus the extra ones. */
export function writesOf(changes: Change[], extra: ExtraWrites = {}) {
  const writes: FileWrite[] = [
    ...changes
      .filter((c) => c.content !== undefined && c.action !== 'identical')
      .map((c) => ({ path: c.path, content: c.content!, executable: c.executable })),
    ...(extra.writes ?? []),
  ];
  const deletes = [...changes.filter((c) => c.action === 'delete').map((c) => c.path), ...(extra.deletes ?? [])];
  const renames = changes.filter((c) => c.action === 'deactivate').map((c) => ({ from: c.path, to: c.renameTo! }));
  return { writes, deletes, renames };
}

function writeInto(root: string, file: FileWrite, suffix = '', createdDirs: string[] = []) {
  const target = path.join(root, file.path) + suffix;
  const created = mkdirSync(path.dirname(target), { recursive: true });
  if (created) createdDirs.push(created);
  writeFileSync(target, file.content);
  if (file.executable) chmodSync(target, 0o755);
  return target;
}

/** Disk operations that can fail part-way; tests swap them to prove the rollback. */
export interface FsOps {
  rename: (from: string, to: string) => void;
  unlink: (file: string) => void;
}
const REAL_FS: FsOps = { rename: renameSync, unlink: unlinkSync };

/** Every target must be a file or absent: a folder in the way is the user's to move, and nothing is written. */
function assertFileTargets(root: string, paths: string[]): void {
  for (const rel of paths) {
    const abs = path.join(root, rel);
    if (existsSync(abs) && !lstatSync(abs).isFile()) {
      throw new UsageError(
        `${rel} is in the way: it is a folder (or link) where the generator writes a file. Move it and run again; nothing was changed.`,
      );
    }
  }
}

/** A new project: everything lands at once, or not at all. */
export function commitNewProject(root: string, files: FileWrite[]): void {
  // A fixed name, so the leftovers of a run killed mid-write are cleared by the next one.
  const staging = path.join(path.dirname(root), `.${path.basename(root)}.sci-eb-partial`);
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
export function commitChanges(root: string, changes: Change[], extra: ExtraWrites = {}, fs: FsOps = REAL_FS): void {
  const { writes, deletes, renames } = writesOf(changes, extra);
  assertFileTargets(root, [...writes.map((w) => w.path), ...deletes, ...renames.flatMap((r) => [r.from, r.to])]);
  const suffix = `.sci-eb-${process.pid}.tmp`;
  const staged: string[] = [];
  const createdDirs: string[] = [];
  // Everything a swap may touch, as it was (content and times), to put back if a later step fails.
  const backups = new Map<string, { content: Buffer; atime: number; mtime: number } | undefined>();
  const remember = (rel: string) => {
    const abs = path.join(root, rel);
    if (backups.has(abs)) return;
    if (!existsSync(abs)) return void backups.set(abs, undefined);
    const stat = statSync(abs);
    // Times in seconds with their fraction: a Date would round them to the millisecond.
    backups.set(abs, { content: readFileSync(abs), atime: stat.atimeMs / 1000, mtime: stat.mtimeMs / 1000 });
  };
  const removeCreatedDirs = () => {
    for (const dir of createdDirs.reverse()) {
      try {
        rmdirSync(dir, { recursive: false } as never);
      } catch {
        /* not empty: something else lives there */
      }
    }
  };
  try {
    for (const file of writes) staged.push(writeInto(root, file, suffix, createdDirs));
  } catch (error) {
    for (const tmp of staged) rmSync(tmp, { force: true });
    removeCreatedDirs();
    throw error;
  }
  try {
    for (const file of writes) {
      remember(file.path);
      fs.rename(path.join(root, file.path) + suffix, path.join(root, file.path));
    }
    for (const { from, to } of renames) {
      remember(from);
      remember(to);
      fs.rename(path.join(root, from), path.join(root, to));
    }
    for (const rel of deletes) {
      remember(rel);
      fs.unlink(path.join(root, rel));
    }
  } catch (error) {
    for (const [abs, backup] of backups) {
      if (backup === undefined) {
        rmSync(abs, { force: true });
      } else {
        writeFileSync(abs, backup.content);
        utimesSync(abs, backup.atime, backup.mtime);
      }
    }
    for (const tmp of staged) rmSync(tmp, { force: true });
    removeCreatedDirs();
    throw error;
  }
}

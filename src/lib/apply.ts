/**
 * What happens to each file when a project is (re)generated, given what is on disk, what the generator wrote last
 * time (a hash per file in the manifest of .yo-rc.json) and the merge bases (the exact bytes of that last version of
 * every managed file, kept as blobs by ./merge-bases: offline, without git). Pure: the Yeoman classes read the disk,
 * call `planChanges`, and carry it out.
 */
import { merge } from 'node-diff3';
import type { FileKind } from './file-specs.js';
import { CONFLICT_LABELS } from './merge-labels.js';
import type { Manifest, ManifestEntry } from './manifest.js';
import { basePath, type BaseReader } from './merge-bases.js';
import { mergeRequirements } from './merge-requirements.js';
import { sha256 } from './sha256.js';
import type { RenderedFile } from './plan.js';

export type Action =
  | 'create' // new file
  | 'identical' // on disk already, same bytes
  | 'replace' // unedited since the generator wrote it (managed, or scaffold with its group): the new version replaces it
  | 'merged' // managed and edited: the user's edits and the new version merged cleanly
  | 'conflict' // managed and edited, and the edits collide: written with conflict markers
  | 'unresolved' // still holds the conflict markers of an earlier upgrade: left for the user to resolve
  | 'unchanged-edit' // managed and edited, and the generator's version did not change: the user's file stays
  | 'keep-scaffold' // scaffold-once file the user edited (or one of its group): the user's, never touched
  | 'keep-deleted' // the user deleted a file the generator wrote: it stays deleted
  | 'delete' // no longer generated, and unedited: removed
  | 'deactivate' // no longer generated, edited, and would still take effect: renamed aside, bytes kept
  | 'keep-orphan' // no longer generated, edited, harmless where it is: left alone, reported
  | 'relock' // a lockfile whose package.json is not the generator's as rendered: npm regenerates it (never line-merged)
  | 'relock-failed'; // npm could not regenerate it: the old lockfile stays, reported

export interface Change {
  path: string;
  kind: FileKind;
  action: Action;
  /** New disk content (create, replace, merged, conflict, relock). For a relock before npm ran: the lockfile npm starts from. */
  content?: Buffer;
  /** deactivate: where the file goes. */
  renameTo?: string;
  executable?: boolean;
  /** relock: the package.json the lockfile is regenerated for. */
  lockOf?: string;
  /** Why the decision is not the usual one (a merge base missing, npm's error): told to the user. */
  reason?: string;
}

export { CONFLICT_LABELS };

/** Line-based 3-way merge (diff3, as git merge-file). */
export function merge3(ours: string, base: string, theirs: string): { text: string; conflict: boolean } {
  const split = (s: string) => s.split('\n');
  const result = merge(split(ours), split(base), split(theirs), {
    excludeFalseConflicts: true,
    label: { a: CONFLICT_LABELS.ours, o: CONFLICT_LABELS.base, b: CONFLICT_LABELS.theirs },
  } as never);
  return { text: result.result.join('\n'), conflict: result.conflict };
}

/**
 * Files the platform would still read where they are: an obsolete one the user edited is renamed so it stops taking
 * effect (EB reads only .ebextensions/*.config) while every byte is kept for the user to review.
 */
const DEACTIVATE: Array<[RegExp, (p: string) => string]> = [
  [/^\.ebextensions\/.*\.config$/, (p) => `${p}.obsolete`],
  [/^Procfile$/, (p) => `${p}.obsolete`],
  [/^\.platform\/.+/, (p) => `${p}.obsolete`],
];

/** The merge for a file: requirements files as sets of packages when they are plain enough, else by lines. */
export function mergeFile(
  path: string,
  ours: string,
  base: string,
  theirs: string,
): { text: string; conflict: boolean } {
  if (/(^|\/)requirements[^/]*\.txt$/.test(path)) {
    const merged = mergeRequirements(ours, base, theirs);
    if (merged) return merged;
  }
  return merge3(ours, base, theirs);
}

const MARKER = new RegExp(`^<<<<<<< ${CONFLICT_LABELS.ours}$[\\s\\S]*^>>>>>>> ${CONFLICT_LABELS.theirs}$`, 'm');
export const hasConflictMarkers = (text: string) => MARKER.test(text);

/**
 * Scaffold files are the user's once edited. Until then they are still what the generator wrote, so they follow it (a
 * new layout reaches projects nobody customised); files of one group only work together, so one edit keeps them all.
 */
function uneditedScaffold(
  files: RenderedFile[],
  disk: (path: string) => Buffer | undefined,
  manifest: Manifest | undefined,
): (file: RenderedFile) => boolean {
  const unedited = (path: string) => {
    const current = disk(path);
    const previous = manifest?.[path];
    return current !== undefined && previous?.kind === 'scaffold' && previous.sha256 === sha256(current);
  };
  const editedGroups = new Set(files.filter((f) => f.group && !unedited(f.path)).map((f) => f.group));
  return (file) => unedited(file.path) && !(file.group && editedGroups.has(file.group));
}

/** Lockfiles are never merged by lines: npm regenerates them for the package.json beside them. */
const LOCKFILE = /(^|\/)package-lock\.json$/;
const packageJsonOf = (lockfile: string) => lockfile.replace(/package-lock\.json$/, 'package.json');

/**
 * Per file, what the upgrade does (see Action). `bases` gives the merge base by hash: the bytes the generator wrote
 * last time; a base that is missing or damaged is never guessed at: the file is merged as if from an empty base, so
 * both versions end up in it between conflict markers, and the reason is said.
 */
export function planChanges(
  files: RenderedFile[],
  disk: (path: string) => Buffer | undefined,
  manifest: Manifest | undefined,
  bases: BaseReader,
): Change[] {
  const followsGenerator = uneditedScaffold(files, disk, manifest);
  const decide = (file: RenderedFile): Change => {
    const base = { path: file.path, kind: file.kind, executable: file.executable };
    const current = disk(file.path);
    const previous = manifest?.[file.path];
    if (current === undefined)
      return { ...base, action: previous ? 'keep-deleted' : 'create', content: previous ? undefined : file.content };
    if (current.equals(file.content)) return { ...base, action: 'identical' };
    if (file.kind === 'scaffold')
      return followsGenerator(file)
        ? { ...base, action: 'replace', content: file.content }
        : { ...base, action: 'keep-scaffold' };
    if (hasConflictMarkers(current.toString('utf8'))) return { ...base, action: 'unresolved' };
    if (previous && previous.sha256 === sha256(current)) return { ...base, action: 'replace', content: file.content };
    if (previous && previous.sha256 === sha256(file.content)) return { ...base, action: 'unchanged-edit' };
    // No base: a file the generator never wrote (adoption, or one the user made first), or one whose base is lost.
    const before = previous?.kind === 'managed' ? bases(previous.sha256) : undefined;
    const lost = previous?.kind === 'managed' && before === undefined;
    const merged = mergeFile(
      file.path,
      current.toString('utf8'),
      before?.toString('utf8') ?? '',
      file.content.toString('utf8'),
    );
    return {
      ...base,
      action: merged.conflict ? 'conflict' : 'merged',
      content: Buffer.from(merged.text),
      ...(lost
        ? {
            reason: `its merge base ${basePath(previous!.sha256)} is missing or damaged, so your version and the new one were compared whole`,
          }
        : {}),
    };
  };
  const rendered = files.map((file) =>
    file.kind === 'managed' && LOCKFILE.test(file.path) ? undefined : decide(file),
  );
  const decided = new Map(rendered.filter((c): c is Change => c !== undefined).map((c) => [c.path, c]));
  const changes = files.map(
    (file, i) =>
      rendered[i] ??
      decideLockfile(file, disk(file.path), manifest?.[file.path], decided.get(packageJsonOf(file.path))),
  );
  const planned = new Set(files.map((f) => f.path));
  for (const [path, entry] of Object.entries(manifest ?? {})) {
    if (planned.has(path)) continue;
    const current = disk(path);
    if (current === undefined) continue;
    if (entry.kind === 'scaffold') continue; // the user's, even when no longer generated
    if (entry.sha256 === sha256(current)) {
      changes.push({ path, kind: entry.kind, action: 'delete' });
      continue;
    }
    const rule = DEACTIVATE.find(([pattern]) => pattern.test(path));
    changes.push(
      rule
        ? { path, kind: entry.kind, action: 'deactivate', renameTo: rule[1](path) }
        : { path, kind: entry.kind, action: 'keep-orphan' },
    );
  }
  return changes.sort((x, y) => x.path.localeCompare(y.path));
}

/**
 * A managed lockfile. The rendered one fits the rendered package.json only: when the package.json after the upgrade
 * is another (the user's, merged or kept), or the user's lockfile has resolutions of its own that the new version
 * changes, npm regenerates it (`relock`), starting from the user's lockfile if edited, else from the new one.
 */
function decideLockfile(
  file: RenderedFile,
  current: Buffer | undefined,
  previous: ManifestEntry | undefined,
  pkg: Change | undefined,
): Change {
  const base = { path: file.path, kind: file.kind, executable: file.executable };
  if (current === undefined)
    return { ...base, action: previous ? 'keep-deleted' : 'create', content: previous ? undefined : file.content };
  const relock = (start: Buffer): Change => ({
    ...base,
    action: 'relock',
    content: start,
    lockOf: packageJsonOf(file.path),
  });
  const edited = !previous || previous.sha256 !== sha256(current);
  if (pkg?.action === 'conflict' || pkg?.action === 'unresolved') {
    if (current.equals(file.content) && !edited) return { ...base, action: 'identical' };
    return {
      ...base,
      action: 'relock-failed',
      reason: `${pkg.path} has conflict markers: resolve them, then run npm install beside it to update the lockfile`,
    };
  }
  if (pkg?.action === 'merged') return relock(edited ? current : file.content);
  if (current.equals(file.content)) return { ...base, action: 'identical' };
  const usersPackage = pkg?.action === 'unchanged-edit';
  if (!edited) return usersPackage ? relock(file.content) : { ...base, action: 'replace', content: file.content };
  if (previous && previous.sha256 === sha256(file.content)) return { ...base, action: 'unchanged-edit' };
  return relock(current);
}

/** The manifest after the changes: every generated file records the hash of what the generator wrote this time. */
export function nextManifest(changes: Change[], files: RenderedFile[]): Manifest {
  const rendered = new Map(files.map((f) => [f.path, f]));
  const manifest: Manifest = {};
  for (const change of changes) {
    const file = rendered.get(change.path);
    if (!file) continue; // deleted, deactivated or orphaned: no longer the generator's
    manifest[file.path] = { kind: file.kind, sha256: sha256(file.content) };
  }
  return manifest;
}

/** Changes that alter the disk. */
export const isWrite = (c: Change) => c.content !== undefined && c.action !== 'identical';
export const alters = (c: Change) => isWrite(c) || c.action === 'delete' || c.action === 'deactivate';

/**
 * What to do with each rendered file given what is on disk and what the generator wrote last time (the manifest in
 * .yo-rc.json). Pure: the Yeoman classes read the disk, call this, and write what it says.
 */
import { createHash } from 'node:crypto';
import type { FileKind, RenderedFile } from './plan.js';

export interface ManifestEntry { kind: FileKind; sha256: string }
export type Manifest = Record<string, ManifestEntry>;

export type Action =
  | 'create'          // not on disk
  | 'identical'       // on disk, same bytes
  | 'replace'         // managed, on disk unchanged since the generator wrote it
  | 'keep-edited'     // managed, edited by the user since: left for `yo sci-eb:upgrade` to merge
  | 'keep-scaffold'   // scaffold-once file that exists: the user's now
  | 'keep-deleted';   // the generator wrote it before and the user deleted it: stays deleted

export interface Decision { file: RenderedFile; action: Action }

export const sha256 = (content: Buffer | string) => createHash('sha256').update(content).digest('hex');

export function decideWrites(files: RenderedFile[], disk: (path: string) => Buffer | undefined, manifest: Manifest | undefined): Decision[] {
  return files.map((file) => {
    const current = disk(file.path);
    const previous = manifest?.[file.path];
    if (current === undefined) return { file, action: previous ? 'keep-deleted' : 'create' };
    if (current.equals(file.content)) return { file, action: 'identical' };
    if (file.kind === 'scaffold') return { file, action: 'keep-scaffold' };
    if (previous && previous.sha256 === sha256(current)) return { file, action: 'replace' };
    return { file, action: 'keep-edited' };
  });
}

/** The manifest after applying decisions: files written or already identical record the new content's hash. */
export function nextManifest(decisions: Decision[], previous: Manifest | undefined): Manifest {
  const manifest: Manifest = {};
  for (const { file, action } of decisions) {
    if (action === 'create' || action === 'identical' || action === 'replace') {
      manifest[file.path] = { kind: file.kind, sha256: sha256(file.content) };
    } else if (previous?.[file.path]) {
      manifest[file.path] = previous[file.path]!;
    }
  }
  return manifest;
}

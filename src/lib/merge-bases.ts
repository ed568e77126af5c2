/**
 * The merge bases of upgrades: what the generator wrote last time, for every managed file, so the next upgrade can
 * 3-way merge the user's edits offline and without git. They live outside .yo-rc.json (which keeps only a hash per
 * file) as gzip blobs named by the sha256 of their content, under one folder: equal contents share one blob, and
 * the hash in the manifest is the blob's name. A blob is trusted only if its content still has that hash.
 */
import { gunzipSync, gzipSync } from 'node:zlib';
import type { Manifest } from './manifest.js';
import { sha256 } from './sha256.js';

/** Committed with the project (teammates upgrade from it, as they did from the manifest); never in a bundle. */
export const BASES_DIR = '.sci-eb/bases';
const BLOB_NAME = /^([0-9a-f]{64})\.gz$/;

export const basePath = (hash: string) => `${BASES_DIR}/${hash}.gz`;

/** gzip's header holds no name or time here, so a blob's bytes depend only on the content. */
export const encodeBase = (content: Buffer) => gzipSync(content, { level: 9 });

/** The content of a blob, or undefined when it cannot be unpacked or no longer has the hash it is named by. */
export function decodeBase(hash: string, blob: Buffer): Buffer | undefined {
  try {
    const content = gunzipSync(blob);
    return sha256(content) === hash ? content : undefined;
  } catch {
    return undefined;
  }
}

/** A base by hash: its content, or undefined when missing or damaged (the caller then must not trust it). */
export type BaseReader = (hash: string) => Buffer | undefined;

/** Manifests of 0.2.0 and before kept each managed file's text inline (`content`): read, never written again. */
interface LegacyEntry {
  content?: string;
}

/**
 * A stored manifest in the current shape (kind and hash), and the inline texts an older one carried, by hash, to
 * serve as bases until the next save moves them into blobs.
 */
export function splitManifest(stored: Manifest | undefined): {
  manifest: Manifest | undefined;
  inline: Map<string, Buffer>;
} {
  const inline = new Map<string, Buffer>();
  if (!stored) return { manifest: undefined, inline };
  const manifest: Manifest = {};
  for (const [path, entry] of Object.entries(stored)) {
    const { content } = entry as typeof entry & LegacyEntry;
    manifest[path] = { kind: entry.kind, sha256: entry.sha256 };
    if (typeof content === 'string') inline.set(entry.sha256, Buffer.from(content));
  }
  return { manifest, inline };
}

/** Whether a stored manifest still holds full texts (the layout before the blobs). */
export const isInlineManifest = (stored: Manifest | undefined) =>
  Object.values(stored ?? {}).some((entry) => typeof (entry as LegacyEntry).content === 'string');

/** Bases from the project's blobs, then from an older manifest's inline texts; each checked against its hash. */
export function projectBases(
  readFile: (relative: string) => Buffer | undefined,
  inline: Map<string, Buffer> = new Map(),
): BaseReader {
  return (hash) => {
    const blob = readFile(basePath(hash));
    const fromBlob = blob && decodeBase(hash, blob);
    if (fromBlob) return fromBlob;
    const text = inline.get(hash);
    return text && sha256(text) === hash ? text : undefined;
  };
}

/**
 * The blob writes and deletions that make the store hold exactly the bases of `manifest`: one blob per distinct
 * managed content (added when missing or damaged), blobs nothing references any more removed. `contents` gives the
 * content for a hash (what the generator just rendered); `existing` lists the folder's files.
 */
export function baseStoreChanges(
  manifest: Manifest,
  contents: Map<string, Buffer>,
  existing: string[],
  readFile: (relative: string) => Buffer | undefined,
): { writes: Array<{ path: string; content: Buffer }>; deletes: string[] } {
  const wanted = new Set(
    Object.values(manifest)
      .filter((e) => e.kind === 'managed')
      .map((e) => e.sha256),
  );
  const writes: Array<{ path: string; content: Buffer }> = [];
  for (const hash of [...wanted].sort()) {
    const blob = readFile(basePath(hash));
    if (blob && decodeBase(hash, blob)) continue;
    const content = contents.get(hash);
    if (!content) throw new Error(`no content for the merge base ${hash}`);
    writes.push({ path: basePath(hash), content: encodeBase(content) });
  }
  const deletes = existing
    .filter((name) => {
      const m = BLOB_NAME.exec(name);
      return m && !wanted.has(m[1]!);
    })
    .sort()
    .map((name) => `${BASES_DIR}/${name}`);
  return { writes, deletes };
}

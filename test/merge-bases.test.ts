// The merge bases as blobs: named by the hash of their content, shared, checked on read, and collected when unused.
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import type { Manifest } from '../src/lib/manifest.js';
import {
  BASES_DIR,
  baseStoreChanges,
  basePath,
  decodeBase,
  encodeBase,
  isInlineManifest,
  projectBases,
  splitManifest,
} from '../src/lib/merge-bases.js';
import { sha256 } from '../src/lib/sha256.js';

const A = Buffer.from('contract text\n');
const B = Buffer.from('Makefile text\n');

describe('merge bases', () => {
  it("a blob is the gzip of its content, named by the content's sha256, and the same bytes every time", () => {
    expect(basePath(sha256(A))).toBe(`${BASES_DIR}/${sha256(A)}.gz`);
    expect(encodeBase(A).equals(encodeBase(A))).toBe(true);
    expect(decodeBase(sha256(A), encodeBase(A))?.equals(A)).toBe(true);
  });

  it('a blob is not trusted when it is damaged or holds other content than its name says', () => {
    expect(decodeBase(sha256(A), encodeBase(A).subarray(0, 10))).toBeUndefined();
    expect(decodeBase(sha256(A), Buffer.from('not gzip'))).toBeUndefined();
    expect(decodeBase(sha256(A), gzipSync(B))).toBeUndefined();
  });

  it('one blob per distinct managed content (equal files share it); scaffold files have none; unused blobs go', () => {
    const manifest: Manifest = {
      'serving/contract.json': { kind: 'managed', sha256: sha256(A) },
      'gateway/contract.json': { kind: 'managed', sha256: sha256(A) },
      Makefile: { kind: 'managed', sha256: sha256(B) },
      'train.py': { kind: 'scaffold', sha256: sha256('train\n') },
    };
    const contents = new Map([
      [sha256(A), A],
      [sha256(B), B],
    ]);
    const stale = `${'0'.repeat(64)}.gz`;
    const existing = { [basePath(sha256(A))]: encodeBase(A) };
    const { writes, deletes } = baseStoreChanges(
      manifest,
      contents,
      [`${sha256(A)}.gz`, stale, 'README.txt'],
      (p) => existing[p],
    );
    expect(writes.map((w) => w.path)).toEqual([basePath(sha256(B))]); // A is there already and sound
    expect(decodeBase(sha256(B), writes[0]!.content)?.equals(B)).toBe(true);
    expect(deletes).toEqual([`${BASES_DIR}/${stale}`]); // a file that is not a blob is left alone
  });

  it('a damaged blob still referenced is written again from what was rendered', () => {
    const manifest: Manifest = { Makefile: { kind: 'managed', sha256: sha256(B) } };
    const { writes, deletes } = baseStoreChanges(manifest, new Map([[sha256(B), B]]), [`${sha256(B)}.gz`], () =>
      Buffer.from('garbage'),
    );
    expect(writes.map((w) => w.path)).toEqual([basePath(sha256(B))]);
    expect(deletes).toEqual([]);
  });

  it('a manifest of 0.2.0 and before (full texts inline) is read as hashes plus bases, blobs first', () => {
    const stored = {
      Makefile: { kind: 'managed', sha256: sha256(B), content: B.toString('utf8') },
      'train.py': { kind: 'scaffold', sha256: sha256('t') },
    } as unknown as Manifest;
    expect(isInlineManifest(stored)).toBe(true);
    const { manifest, inline } = splitManifest(stored);
    expect(manifest).toEqual({
      Makefile: { kind: 'managed', sha256: sha256(B) },
      'train.py': { kind: 'scaffold', sha256: sha256('t') },
    });
    expect(isInlineManifest(manifest)).toBe(false);
    const bases = projectBases(() => undefined, inline);
    expect(bases(sha256(B))?.equals(B)).toBe(true);
    expect(bases(sha256(A))).toBeUndefined();
    const fromBlob = projectBases((p) => (p === basePath(sha256(A)) ? encodeBase(A) : undefined), inline);
    expect(fromBlob(sha256(A))?.equals(A)).toBe(true);
  });
});

// planChanges, decision by decision: each test builds the rendered files, the disk and the manifest (a hash per
// file, the merge bases by hash) and asserts the one decision they call for. No generator, no disk.
import { describe, expect, it } from 'vitest';
import { planChanges, type Action, type Change } from '../src/lib/apply.js';
import type { Manifest } from '../src/lib/manifest.js';
import type { FileKind } from '../src/lib/file-specs.js';
import type { RenderedFile } from '../src/lib/plan.js';
import { sha256 } from '../src/lib/sha256.js';

const file = (path: string, text: string, kind: FileKind = 'managed', group?: string): RenderedFile => ({
  path,
  kind,
  content: Buffer.from(text),
  executable: false,
  ...(group ? { group } : {}),
});

/** A project: what is on disk, what the generator wrote last time (manifest + bases), and what it renders now. */
function plan(options: {
  now: RenderedFile[];
  disk: Record<string, string>;
  before?: Record<string, { text: string; kind?: FileKind }>;
  lostBases?: boolean;
}): Change[] {
  const manifest: Manifest = {};
  const bases = new Map<string, Buffer>();
  for (const [path, { text, kind = 'managed' }] of Object.entries(options.before ?? {})) {
    manifest[path] = { kind, sha256: sha256(text) };
    if (kind === 'managed' && !options.lostBases) bases.set(sha256(text), Buffer.from(text));
  }
  const disk = (path: string) => (path in options.disk ? Buffer.from(options.disk[path]!) : undefined);
  return planChanges(options.now, disk, options.before ? manifest : undefined, (hash) => bases.get(hash));
}

const only = (changes: Change[], path: string) => {
  const change = changes.find((c) => c.path === path);
  if (!change) throw new Error(`no change for ${path}`);
  return change;
};
const decision = (changes: Change[], path: string): Action => only(changes, path).action;
const text = (change: Change) => change.content?.toString('utf8');

const V1 = 'one\ntwo\nthree\nfour\nfive\n';
const V2 = 'one\ntwo\nthree\nfour\nfive, now six\n'; // the generator's next version changes the last line
const EDITED = 'one (ours)\ntwo\nthree\nfour\nfive\n'; // the user changed the first line

describe('planChanges: one decision per case', () => {
  it('create: a file the generator writes for the first time, not on disk', () => {
    const changes = plan({ now: [file('Makefile', V1)], disk: {} });
    expect(decision(changes, 'Makefile')).toBe('create');
    expect(text(only(changes, 'Makefile'))).toBe(V1);
  });

  it('identical: on disk with the very bytes the generator renders', () => {
    const changes = plan({ now: [file('Makefile', V2)], disk: { Makefile: V2 }, before: { Makefile: { text: V1 } } });
    expect(decision(changes, 'Makefile')).toBe('identical');
    expect(only(changes, 'Makefile').content).toBeUndefined();
  });

  it('replace: a managed file nobody edited takes the new version', () => {
    const changes = plan({ now: [file('Makefile', V2)], disk: { Makefile: V1 }, before: { Makefile: { text: V1 } } });
    expect(decision(changes, 'Makefile')).toBe('replace');
    expect(text(only(changes, 'Makefile'))).toBe(V2);
  });

  it('replace: unedited scaffold files of a group follow the generator together', () => {
    const now = [
      file('application.py', 'app v2\n', 'scaffold', 'service'),
      file('tests/test_app.py', 'test v2\n', 'scaffold', 'service'),
    ];
    const changes = plan({
      now,
      disk: { 'application.py': 'app v1\n', 'tests/test_app.py': 'test v1\n' },
      before: {
        'application.py': { text: 'app v1\n', kind: 'scaffold' },
        'tests/test_app.py': { text: 'test v1\n', kind: 'scaffold' },
      },
    });
    expect(changes.map((c) => c.action)).toEqual(['replace', 'replace']);
  });

  it("merged: the user's edit and the generator's change, on different lines, both kept", () => {
    const changes = plan({
      now: [file('Makefile', V2)],
      disk: { Makefile: EDITED },
      before: { Makefile: { text: V1 } },
    });
    expect(decision(changes, 'Makefile')).toBe('merged');
    expect(text(only(changes, 'Makefile'))).toBe('one (ours)\ntwo\nthree\nfour\nfive, now six\n');
  });

  it('conflict: both changed the same line; markers name the two sides', () => {
    const changes = plan({
      now: [file('Makefile', V2)],
      disk: { Makefile: 'one\ntwo\nthree\nfour\nfive, ours\n' },
      before: { Makefile: { text: V1 } },
    });
    expect(decision(changes, 'Makefile')).toBe('conflict');
    expect(text(only(changes, 'Makefile'))).toContain(
      '<<<<<<< your version\nfive, ours\n=======\nfive, now six\n>>>>>>> generated now',
    );
  });

  it('conflict, with the reason said: the merge base is missing, so nothing is guessed and nothing is lost', () => {
    const changes = plan({
      now: [file('Makefile', V2)],
      disk: { Makefile: EDITED },
      before: { Makefile: { text: V1 } },
      lostBases: true,
    });
    const change = only(changes, 'Makefile');
    expect(change.action).toBe('conflict');
    expect(change.reason).toBe(
      `its merge base .sci-eb/bases/${sha256(V1)}.gz is missing or damaged, so your version and the new one were compared whole`,
    );
    expect(text(change)).toContain('one (ours)\n');
    expect(text(change)).toContain('five, now six\n');
  });

  it('unresolved: conflict markers from an earlier upgrade are left for the user', () => {
    const marked = 'one\n<<<<<<< your version\nfive, ours\n=======\nfive, now six\n>>>>>>> generated now\n';
    const changes = plan({
      now: [file('Makefile', V2)],
      disk: { Makefile: marked },
      before: { Makefile: { text: V1 } },
    });
    expect(decision(changes, 'Makefile')).toBe('unresolved');
    expect(only(changes, 'Makefile').content).toBeUndefined();
  });

  it("unchanged-edit: the user edited it and the generator's version is the same as last time", () => {
    const changes = plan({
      now: [file('Makefile', V1)],
      disk: { Makefile: EDITED },
      before: { Makefile: { text: V1 } },
      lostBases: true,
    });
    expect(decision(changes, 'Makefile')).toBe('unchanged-edit'); // decided by the hash: no base needed
  });

  it('keep-scaffold: a scaffold file the user edited is never touched, and holds back its whole group', () => {
    const now = [
      file('application.py', 'app v2\n', 'scaffold', 'service'),
      file('tests/test_app.py', 'test v2\n', 'scaffold', 'service'),
      file('train.py', 'train v2\n', 'scaffold'),
    ];
    const before = {
      'application.py': { text: 'app v1\n', kind: 'scaffold' as const },
      'tests/test_app.py': { text: 'test v1\n', kind: 'scaffold' as const },
      'train.py': { text: 'train v1\n', kind: 'scaffold' as const },
    };
    const changes = plan({
      now,
      disk: { 'application.py': 'app v1, mine\n', 'tests/test_app.py': 'test v1\n', 'train.py': 'train v1, mine\n' },
      before,
    });
    expect(changes.map((c) => [c.path, c.action])).toEqual([
      ['application.py', 'keep-scaffold'],
      ['tests/test_app.py', 'keep-scaffold'],
      ['train.py', 'keep-scaffold'],
    ]);
  });

  it('keep-deleted: a file the generator wrote and the user deleted stays deleted', () => {
    const changes = plan({
      now: [file('.gitattributes', V2), file('train.py', 'v2\n', 'scaffold')],
      disk: {},
      before: { '.gitattributes': { text: V1 }, 'train.py': { text: 'v1\n', kind: 'scaffold' } },
    });
    expect(changes.map((c) => c.action)).toEqual(['keep-deleted', 'keep-deleted']);
  });

  it('delete: no longer generated and untouched', () => {
    const changes = plan({ now: [], disk: { 'docs/old.md': V1 }, before: { 'docs/old.md': { text: V1 } } });
    expect(decision(changes, 'docs/old.md')).toBe('delete');
  });

  it('deactivate: no longer generated, edited, and EB would still read it: renamed aside', () => {
    const changes = plan({
      now: [],
      disk: { '.ebextensions/04_logs.config': EDITED, Procfile: 'web: mine\n' },
      before: { '.ebextensions/04_logs.config': { text: V1 }, Procfile: { text: 'web: gunicorn\n' } },
    });
    expect(changes.map((c) => [c.action, c.renameTo])).toEqual([
      ['deactivate', '.ebextensions/04_logs.config.obsolete'],
      ['deactivate', 'Procfile.obsolete'],
    ]);
  });

  it("keep-orphan: no longer generated, edited, harmless where it is; a retired scaffold file is simply the user's", () => {
    const changes = plan({
      now: [],
      disk: { 'docs/old.md': EDITED, 'notebook.py': 'mine\n' },
      before: { 'docs/old.md': { text: V1 }, 'notebook.py': { text: 'v1\n', kind: 'scaffold' } },
    });
    expect(changes.map((c) => [c.path, c.action])).toEqual([['docs/old.md', 'keep-orphan']]);
  });

  it('a file the generator never wrote, already there: merged from an empty base (adoption, or the user made it first)', () => {
    const changes = plan({
      now: [file('.ebignore', V1)],
      disk: { '.ebignore': V1.replace('three', 'three (mine)') },
      before: {},
    });
    expect(decision(changes, '.ebignore')).toBe('conflict');
    expect(only(changes, '.ebignore').reason).toBeUndefined(); // not a lost base: there never was one
  });
});

describe('planChanges: lockfiles are never merged by lines', () => {
  const PKG_V1 = '{\n  "name": "gw",\n  "description": "v1",\n  "dependencies": {\n    "express": "5.2.0"\n  }\n}\n';
  const PKG_V2 = PKG_V1.replace('"v1"', '"v2"');
  const PKG_OURS = PKG_V1.replace('"express": "5.2.0"', '"express": "5.2.0",\n    "debug": "4.4.3"');
  const LOCK_V1 = '{"lockfileVersion": 3, "v": 1}\n';
  const LOCK_V2 = '{"lockfileVersion": 3, "v": 2}\n';
  const LOCK_OURS = '{"lockfileVersion": 3, "v": "ours"}\n';
  const now = [file('gateway/package.json', PKG_V2), file('gateway/package-lock.json', LOCK_V2)];
  const before = { 'gateway/package.json': { text: PKG_V1 }, 'gateway/package-lock.json': { text: LOCK_V1 } };

  it('replace: neither edited, so the new lockfile fits the new package.json', () => {
    const changes = plan({
      now,
      disk: { 'gateway/package.json': PKG_V1, 'gateway/package-lock.json': LOCK_V1 },
      before,
    });
    expect(changes.map((c) => c.action)).toEqual(['replace', 'replace']);
  });

  it("relock: package.json merged with the user's dependency; npm starts from the new lockfile", () => {
    const changes = plan({
      now,
      disk: { 'gateway/package.json': PKG_OURS, 'gateway/package-lock.json': LOCK_V1 },
      before,
    });
    expect(decision(changes, 'gateway/package.json')).toBe('merged');
    const lock = only(changes, 'gateway/package-lock.json');
    expect([lock.action, lock.lockOf, text(lock)]).toEqual(['relock', 'gateway/package.json', LOCK_V2]);
  });

  it("relock: the user's own lockfile (npm install run) is where npm starts, so its resolutions are kept where they fit", () => {
    const changes = plan({
      now,
      disk: { 'gateway/package.json': PKG_OURS, 'gateway/package-lock.json': LOCK_OURS },
      before,
    });
    expect([decision(changes, 'gateway/package-lock.json'), text(only(changes, 'gateway/package-lock.json'))]).toEqual([
      'relock',
      LOCK_OURS,
    ]);
  });

  it('relock-failed: package.json has conflict markers, so no lockfile can be computed; the old one stays', () => {
    const marked = PKG_V1.replace('"v1"', '\n<<<<<<< your version\n"x"\n=======\n"y"\n>>>>>>> generated now\n');
    const changes = plan({
      now,
      disk: { 'gateway/package.json': marked, 'gateway/package-lock.json': LOCK_V1 },
      before,
    });
    const lock = only(changes, 'gateway/package-lock.json');
    expect([lock.action, lock.content]).toEqual(['relock-failed', undefined]);
    expect(lock.reason).toMatch(/gateway\/package\.json has conflict markers: resolve them, then run npm install/);
  });

  it("unchanged-edit: the user relocked, and the generator's lockfile did not change", () => {
    const changes = plan({
      now: [file('gateway/package.json', PKG_V1), file('gateway/package-lock.json', LOCK_V1)],
      disk: { 'gateway/package.json': PKG_V1, 'gateway/package-lock.json': LOCK_OURS },
      before,
    });
    expect(decision(changes, 'gateway/package-lock.json')).toBe('unchanged-edit');
  });

  it("relock: the user's package.json is kept as it is while the generator's lockfile changed", () => {
    const changes = plan({
      now: [file('gateway/package.json', PKG_V1), file('gateway/package-lock.json', LOCK_V2)],
      disk: { 'gateway/package.json': PKG_OURS, 'gateway/package-lock.json': LOCK_V1 },
      before,
    });
    expect(decision(changes, 'gateway/package.json')).toBe('unchanged-edit');
    expect([decision(changes, 'gateway/package-lock.json'), text(only(changes, 'gateway/package-lock.json'))]).toEqual([
      'relock',
      LOCK_V2,
    ]);
  });
});

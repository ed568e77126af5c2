// upgrade --set and adoption's decisions, called directly.
import { describe, expect, it } from 'vitest';
import { adoptionChanges } from '../src/lib/adopt.js';
import { UsageError } from '../src/lib/errors.js';
import type { RenderedFile } from '../src/lib/plan.js';
import { followDerived, parseSets } from '../src/lib/set-answers.js';
import { sha256 } from '../src/lib/sha256.js';

describe('--set', () => {
  it('takes answer names or option names, repeated or once, the value kept as typed', () => {
    expect(parseSets(['workers=4', 'instance-type=c7g.large', 'platform=al2023'])).toEqual({
      workers: '4',
      instanceType: 'c7g.large',
      platform: 'al2023',
    });
    expect(parseSets('healthCheckPath=/a=b')).toEqual({ healthCheckPath: '/a=b' });
    expect(parseSets(undefined)).toEqual({});
  });

  it('refuses what is not key=value or not an answer, saying what to write', () => {
    expect(() => parseSets(['workers'])).toThrow(UsageError);
    expect(() => parseSets(['workers'])).toThrow(/--set workers: expected key=value, e\.g\. --set platform=al2023/);
    expect(() => parseSets(['colour=blue'])).toThrow(/colour is not an answer \(known: name, /);
  });

  it('a new platform brings its Python and architecture when the stored ones are not offered, unless set too', () => {
    const legacy = {
      platform: 'amazon-linux-ami',
      pythonVersion: '3.6',
      architecture: 'x86_64',
      instanceType: 't2.small',
    };
    expect(followDerived(legacy, { platform: 'al2023' })).toMatchObject({
      platform: 'al2023',
      pythonVersion: '3.11',
      architecture: 'x86_64',
      instanceType: 't2.small',
    });
    expect(followDerived(legacy, { platform: 'al2023', pythonVersion: '3.13' })).toMatchObject({
      pythonVersion: '3.13',
    });
    const graviton = { platform: 'al2023', pythonVersion: '3.12', architecture: 'arm64', instanceType: 't4g.small' };
    expect(followDerived(graviton, { platform: 'amazon-linux-ami' })).toMatchObject({
      pythonVersion: '3.6',
      architecture: 'x86_64',
      instanceType: 't2.small',
    });
    expect(followDerived(graviton, { workers: '4' })).toEqual({ ...graviton, workers: '4' }); // nothing derives from workers
  });
});

describe('adoption', () => {
  const file = (path: string, text: string, kind: 'managed' | 'scaffold'): RenderedFile => ({
    path,
    kind,
    content: Buffer.from(text),
    executable: false,
  });

  it("the project's files become the user's edits; missing managed files are added, no code is; requirements put in build order", () => {
    const rendered = [
      file('.ebignore', '.git/\n', 'managed'),
      file('Makefile', 'all:\n', 'managed'),
      file('requirements.txt', 'numpy==2\nscipy==1\n', 'managed'),
      file('application.py', 'generated\n', 'scaffold'),
      file('train.py', 'generated\n', 'scaffold'),
    ];
    const disk: Record<string, string> = {
      '.ebignore': '.git/\n',
      Makefile: 'mine:\n',
      'requirements.txt': 'scipy==1.5.4\nnumpy==1.19.5\n',
      'application.py': 'mine\n',
    };
    const { changes, manifest, moves } = adoptionChanges(rendered, (p) =>
      p in disk ? Buffer.from(disk[p]!) : undefined,
    );
    expect(changes.map((c) => [c.path, c.action])).toEqual([
      ['.ebignore', 'identical'],
      ['Makefile', 'unchanged-edit'],
      ['requirements.txt', 'merged'],
      ['application.py', 'keep-scaffold'],
      ['train.py', 'keep-deleted'],
    ]);
    expect(changes[2]!.content!.toString('utf8')).toBe('numpy==1.19.5\nscipy==1.5.4\n');
    expect(moves).toEqual(['requirements.txt: moved numpy from line 2 to 1 (build order)']);
    // The base of the next upgrade is what the generator renders now: the user's differences stay theirs.
    expect(manifest.Makefile).toEqual({ kind: 'managed', sha256: sha256('all:\n') });
    expect(Object.keys(manifest)).toEqual(rendered.map((f) => f.path));
  });
});

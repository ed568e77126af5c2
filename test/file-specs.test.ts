// templates/files.json checked at load time: a wrong entry stops the generator with the entry named.
import { describe, expect, it } from 'vitest';
import { withoutRepositoryOnly } from '../src/lib/plan.js';
import { loadFileSpecs, parseFileSpecs } from '../src/lib/file-specs.js';
import { FIXTURES } from './helpers.js';
import path from 'node:path';

describe('files.json', () => {
  it('the current template set and the kept older ones are valid', () => {
    expect(loadFileSpecs().length).toBeGreaterThan(40);
    for (const version of ['0.0.9', '0.1.0'])
      expect(loadFileSpecs(path.join(FIXTURES, `templates-${version}`)).length, version).toBeGreaterThan(10);
  });

  it("each feature's pieces are managed files that come and go with its answer, never parts of the user's files", () => {
    const specs = new Map(loadFileSpecs().map((spec) => [spec.path, spec]));
    for (const file of ['gateway.mk', 'docs/gateway.md'])
      expect(specs.get(file), file).toMatchObject({ kind: 'managed', when: 'gateway' });
    // rendered for the runtime answer, so an upgrade --set runtime=... rewrites it
    expect(specs.get('docs/runtime.md')).toMatchObject({ kind: 'managed' });
    expect(specs.get('docs/runtime.md')!.when).toBeUndefined();
    expect(specs.get('README.md')).toMatchObject({ kind: 'scaffold' });
    expect(specs.get('Makefile')).toMatchObject({ kind: 'managed' });
    expect(specs.get('Makefile')!.when).toBeUndefined();
  });

  it('names every wrong entry, and what is wrong with it', () => {
    const bad = {
      files: [
        { path: 'Makefile', kind: 'managed', template: 'app/Makefile.ejs' },
        { path: 'Procfile', kind: 'managed', build: 'procfil', when: 'gunicorn' },
        { path: 'README.md', kind: 'scaffold' },
        { path: 'serving', kind: 'managed', tree: 'app/serving', template: 'x.ejs' },
        { path: 'notes.md', kind: 'manged', file: 'notes.md', colour: 'blue' },
        { path: 'x', kind: 'managed', template: 'x.ejs', when: 'docker' },
      ],
    };
    let message = '';
    try {
      parseFileSpecs(bad, 'templates/files.json');
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message).toMatch(/^templates\/files\.json is not a valid template set:/);
    expect(message).toMatch(/entry "Procfile" \(build\): .*"procfile"/);
    expect(message).toMatch(
      /entry "README\.md": needs exactly one source of template, build, requirements, copy, file, tree; it has none/,
    );
    expect(message).toMatch(/entry "serving": needs exactly one source .* it has template and tree/);
    expect(message).toMatch(/entry "notes\.md" \(kind\): /);
    expect(message).toMatch(/entry "notes\.md": .*colour/);
    expect(message).toMatch(/entry "x" \(when\): .*"gunicorn"/);
    expect(message).not.toMatch(/entry "Makefile"/);
  });

  it('pages copied into projects leave out what describes only this repository, and refuse unbalanced markers', () => {
    const page = [
      'Run `npm test` (needs redis<!-- repository only -->, and chromium<!-- /repository only -->).',
      '',
      '<!-- repository only -->',
      '## Benchmarks',
      'numbers',
      '<!-- /repository only -->',
      '',
      '| file | what |',
      '| `a.test.ts` | a |',
      '| `browser.test.ts` | b <!-- repository only: this line --> |',
      '',
    ].join('\n');
    expect(withoutRepositoryOnly(page)).toBe(
      ['Run `npm test` (needs redis).', '', '| file | what |', '| `a.test.ts` | a |', ''].join('\n'),
    );
    expect(() => withoutRepositoryOnly('a <!-- repository only --> b', 'gateway/README.md')).toThrow(
      /^gateway\/README\.md: a "<!-- repository only -->" without its "<!-- \/repository only -->"/,
    );
  });
});

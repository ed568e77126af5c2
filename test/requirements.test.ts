import { describe, it, expect } from 'vitest';
import { BUILD_ORDER, normalizeName, orderRequirements } from '../src/lib/requirements.js';

/** Join lines with `\n` and a final newline. */
const file = (...lines: string[]): string => `${lines.join('\n')}\n`;

/** Deterministic PRNG (mulberry32) so the shuffled inputs are the same on every run. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function shuffle<T>(items: readonly T[], random: () => number): T[] {
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

const hash = (seed: string): string => `--hash=sha256:${seed.repeat(64).slice(0, 64)}`;

describe('normalizeName', () => {
  it('lowercases and collapses runs of - _ . (PEP 503)', () => {
    expect(normalizeName('Scikit_Learn')).toBe('scikit-learn');
    expect(normalizeName('scikit.learn')).toBe('scikit-learn');
    expect(normalizeName('Foo__Bar-.-baz')).toBe('foo-bar-baz');
    expect(normalizeName('NumPy')).toBe('numpy');
    expect(normalizeName('zope.interface')).toBe('zope-interface');
  });
});

describe('BUILD_ORDER', () => {
  it('is keyed and valued by normalized names', () => {
    for (const [name, deps] of Object.entries(BUILD_ORDER)) {
      expect(normalizeName(name)).toBe(name);
      for (const dep of deps) expect(normalizeName(dep)).toBe(dep);
    }
  });

  it('encodes numpy -> scipy -> scikit-learn and has no cycle', () => {
    expect(BUILD_ORDER['scikit-learn']).toEqual(expect.arrayContaining(['numpy', 'scipy']));
    expect(BUILD_ORDER['scipy']).toContain('numpy');
    const visiting = new Set<string>();
    const acyclic = (name: string): boolean => {
      if (visiting.has(name)) return false;
      visiting.add(name);
      const ok = (BUILD_ORDER[name] ?? []).every(acyclic);
      visiting.delete(name);
      return ok;
    };
    for (const name of Object.keys(BUILD_ORDER)) expect(acyclic(name)).toBe(true);
  });
});

describe('orderRequirements', () => {
  it('fixes the pip freeze case by moving only scipy above scikit-learn', () => {
    const input = file('joblib==1.1.0', 'numpy==1.21.0', 'scikit-learn==1.0', 'scipy==1.7.0', 'threadpoolctl==3.0.0');
    const report = orderRequirements(input);
    expect(report.text).toBe(
      file('joblib==1.1.0', 'numpy==1.21.0', 'scipy==1.7.0', 'scikit-learn==1.0', 'threadpoolctl==3.0.0'),
    );
    expect(report.changed).toBe(true);
    expect(report.moved).toEqual([{ name: 'scipy', from: 4, to: 3 }]);
  });

  it('returns an already ordered file unchanged', () => {
    const input = file('numpy==1.21.0', 'scipy==1.7.0', 'scikit-learn==1.0');
    expect(orderRequirements(input)).toEqual({ text: input, moved: [], changed: false });
  });

  it('hoists each dependency only to just before the first line that needs it', () => {
    const input = file(
      'flask==2.0',
      'scikit-learn==1.0',
      'gunicorn==20.1',
      'scipy==1.7.0',
      'requests==2.26',
      'numpy==1.21.0',
    );
    const report = orderRequirements(input);
    expect(report.text).toBe(
      file('flask==2.0', 'numpy==1.21.0', 'scipy==1.7.0', 'scikit-learn==1.0', 'gunicorn==20.1', 'requests==2.26'),
    );
    expect(report.moved).toEqual([
      { name: 'numpy', from: 6, to: 2 },
      { name: 'scipy', from: 4, to: 3 },
    ]);
  });

  it('orders Cython, numpy, pandas, matplotlib and statsmodels', () => {
    const input = file(
      'matplotlib==3.4.3',
      'numpy==1.21.0',
      'pandas==1.3.0',
      'statsmodels==0.13.0',
      'Cython==0.29.24',
      'scipy==1.7.0',
    );
    const report = orderRequirements(input);
    expect(report.text).toBe(
      file(
        'Cython==0.29.24',
        'numpy==1.21.0',
        'matplotlib==3.4.3',
        'pandas==1.3.0',
        'scipy==1.7.0',
        'statsmodels==0.13.0',
      ),
    );
  });

  it('leaves unknown packages untouched', () => {
    const input = file(
      'zipp==3.6.0',
      'Flask==2.0.1',
      'alembic==1.7',
      'gunicorn==20.1.0',
      'joblib==1.1.0',
      'threadpoolctl==3.0.0',
    );
    expect(orderRequirements(input)).toEqual({ text: input, moved: [], changed: false });
  });

  it('keeps blank lines and free-standing comments in place and moves attached comments', () => {
    const input = file(
      '# Model serving',
      '',
      'flask==2.0.1',
      '',
      '# the model',
      'scikit-learn==1.0  # sklearn',
      '# scipy must be pinned with numpy',
      '# (see issue 12)',
      'scipy==1.7.0',
      '',
      'numpy==1.21.0',
    );
    const report = orderRequirements(input);
    expect(report.text).toBe(
      file(
        '# Model serving',
        '',
        'flask==2.0.1',
        '',
        'numpy==1.21.0',
        '# scipy must be pinned with numpy',
        '# (see issue 12)',
        'scipy==1.7.0',
        '# the model',
        'scikit-learn==1.0  # sklearn',
        '',
      ),
    );
    expect(report.moved).toEqual([
      { name: 'numpy', from: 11, to: 5 },
      { name: 'scipy', from: 9, to: 8 },
    ]);
  });

  it('keeps environment markers, inline comments and extras byte for byte', () => {
    const input = file(
      'numpy==1.21.0 ; python_version < "3.12"',
      'scikit-learn[alldeps]>=1.0,<2; python_version >= "3.8" and sys_platform != "win32"  # model',
      'scipy[test] (>=1.7)',
      'numpy==1.26.4; python_version >= "3.12"',
    );
    const report = orderRequirements(input);
    expect(report.text).toBe(
      file(
        'numpy==1.21.0 ; python_version < "3.12"',
        'scipy[test] (>=1.7)',
        'scikit-learn[alldeps]>=1.0,<2; python_version >= "3.8" and sys_platform != "win32"  # model',
        'numpy==1.26.4; python_version >= "3.12"',
      ),
    );
    expect(report.moved).toEqual([{ name: 'scipy', from: 3, to: 2 }]);
  });

  it('keeps hashed requirements with continuation lines and pip-compile annotations together', () => {
    const header = [
      '#',
      '# This file is autogenerated by pip-compile with Python 3.8',
      '# by the following command:',
      '#',
      '#    pip-compile --generate-hashes requirements.in',
      '#',
      '--index-url https://pypi.example.invalid/simple',
      '',
    ];
    const joblib = ['joblib==1.1.0 \\', `    ${hash('a1')} \\`, `    ${hash('a2')}`, '    # via scikit-learn'];
    const numpy = [
      'numpy==1.21.0 \\',
      `    ${hash('b1')} \\`,
      `    ${hash('b2')}`,
      '    # via',
      '    #   -r requirements.in',
      '    #   scikit-learn',
      '    #   scipy',
    ];
    const sklearn = ['scikit-learn==1.0 \\', `    ${hash('c1')}`, '    # via -r requirements.in'];
    const scipy = ['scipy==1.7.0 \\', `    ${hash('d1')} \\`, `    ${hash('d2')}`, '    # via scikit-learn'];
    const threadpoolctl = ['threadpoolctl==3.0.0 \\', `    ${hash('e1')}`, '    # via scikit-learn'];
    const input = file(...header, ...joblib, ...numpy, ...sklearn, ...scipy, ...threadpoolctl);
    const report = orderRequirements(input);
    expect(report.text).toBe(file(...header, ...joblib, ...numpy, ...scipy, ...sklearn, ...threadpoolctl));
    const scipyFrom = header.length + joblib.length + numpy.length + sklearn.length + 1;
    expect(report.moved).toEqual([{ name: 'scipy', from: scipyFrom, to: scipyFrom - sklearn.length }]);
    expect(orderRequirements(report.text).changed).toBe(false);
  });

  it('keeps pip-compile "# via" lines (no hashes) with the requirement above them', () => {
    const input = file(
      '-e file:vendor/mylib',
      '    # via -r requirements.in',
      'scikit-learn==1.0',
      '    # via -r requirements.in',
      'scipy==1.7.0',
      '    # via',
      '    #   -r requirements.in',
      '    #   scikit-learn',
      '',
      '# The following packages are considered to be unsafe in a requirements file:',
      '# setuptools',
    );
    const report = orderRequirements(input);
    expect(report.text).toBe(
      file(
        '-e file:vendor/mylib',
        '    # via -r requirements.in',
        'scipy==1.7.0',
        '    # via',
        '    #   -r requirements.in',
        '    #   scikit-learn',
        'scikit-learn==1.0',
        '    # via -r requirements.in',
        '',
        '# The following packages are considered to be unsafe in a requirements file:',
        '# setuptools',
      ),
    );
    expect(report.moved).toEqual([{ name: 'scipy', from: 5, to: 3 }]);
  });

  it('keeps -r, -c and index options where they are, before the requirements', () => {
    const input = file(
      '--index-url https://pypi.example.invalid/simple',
      '--extra-index-url https://extra.example.invalid/simple',
      '-r base.txt',
      '-c constraints.txt',
      '--only-binary :all:',
      'scikit-learn==1.0',
      'scipy==1.7.0',
      '--find-links ./wheels',
      '--pre',
      'numpy==1.21.0',
    );
    const report = orderRequirements(input);
    const lines = report.text.split('\n');
    expect(lines.slice(0, 5)).toEqual(input.split('\n').slice(0, 5));
    expect(report.text).toBe(
      file(
        '--index-url https://pypi.example.invalid/simple',
        '--extra-index-url https://extra.example.invalid/simple',
        '-r base.txt',
        '-c constraints.txt',
        '--only-binary :all:',
        'numpy==1.21.0',
        'scipy==1.7.0',
        'scikit-learn==1.0',
        '--find-links ./wheels',
        '--pre',
      ),
    );
    // Option lines keep their relative order.
    const options = (text: string) => text.split('\n').filter((line) => line.startsWith('-'));
    expect(options(report.text)).toEqual(options(input));
  });

  it('leaves URL, path and editable requirements in place but reads PEP 508 direct references', () => {
    const input = file(
      'git+https://github.com/example/thing.git@v1#egg=thing',
      './vendor/local_pkg',
      'https://files.example.invalid/numpy-1.21.0.tar.gz',
      'some_wheel-1.0-py3-none-any.whl',
      '-e ../editable',
      'scikit-learn @ https://files.example.invalid/scikit_learn-1.0.tar.gz',
      'scipy@https://files.example.invalid/scipy-1.7.0.tar.gz',
    );
    const report = orderRequirements(input);
    expect(report.text).toBe(
      file(
        'git+https://github.com/example/thing.git@v1#egg=thing',
        './vendor/local_pkg',
        'https://files.example.invalid/numpy-1.21.0.tar.gz',
        'some_wheel-1.0-py3-none-any.whl',
        '-e ../editable',
        'scipy@https://files.example.invalid/scipy-1.7.0.tar.gz',
        'scikit-learn @ https://files.example.invalid/scikit_learn-1.0.tar.gz',
      ),
    );
    expect(report.moved).toEqual([{ name: 'scipy', from: 7, to: 6 }]);
  });

  it('preserves CRLF line endings', () => {
    const input = 'joblib==1.1.0\r\nnumpy==1.21.0\r\nscikit-learn==1.0\r\nscipy==1.7.0\r\nthreadpoolctl==3.0.0\r\n';
    const report = orderRequirements(input);
    expect(report.text).toBe(
      'joblib==1.1.0\r\nnumpy==1.21.0\r\nscipy==1.7.0\r\nscikit-learn==1.0\r\nthreadpoolctl==3.0.0\r\n',
    );
    expect(report.text.replace(/\r\n/g, '')).not.toMatch(/[\r\n]/);
  });

  it('preserves CRLF with hashed continuation lines', () => {
    const input = ['scikit-learn==1.0 \\', `    ${hash('c')}`, 'scipy==1.7.0 \\', `    ${hash('d')}`, ''].join('\r\n');
    const report = orderRequirements(input);
    expect(report.text).toBe(
      ['scipy==1.7.0 \\', `    ${hash('d')}`, 'scikit-learn==1.0 \\', `    ${hash('c')}`, ''].join('\r\n'),
    );
  });

  it('preserves a missing final newline when the last line moves', () => {
    const report = orderRequirements('scikit-learn==1.0\nscipy==1.7.0');
    expect(report.text).toBe('scipy==1.7.0\nscikit-learn==1.0');
    expect(report.moved).toEqual([{ name: 'scipy', from: 2, to: 1 }]);
    expect(orderRequirements('scikit-learn==1.0\r\nscipy==1.7.0').text).toBe('scipy==1.7.0\r\nscikit-learn==1.0');
  });

  it('preserves a missing final newline when another line moves', () => {
    expect(orderRequirements('scikit-learn==1.0\nscipy==1.7.0\nflask==2.0').text).toBe(
      'scipy==1.7.0\nscikit-learn==1.0\nflask==2.0',
    );
    const ordered = 'numpy==1.21.0\nscipy==1.7.0';
    expect(orderRequirements(ordered)).toEqual({ text: ordered, moved: [], changed: false });
  });

  it('compares names normalized, including the sklearn alias', () => {
    const input = file('Scikit_Learn==1.0', 'SciPy==1.7.0', 'NumPy==1.21.0');
    const report = orderRequirements(input);
    expect(report.text).toBe(file('NumPy==1.21.0', 'SciPy==1.7.0', 'Scikit_Learn==1.0'));
    expect(report.moved).toEqual([
      { name: 'NumPy', from: 3, to: 1 },
      { name: 'SciPy', from: 2, to: 2 },
    ]);
    expect(orderRequirements(file('sklearn==0.0', 'scipy==1.7.0')).text).toBe(file('scipy==1.7.0', 'sklearn==0.0'));
    expect(orderRequirements(file('scikit.learn', 'SCIPY')).text).toBe(file('SCIPY', 'scikit.learn'));
  });

  it('keeps duplicate lines and orders by the first occurrence', () => {
    const input = file('scikit-learn==1.0', 'scipy==1.7.0', 'flask==2.0', 'scipy==1.7.1', 'scikit-learn==1.0');
    const report = orderRequirements(input);
    expect(report.text).toBe(
      file('scipy==1.7.0', 'scikit-learn==1.0', 'flask==2.0', 'scipy==1.7.1', 'scikit-learn==1.0'),
    );
    expect(report.moved).toEqual([{ name: 'scipy', from: 2, to: 1 }]);
    expect(orderRequirements(report.text).changed).toBe(false);
  });

  it('does not throw on a dependency cycle and keeps the cycle in input order', () => {
    const table = { a: ['b'], b: ['a'], c: ['a'] };
    const input = file('c', 'b', 'a');
    const report = orderRequirements(input, table);
    // a and b need each other: that edge is ignored. c still needs a.
    expect(report.text).toBe(file('a', 'c', 'b'));
    expect(orderRequirements(report.text, table).changed).toBe(false);
    expect(orderRequirements(file('b', 'a'), table)).toEqual({ text: file('b', 'a'), moved: [], changed: false });
  });

  it('does not treat a whole-line comment ending in a backslash as a continuation', () => {
    const input = file('# see below \\', 'scikit-learn==1.0', 'scipy==1.7.0');
    expect(orderRequirements(input).text).toBe(file('scipy==1.7.0', '# see below \\', 'scikit-learn==1.0'));
  });

  it('handles empty and odd input without throwing', () => {
    for (const text of ['', '\n', '\r\n\r\n', '   ', '#', '\\', '!!!', 'scikit-learn==1.0 \\']) {
      expect(orderRequirements(text)).toEqual({ text, moved: [], changed: false });
    }
    // A byte order mark does not hide the first requirement's name, and stays at the start.
    expect(orderRequirements('\uFEFFscikit-learn==1.0\nscipy==1.7.0\n').text).toBe(
      '\uFEFFscipy==1.7.0\nscikit-learn==1.0\n',
    );
  });

  describe('on shuffled inputs', () => {
    const pieces = [
      'Cython==0.29.24',
      'numpy==1.21.0',
      'scipy==1.7.0 ; python_version < "3.12"',
      'scikit-learn[alldeps]==1.0',
      'pandas==1.3.0',
      'statsmodels==0.13.0',
      'matplotlib==3.4.3',
      'joblib==1.1.0',
      'threadpoolctl==3.0.0',
      'Flask==2.0.1',
      'gunicorn==20.1.0',
      `numpy==1.21.0 \\\n    ${hash('f')}\n    # via scipy`,
      '# a comment\nscipy==1.7.0',
      '',
      '# free comment',
      '-r base.txt',
    ];
    const known = new Set(['cython', 'numpy', 'scipy', 'scikit-learn', 'pandas', 'statsmodels', 'matplotlib']);
    const keyOf = (line: string): string | undefined => {
      const match = /^[A-Za-z0-9][A-Za-z0-9._-]*/.exec(line);
      return match && !line.startsWith(' ') ? normalizeName(match[0]) : undefined;
    };

    for (let seed = 1; seed <= 30; seed++) {
      it(`seed ${seed}: ordering twice equals ordering once, and constraints hold`, () => {
        const random = prng(seed);
        const input = shuffle(pieces, random).join('\n') + (seed % 3 === 0 ? '' : '\n');
        const once = orderRequirements(input);
        const twice = orderRequirements(once.text);
        expect(twice).toEqual({ text: once.text, moved: [], changed: false });

        const inLines = input.split('\n');
        const outLines = once.text.split('\n');
        // Same lines, nothing lost or duplicated.
        expect([...outLines].sort()).toEqual([...inLines].sort());
        // Requirements outside the table and option lines keep their relative order. (Comment
        // lines are not checked here: they may be attached to a requirement that moves.)
        const others = (lines: string[]) =>
          lines.filter((line) => line.startsWith('-') || (keyOf(line) !== undefined && !known.has(keyOf(line)!)));
        expect(others(outLines)).toEqual(others(inLines));
        // Every dependency's first occurrence precedes every dependant.
        const firstIndex = new Map<string, number>();
        outLines.forEach((line, index) => {
          const key = keyOf(line);
          if (key !== undefined && !firstIndex.has(key)) firstIndex.set(key, index);
        });
        outLines.forEach((line, index) => {
          const key = keyOf(line);
          for (const dep of (key && BUILD_ORDER[key]) || []) {
            const depIndex = firstIndex.get(dep);
            if (depIndex !== undefined) expect(depIndex).toBeLessThan(index);
          }
        });
        // Report is consistent with the text.
        expect(once.changed).toBe(once.text !== input);
        expect(once.moved.length > 0).toBe(once.changed);
        for (const move of once.moved) {
          expect(normalizeName(outLines[move.to - 1]!).startsWith(normalizeName(move.name))).toBe(true);
          expect(inLines[move.from - 1]).toBe(outLines[move.to - 1]);
        }
      });
    }
  });
});

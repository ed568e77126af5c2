import { describe, expect, it } from 'vitest';
import { formatHelp, unknownOptions, unknownOptionsMessage, type OptionSpec } from '../src/lib/options.js';

const declared: OptionSpec[] = [
  { name: 'help', alias: 'h', type: Boolean },
  { name: 'yes', alias: 'y', type: Boolean, description: 'Use the defaults' },
  { name: 'gateway', type: Boolean, description: 'Include the gateway' },
  { name: 'python-version', type: String, description: 'Python version' },
  { name: 'estimator', type: String, description: 'scikit-learn estimator' },
  { name: 'skip-cache', type: Boolean, description: "Yeoman's" },
  { name: 'interactive', type: Boolean, hide: true },
];

describe('options', () => {
  it('finds what the user typed that no option declares, as typed on the command line', () => {
    expect(
      unknownOptions(
        ['svc', '--yes', '--estimatr', 'ridge', '--python-version=3.12', '--no-gateway', '-y'],
        {},
        declared,
      ),
    ).toEqual(['--estimatr']);
    expect(unknownOptions(['-yq', '--colour=blue'], {}, declared)).toEqual(['-q', '--colour']);
    expect(unknownOptions(['--', '--anything'], {}, declared)).toEqual([]); // after --, arguments
  });

  it('finds them among options parsed beforehand (yo, tests), ignoring the keys Yeoman adds itself', () => {
    const yo = {
      yes: true,
      pythonVersion: '3.12',
      'python-version': '3.12',
      skipInstall: true,
      estimatr: 'ridge',
      env: {},
      sharedData: {},
      namespace: 'sci-eb:app',
      dryRun: true,
    };
    expect(unknownOptions([], yo, [...declared, { name: 'skip-install', type: Boolean }])).toEqual([
      '--estimatr',
      '--dry-run',
    ]);
  });

  it('says which option was meant, and where the list is', () => {
    expect(unknownOptionsMessage('app', ['--estimatr', '--colour'], declared)).toBe(
      'Unknown options; nothing was written:\n' +
        '  --estimatr: not an option of sci-eb app (did you mean --estimator?)\n' +
        '  --colour: not an option of sci-eb app\n' +
        'The options are listed by: sci-eb app --help',
    );
  });

  it("help: answers in question order with their defaults, then the generator's own options; hidden and Yeoman's unused ones left out", () => {
    const text = formatHelp('app', [{ name: 'name', required: false }], declared);
    expect(text).toMatch(/^Usage: sci-eb app \[name\] \[options\]\n {3}or: yo sci-eb \[name\] \[options\]\n/);
    expect(text).toMatch(/name +Project folder and model name .*\(default: sci-eb-model\)/);
    const options = text
      .split('Options:\n')[1]!
      .split('\n')
      .filter((l) => l.startsWith('  '))
      .map((l) =>
        l
          .trim()
          .split(/\s+/)
          .find((w) => w.startsWith('--')),
      );
    expect(options).toEqual(['--estimator', '--python-version', '--gateway', '--yes', '--help']);
    expect(text).toMatch(/--python-version <value> +.*\(default: 3\.11 \(3\.6 on amazon-linux-ami\)\)/);
    expect(text).toMatch(/--gateway +Include the gateway \(default: false\)/);
    expect(text).not.toMatch(/skip-cache|interactive/);
  });
});

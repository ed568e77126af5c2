import { describe, expect, it } from 'vitest';
import { defaultAnswers, formatProblems, resolveAnswers, validateAnswer } from '../src/lib/answers.js';

const problemsOf = (given: Record<string, unknown>) => {
  const r = resolveAnswers(given);
  if (r.ok) throw new Error('expected problems');
  return r.problems;
};

describe('answers', () => {
  it('defaults alone are a valid al2023 iris random forest project', () => {
    const r = resolveAnswers({});
    expect(r.ok).toBe(true);
    if (r.ok) {
      expect(r.answers).toMatchObject({ platform: 'al2023', pythonVersion: '3.11', architecture: 'x86_64', instanceType: 't3.small', dataset: 'iris', estimator: 'random_forest', envName: 'sci-eb-model-env' });
    }
  });

  it('derives defaults from the answers given: arm64 gets a Graviton type, legacy gets Python 3.6 and t2.small, diabetes gets regression', () => {
    expect(defaultAnswers({ architecture: 'arm64' }).instanceType).toBe('t4g.small');
    expect(defaultAnswers({ platform: 'amazon-linux-ami' })).toMatchObject({ pythonVersion: '3.6', instanceType: 't2.small' });
    expect(defaultAnswers({ dataset: 'diabetes' }).task).toBe('regression');
    expect(defaultAnswers({ name: 'a-very-long-project-name-that-goes-on-and-on' }).envName.length).toBeLessThanOrEqual(40);
  });

  it('coerces option strings: numbers, booleans, python versions', () => {
    const r = resolveAnswers({ workers: '3', gateway: 'yes', minInstances: '2', maxInstances: '6', pythonVersion: 3.12 });
    expect(r.ok && r.answers).toMatchObject({ workers: 3, gateway: true, minInstances: 2, maxInstances: 6, pythonVersion: '3.12' });
  });

  const rules: Array<[string, Record<string, unknown>, string, RegExp]> = [
    ['EB environment name too short', { envName: 'ab' }, 'env-name', /4 to 40/],
    ['EB environment name with a trailing hyphen', { envName: 'my-env-' }, 'env-name', /hyphen/],
    ['EB environment name with an underscore', { envName: 'my_env' }, 'env-name', /letters, digits or hyphens/],
    ['EB application name with a slash', { appName: 'team/model' }, 'app-name', /"\/"/],
    ['EB application name over 100 characters', { appName: 'x'.repeat(101) }, 'app-name', /100/],
    ['unknown region', { region: 'us-east-9' }, 'region', /AWS region/],
    ['Python version the platform lacks', { pythonVersion: '3.9' }, 'python-version', /3\.11, 3\.12, 3\.13/],
    ['Python 3.11 on the legacy platform', { platform: 'amazon-linux-ami', pythonVersion: '3.11' }, 'python-version', /3\.6/],
    ['arm64 on the legacy platform', { platform: 'amazon-linux-ami', architecture: 'arm64', instanceType: 't4g.small' }, 'architecture', /not available/],
    ['x86 instance type for arm64', { architecture: 'arm64', instanceType: 't3.small' }, 'instance-type', /Graviton/],
    ['Graviton instance type for x86_64', { instanceType: 'm7g.large' }, 'instance-type', /arm64 instance type/],
    ['not an instance type', { instanceType: 'large' }, 'instance-type', /t3\.small/],
    ['min above max instances', { minInstances: 5, maxInstances: 2 }, 'max-instances', /at least/],
    ['scale-down above scale-up', { scaleUpThreshold: 40, scaleDownThreshold: 60 }, 'scale-down-threshold', /below/],
    ['CPU threshold above 100', { scaleUpThreshold: 150 }, 'scale-up-threshold', /100/],
    ['regression estimator for classification', { estimator: 'ridge' }, 'estimator', /not a classification estimator/],
    ['classification dataset for regression', { task: 'regression', dataset: 'iris', estimator: 'ridge' }, 'dataset', /classification dataset/],
    ['csv without a path or target', { dataset: 'csv' }, 'csv', /required/],
    ['csv file that is not .csv', { dataset: 'csv', csvPath: 'data.xlsx', targetColumn: 'y' }, 'csv', /\.csv/],
    ['health check under /v1/', { healthCheckPath: '/v1/health' }, 'health-check-path', /\/v1\//],
    ['health check without a slash', { healthCheckPath: 'health' }, 'health-check-path', /starting with/],
    ['zero workers', { workers: 0 }, 'workers', /./],
    ['project name with capitals', { name: 'MyModel' }, 'name', /lowercase/],
    ['unknown answer', { colour: 'blue' }, 'colour', /not an answer/],
  ];
  for (const [what, given, option, message] of rules) {
    it(`rejects ${what}, naming --${option}`, () => {
      const problems = problemsOf(given);
      expect(problems.map((p) => p.option)).toContain(option);
      expect(problems.find((p) => p.option === option)!.message).toMatch(message);
    });
  }

  it('reports every problem at once, each with the option that fixes it', () => {
    const problems = problemsOf({ envName: 'x', region: 'mars-1', workers: 99, estimator: 'ridge' });
    expect(problems.map((p) => p.option).sort()).toEqual(['env-name', 'estimator', 'region', 'workers']);
    const text = formatProblems(problems);
    expect(text).toMatch(/4 problems; nothing was written/);
    expect(text).toMatch(/--env-name: /);
  });

  it('validates one answer for a prompt', () => {
    expect(validateAnswer('envName', 'good-env')).toBe(true);
    expect(validateAnswer('envName', '-bad')).toMatch(/hyphen/);
    expect(validateAnswer('workers', '4')).toBe(true);
  });
});

// The EB files of generated projects (service and gateway) across the answer matrix, checked against EB's documented
// option catalogue (src/lib/eb-options.ts); the deployment policy answer; the gateway's EB CLI config and Node branch.
// Pure: answers -> plan -> rendered files, as the generator writes them, without Yeoman.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import semver from 'semver';
import YAML from 'yaml';
import { describe, expect, it } from 'vitest';
import { resolveAnswers, type Answers } from '../src/lib/answers.js';
import { DEPLOYMENT_POLICIES } from '../src/lib/deployment.js';
import { EB_OPTIONS, checkOption, checkOptionSettings } from '../src/lib/eb-options.js';
import { planProject, renderPlan } from '../src/lib/plan.js';
import { GATEWAY_NODE_BRANCH, NODE_BRANCHES } from '../src/lib/platforms.js';
import { ROOT } from './helpers.js';

function answers(given: Record<string, unknown>): Answers {
  const r = resolveAnswers(given);
  if (!r.ok) throw new Error(JSON.stringify(r.problems));
  return r.answers;
}

const render = (a: Answers) =>
  Object.fromEntries(
    renderPlan(a, planProject(a), { generatorVersion: '0.0.0-test' }).map((f) => [f.path, f.content.toString('utf8')]),
  );
const ebFiles = (files: Record<string, string>) =>
  Object.keys(files).filter((f) => /(^|\/)\.ebextensions\/[^/]+\.config$/.test(f));

const MATRIX: Array<Record<string, unknown>> = [
  { gateway: true },
  { environmentType: 'single-instance' },
  { environmentType: 'single-instance', deploymentPolicy: 'Immutable', gateway: true },
  ...DEPLOYMENT_POLICIES.map((deploymentPolicy) => ({ deploymentPolicy, minInstances: 2, maxInstances: 6 })),
  { minInstances: 3, maxInstances: 3, scalingMetric: 'Latency', scaleUpThreshold: 2, scaleDownThreshold: 0.5 },
  { pythonVersion: '3.14', architecture: 'arm64', instanceType: 'm7g.large', healthCheckPath: '/healthz' },
  { platform: 'amazon-linux-ami', gateway: true },
];

describe('every option in every generated EB file is one EB documents, with a value EB accepts', () => {
  for (const given of MATRIX) {
    it(JSON.stringify(given), () => {
      const files = render(answers(given));
      const checked = ebFiles(files);
      expect(checked).toContain('.ebextensions/02_flask.config');
      if (given.gateway) expect(checked).toContain('gateway/.ebextensions/01-gateway.config');
      for (const file of checked) expect(checkOptionSettings(YAML.parse(files[file]!)), file).toEqual([]);
    });
  }

  it('the check does find what EB would ignore or refuse', () => {
    expect(checkOption('aws:elasticbeanstalk:command', 'DeploymentPolicy', 'Immutible')).toEqual([
      expect.stringMatching(/EB accepts AllAtOnce, Rolling/),
    ]);
    expect(checkOption('aws:elasticbeanstalk:command', 'DeploymentPolicyy', 'Immutable')).toEqual([
      expect.stringMatching(/has no option DeploymentPolicyy/),
    ]);
    expect(checkOption('aws:elasticbeanstalk:comand', 'DeploymentPolicy', 'Immutable')).toEqual([
      expect.stringMatching(/not a namespace/),
    ]);
    expect(checkOption('aws:elasticbeanstalk:trafficsplitting', 'EvaluationTime', 2)).toEqual([
      expect.stringMatching(/from 3 to 600/),
    ]);
    expect(checkOption('aws:elasticbeanstalk:command', 'IgnoreHealthCheck', 'no')).toEqual([
      expect.stringMatching(/true or false/),
    ]);
    expect(checkOption('aws:elasticbeanstalk:cloudwatch:logs', 'RetentionInDays', 8)).not.toEqual([]);
    // eb create's own value wins over .ebextensions: a file saying otherwise would claim what does not happen.
    expect(checkOption('aws:autoscaling:updatepolicy:rollingupdate', 'RollingUpdateType', 'Immutable')).toEqual([
      expect.stringMatching(/eb create sets Health/),
    ]);
    expect(
      checkOptionSettings({
        option_settings: [
          { option_name: 'ANY_VAR', value: 'x' },
          { namespace: 'aws:autoscaling:asg', option_name: 'MinSize', value: 0 },
        ],
      }),
    ).toEqual([expect.objectContaining({ option: 'MinSize' })]);
  });

  it('every catalogue entry names the EB documentation page it comes from', () => {
    for (const o of EB_OPTIONS)
      expect(o.source, `${o.namespace} ${o.option}`).toMatch(
        /^https:\/\/docs\.aws\.amazon\.com\/elasticbeanstalk\/latest\/dg\/command-options-(general|specific)\.html#/,
      );
  });
});

describe('deployment policy', () => {
  const command = (given: Record<string, unknown>) =>
    YAML.parse(render(answers(given))['.ebextensions/02_flask.config']!).option_settings;

  it('load-balanced defaults to Immutable, health-gated; a single instance keeps AllAtOnce', () => {
    const lb = command({});
    expect(lb['aws:elasticbeanstalk:command']).toEqual({
      DeploymentPolicy: 'Immutable',
      IgnoreHealthCheck: false,
      Timeout: 1200,
    });
    expect(lb['aws:elasticbeanstalk:healthreporting:system']).toEqual({
      SystemType: 'enhanced',
      HealthCheckSuccessThreshold: 'Ok',
    });
    expect(lb['aws:elasticbeanstalk:environment:process:default']).toMatchObject({
      HealthCheckPath: '/health',
      MatcherHTTPCode: '200',
    });
    const single = command({ environmentType: 'single-instance' });
    expect(single['aws:elasticbeanstalk:command'].DeploymentPolicy).toBe('AllAtOnce');
    expect(single['aws:autoscaling:updatepolicy:rollingupdate']).toBeUndefined();
  });

  it('traffic splitting adds its canary; rolling policies their batches', () => {
    expect(command({ deploymentPolicy: 'TrafficSplitting' })['aws:elasticbeanstalk:trafficsplitting']).toEqual({
      NewVersionPercent: 10,
      EvaluationTime: 10,
    });
    expect(command({ deploymentPolicy: 'RollingWithAdditionalBatch' })['aws:elasticbeanstalk:command']).toMatchObject({
      BatchSizeType: 'Percentage',
      BatchSize: 30,
    });
    expect(command({ deploymentPolicy: 'Immutable' })['aws:elasticbeanstalk:trafficsplitting']).toBeUndefined();
  });

  it('a policy a single instance cannot have is refused, saying what fits', () => {
    const r = resolveAnswers({ environmentType: 'single-instance', deploymentPolicy: 'TrafficSplitting' });
    expect(r.ok).toBe(false);
    if (!r.ok)
      expect(r.problems).toEqual([
        expect.objectContaining({
          option: 'deployment-policy',
          message: expect.stringMatching(
            /TrafficSplitting is not a policy EB allows on a single instance .*use one of Immutable, AllAtOnce/,
          ),
        }),
      ]);
  });
});

describe('the gateway as its own EB project', () => {
  it('has an EB CLI config for the same application and region, its own environment, on the chosen Node.js branch', () => {
    const files = render(
      answers({
        gateway: true,
        appName: 'Iris Service',
        region: 'eu-west-1',
        envName: 'a-very-long-environment-name-of-forty-ch',
      }),
    );
    const service = YAML.parse(files['.elasticbeanstalk/config.yml']!);
    const gateway = YAML.parse(files['gateway/.elasticbeanstalk/config.yml']!);
    expect(gateway.global).toMatchObject({
      application_name: 'Iris Service',
      default_region: 'eu-west-1',
      default_platform: 'Node.js 24 running on 64bit Amazon Linux 2023',
    });
    const env = gateway['branch-defaults'].default.environment;
    expect(env).not.toBe(service['branch-defaults'].default.environment);
    expect(env).toMatch(/^[A-Za-z0-9][A-Za-z0-9-]{2,38}[A-Za-z0-9]$/); // EB's environment name rule
    expect(files['gateway.mk']).toContain(`GATEWAY_ENV_NAME ?= ${env}`);
  });

  it("runs on a branch whose Node.js is supported on 2026-12-01, and its engines admit that Node and this machine's", () => {
    const decided = '2026-12-01';
    expect(NODE_BRANCHES).toContain(GATEWAY_NODE_BRANCH);
    expect(
      GATEWAY_NODE_BRANCH.nodeEndOfLife > decided &&
        !(GATEWAY_NODE_BRANCH.ebRetirement && GATEWAY_NODE_BRANCH.ebRetirement <= decided),
    ).toBe(true);
    // No supported branch outlives the chosen one.
    for (const b of NODE_BRANCHES)
      expect(b.nodeEndOfLife <= GATEWAY_NODE_BRANCH.nodeEndOfLife, b.branchName).toBe(true);
    const engines = JSON.parse(readFileSync(path.join(ROOT, 'gateway', 'package.json'), 'utf8')).engines.node;
    // EB takes engines only within the branch's major: the range must admit it.
    expect(semver.satisfies(`${GATEWAY_NODE_BRANCH.major}.0.0`, engines)).toBe(true);
    expect(semver.satisfies(process.versions.node, engines)).toBe(true);
  });
});

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
import { transportWarnings } from '../src/lib/install.js';
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

const CERT = 'arn:aws:acm:us-east-1:123456789012:certificate/0a1b2c3d-4e5f-6789-abcd-ef0123456789';
const VPC = {
  vpcId: 'vpc-0a1b2c3d4e5f67890',
  serviceSubnets: 'subnet-0000000000000000a,subnet-0000000000000000b',
  gatewaySubnets: 'subnet-0000000000000000c,subnet-0000000000000000d',
  gatewaySecurityGroup: 'sg-0a1b2c3d4e5f67890',
};

const MATRIX: Array<Record<string, unknown>> = [
  { gateway: true },
  { environmentType: 'single-instance' },
  { environmentType: 'single-instance', deploymentPolicy: 'Immutable', gateway: true },
  ...DEPLOYMENT_POLICIES.map((deploymentPolicy) => ({ deploymentPolicy, minInstances: 2, maxInstances: 6 })),
  { minInstances: 3, maxInstances: 3, scalingMetric: 'Latency', scaleUpThreshold: 2, scaleDownThreshold: 0.5 },
  { pythonVersion: '3.14', architecture: 'arm64', instanceType: 'm7g.large', healthCheckPath: '/healthz' },
  { platform: 'amazon-linux-ami', gateway: true },
  { certificateArn: CERT, domain: 'model.example.com' },
  { gateway: true, certificateArn: CERT, domain: 'api.example.com', serviceDomain: 'model.example.com' },
  { gateway: true, ...VPC, certificateArn: CERT, domain: 'api.example.com' },
  { gateway: true, ...VPC, gatewaySecurityGroup: undefined },
];

describe('every option in every generated EB file is one EB documents, with a value EB accepts', () => {
  for (const given of MATRIX) {
    it(JSON.stringify(given).replace(/arn:aws:acm:[^"]+/, 'arn:...'), () => {
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

describe('one public door and HTTPS, as EB configuration', () => {
  const config = (files: Record<string, string>, file: string) => YAML.parse(files[file]!);
  const REDIRECT = {
    Type: 'AWS::ElasticLoadBalancingV2::Listener',
    Properties: {
      LoadBalancerArn: { Ref: 'AWSEBV2LoadBalancer' },
      Port: 80,
      Protocol: 'HTTP',
      DefaultActions: [
        {
          Type: 'redirect',
          RedirectConfig: {
            Host: '#{host}',
            Path: '/#{path}',
            Port: '443',
            Protocol: 'HTTPS',
            Query: '#{query}',
            StatusCode: 'HTTP_301',
          },
        },
      ],
    },
  };
  const HTTPS = {
    Protocol: 'HTTPS',
    SSLCertificateArns: CERT,
    SSLPolicy: 'ELBSecurityPolicy-TLS13-1-2-2021-06',
  };

  it('with a gateway the service answers it only; without a certificate every listener is plain HTTP', () => {
    const files = render(answers({ gateway: true }));
    const service = config(files, '.ebextensions/02_flask.config');
    expect(service.option_settings['aws:elasticbeanstalk:application:environment']).toEqual({
      MODEL_DIR: 'model',
      GATEWAY_ONLY: 'true',
    });
    expect(service.option_settings['aws:elbv2:listener:443']).toBeUndefined();
    expect(service.Resources).toBeUndefined();
    expect(files['gateway/.ebextensions/02-network.config']).toBeUndefined();
    const alone = config(render(answers({})), '.ebextensions/02_flask.config');
    expect(alone.option_settings['aws:elasticbeanstalk:application:environment']).toEqual({ MODEL_DIR: 'model' });
  });

  it('a certificate: 443 with a TLS 1.2+ policy, port 80 redirected, HSTS, on the service without a gateway', () => {
    const service = config(
      render(answers({ certificateArn: CERT, domain: 'model.example.com' })),
      '.ebextensions/02_flask.config',
    );
    expect(service.option_settings['aws:elbv2:listener:443']).toEqual(HTTPS);
    expect(service.Resources).toEqual({ AWSEBV2LoadBalancerListener: REDIRECT });
    expect(service.option_settings['aws:elasticbeanstalk:application:environment'].HSTS_MAX_AGE).toBe('31536000');
  });

  it('a gateway and a certificate without a VPC: both public doors HTTPS; the gateway reaches the service at its HTTPS name', () => {
    const files = render(
      answers({ gateway: true, certificateArn: CERT, domain: 'api.example.com', serviceDomain: 'model.example.com' }),
    );
    for (const file of ['.ebextensions/02_flask.config', 'gateway/.ebextensions/02-network.config']) {
      expect(config(files, file).option_settings['aws:elbv2:listener:443'], file).toEqual(HTTPS);
      expect(config(files, file).Resources, file).toEqual({ AWSEBV2LoadBalancerListener: REDIRECT });
    }
    expect(files['gateway.mk']).toMatch(/^SERVICE_URL_BASE \?= https:\/\/model\.example\.com$/m);
  });

  it("a gateway in a VPC: the service internal, admitting only the gateway's security group; HTTPS on the gateway only", () => {
    const files = render(answers({ gateway: true, ...VPC, certificateArn: CERT, domain: 'api.example.com' }));
    const service = config(files, '.ebextensions/02_flask.config');
    expect(service.option_settings['aws:ec2:vpc']).toEqual({
      VPCId: VPC.vpcId,
      Subnets: VPC.serviceSubnets,
      ELBSubnets: VPC.serviceSubnets,
      ELBScheme: 'internal',
    });
    const ref = '`{ "Ref" : "ServiceLoadBalancerSecurityGroup" }`';
    expect(service.option_settings['aws:elbv2:loadbalancer']).toEqual({
      SecurityGroups: ref,
      ManagedSecurityGroup: ref,
    });
    expect(service.Resources).toEqual({
      ServiceLoadBalancerSecurityGroup: {
        Type: 'AWS::EC2::SecurityGroup',
        Properties: {
          GroupDescription: expect.stringContaining("the gateway's instances only"),
          VpcId: VPC.vpcId,
          SecurityGroupIngress: [
            { IpProtocol: 'tcp', FromPort: 80, ToPort: 80, SourceSecurityGroupId: VPC.gatewaySecurityGroup },
          ],
        },
      },
    });
    expect(service.option_settings['aws:elbv2:listener:443']).toBeUndefined(); // internal: the VPC's network
    const gateway = config(files, 'gateway/.ebextensions/02-network.config');
    expect(gateway.option_settings['aws:ec2:vpc']).toEqual({
      VPCId: VPC.vpcId,
      Subnets: VPC.gatewaySubnets,
      ELBSubnets: VPC.gatewaySubnets,
      AssociatePublicIpAddress: true,
    });
    expect(gateway.option_settings['aws:autoscaling:launchconfiguration']).toEqual({
      SecurityGroups: VPC.gatewaySecurityGroup,
    });
    expect(gateway.option_settings['aws:elbv2:listener:443']).toEqual(HTTPS);
    expect(gateway.option_settings['aws:elasticbeanstalk:application:environment']).toEqual({
      HSTS_MAX_AGE: '31536000',
    });
    expect(files['gateway.mk']).toMatch(/^SERVICE_URL_BASE \?=$/m); // http://<internal CNAME>, from eb status
  });

  it('generation and make create say plainly when traffic is unencrypted, and how to fix it', () => {
    const plain = answers({ gateway: true });
    expect(transportWarnings(plain)).toEqual([
      expect.stringMatching(
        /^Warning: no certificate, so every public listener is plain HTTP: API keys and predictions cross the internet unencrypted\. Fix: sci-eb upgrade --set certificateArn=/,
      ),
      expect.stringMatching(
        /^Warning: the gateway calls the service over the internet in plain HTTP, its token included/,
      ),
    ]);
    expect(render(plain).Makefile).toMatch(
      /^create: .*\n\t@echo "warning: \$\(ENV_NAME\) will listen on plain HTTP: predictions cross the internet unencrypted\. Fix: sci-eb upgrade --set certificateArn=/m,
    );
    expect(render(plain)['gateway.mk']).toMatch(
      /^\t@echo "warning: no certificate \(--certificate-arn\): the gateway listens on plain HTTP/m,
    );
    expect(transportWarnings(answers({ environmentType: 'single-instance' }))).toEqual([
      expect.stringMatching(/single instance: no load balancer terminates HTTPS/),
    ]);
    const secured = answers({ gateway: true, ...VPC, certificateArn: CERT, domain: 'api.example.com' });
    expect(transportWarnings(secured)).toEqual([]);
    expect(render(secured).Makefile).not.toMatch(/plain HTTP/);
    expect(render(secured)['gateway.mk']).not.toMatch(/plain HTTP/);
  });

  it('refuses what cannot work, saying what fits', () => {
    const problems = (given: Record<string, unknown>) => {
      const r = resolveAnswers(given);
      return r.ok ? [] : r.problems.map((p) => `${p.option}: ${p.message}`);
    };
    expect(problems({ environmentType: 'single-instance', certificateArn: CERT, domain: 'a.example.com' })).toEqual([
      expect.stringMatching(/^certificate-arn: needs a load balancer to hold it, and a single instance has none/),
    ]);
    expect(problems({ certificateArn: CERT })).toEqual([
      expect.stringMatching(/^domain: is required with --certificate-arn/),
    ]);
    expect(problems({ region: 'eu-west-1', certificateArn: CERT, domain: 'a.example.com' })).toEqual([
      expect.stringMatching(/^certificate-arn: must be a certificate in eu-west-1/),
    ]);
    expect(problems({ gateway: true, certificateArn: CERT, domain: 'api.example.com' })).toEqual([
      expect.stringMatching(/^service-domain: is required with the gateway and --certificate-arn but no --vpc-id/),
    ]);
    expect(problems({ gateway: true, vpcId: VPC.vpcId })).toEqual([
      expect.stringMatching(/^service-subnets: is required/),
      expect.stringMatching(/^gateway-subnets: is required/),
    ]);
    expect(problems({ vpcId: VPC.vpcId, serviceSubnets: VPC.serviceSubnets })).toEqual([
      expect.stringMatching(/^vpc-id: makes the service's load balancer internal for its gateway/),
    ]);
    expect(problems({ gateway: true, ...VPC, serviceSubnets: 'subnet-0000000000000000a' })).toEqual([
      expect.stringMatching(/^service-subnets: must be two or more subnet ids/),
    ]);
    expect(problems({ certificateArn: 'arn:aws:iam::123:server-certificate/x', domain: 'a.example.com' })).toEqual([
      expect.stringMatching(/^certificate-arn: must be an ACM certificate ARN/),
    ]);
  });
});

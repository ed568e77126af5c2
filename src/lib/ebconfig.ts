/**
 * Elastic Beanstalk configuration files, built as data from the answers and the platform facts, emitted with a YAML
 * library (never string-concatenated), so every file parses and every value is quoted as YAML needs.
 */
import YAML from 'yaml';
import type { Answers } from './answers.js';
import { deploymentOptions } from './deployment.js';
import { GATEWAY_NODE_BRANCH, PLATFORMS, SCALING_METRICS } from './platforms.js';

export const MANAGED_HEADER =
  'Managed by generator-sci-eb: edit freely, `yo sci-eb:upgrade` merges your edits with new versions.';

export function toYaml(data: unknown, comment?: string): string {
  const doc = new YAML.Document(data);
  if (comment) doc.commentBefore = ` ${comment}`;
  return doc.toString({ lineWidth: 0 });
}

/** Limits shared by train.py (written into schema.json), nginx and the docs. */
export const LIMITS = { maxRows: 1000, maxBodyBytes: 1_048_576 } as const;

/** The seed's yum list: compilers and BLAS/LAPACK so numpy/scipy/scikit-learn build from source (legacy only). */
export function yumInstallConfig(a: Answers): string {
  const packages = Object.fromEntries(PLATFORMS[a.platform].yumPackages.map((p) => [p, []]));
  return toYaml(
    { packages: { yum: packages } },
    `${MANAGED_HEADER}\n Compilers and BLAS/LAPACK for source builds of numpy, scipy and scikit-learn on the legacy Amazon Linux AMI.`,
  );
}

/** Environment options: instances, scaling, health checks, logs, and the app's environment variables. */
export function flaskConfig(a: Answers): string {
  const platform = PLATFORMS[a.platform];
  const loadBalanced = a.environmentType === 'load-balanced';
  const options: Record<string, Record<string, unknown>> = {};
  if (platform.server === 'mod_wsgi') {
    // Apache + mod_wsgi reads these; on AL2023 the Procfile replaces them (EB ignores them when a Procfile exists).
    options['aws:elasticbeanstalk:container:python'] = {
      WSGIPath: platform.wsgiPath,
      NumProcesses: a.workers,
      NumThreads: 4,
    };
    options['aws:autoscaling:launchconfiguration'] = { InstanceType: a.instanceType };
  } else {
    options['aws:ec2:instances'] = { InstanceTypes: a.instanceType, SupportedArchitectures: a.architecture };
  }
  // One public door: with a gateway, the service as deployed answers predictions and its schema only to the gateway's
  // X-Service-Token (SERVICE_TOKENS, set by `make gateway-create`, never here: serving/access.py).
  options['aws:elasticbeanstalk:application:environment'] = {
    MODEL_DIR: 'model',
    ...(a.gateway ? { GATEWAY_ONLY: 'true' } : {}),
    // Served over HTTPS: every answer says so (Strict-Transport-Security), so browsers never fall back to HTTP.
    ...(servesHttps(a, 'service') ? { HSTS_MAX_AGE: String(HSTS_MAX_AGE) } : {}),
  };
  options['aws:elasticbeanstalk:environment'] = loadBalanced
    ? { EnvironmentType: 'LoadBalanced', LoadBalancerType: 'application' }
    : { EnvironmentType: 'SingleInstance' };
  if (loadBalanced) {
    options['aws:autoscaling:asg'] = { MinSize: a.minInstances, MaxSize: a.maxInstances };
    options['aws:autoscaling:trigger'] = {
      MeasureName: a.scalingMetric,
      Statistic: 'Average',
      Unit: SCALING_METRICS[a.scalingMetric],
      UpperThreshold: a.scaleUpThreshold,
      LowerThreshold: a.scaleDownThreshold,
    };
    options['aws:elasticbeanstalk:environment:process:default'] = {
      HealthCheckPath: a.healthCheckPath,
      MatcherHTTPCode: '200',
    };
  }
  options['aws:elasticbeanstalk:application'] = { 'Application Healthcheck URL': a.healthCheckPath };
  options['aws:elasticbeanstalk:cloudwatch:logs'] = { StreamLogs: true, RetentionInDays: 7 };
  Object.assign(options, deploymentOptions(a));
  const resources: Record<string, unknown> = {};
  if (loadBalanced && a.vpcId) {
    // With a gateway the service's load balancer is internal: its name resolves to private addresses, so only what
    // runs in the VPC (the gateway) reaches it. Without one it serves the public, from the same subnets.
    options['aws:ec2:vpc'] = {
      VPCId: a.vpcId,
      Subnets: a.serviceSubnets,
      ELBSubnets: a.serviceSubnets,
      // Unset, EB's default is a load balancer facing the internet (the gateway's, below).
      ...(a.gateway ? { ELBScheme: 'internal' } : {}),
    };
    if (a.gateway && a.gatewaySecurityGroup) {
      // The load balancer's own security group, admitting the gateway's instances only (EB then lets this group,
      // and no other, reach the instances).
      Object.assign(resources, gatewayOnlySecurityGroup(a));
      options['aws:elbv2:loadbalancer'] = {
        SecurityGroups: SERVICE_LB_SG_REF,
        ManagedSecurityGroup: SERVICE_LB_SG_REF,
      };
    }
  }
  if (loadBalanced && servesHttps(a, 'service')) {
    Object.assign(options, httpsOptions(a));
    Object.assign(resources, httpToHttpsRedirect());
  }
  return toYaml(
    { option_settings: options, ...(Object.keys(resources).length ? { Resources: resources } : {}) },
    `${MANAGED_HEADER}\n Environment options for ${a.envName}: instances, scaling, health checks, logs, how deploys roll out (README: "Deploying a new model") and who reaches it how (README: "Security").`,
  );
}

/** A current TLS policy of ALBs: TLS 1.3 and 1.2 only, forward-secret ciphers (EB developer guide, configuring-https-elb). */
export const TLS_POLICY = 'ELBSecurityPolicy-TLS13-1-2-2021-06';
/** One year: what browsers expect before remembering the name as HTTPS-only. */
export const HSTS_MAX_AGE = 31_536_000;
const SERVICE_LB_SG = 'ServiceLoadBalancerSecurityGroup';
/** EB's syntax for an option whose value is a resource of the same configuration (configuring-https-endtoend). */
const SERVICE_LB_SG_REF = `\`{ "Ref" : "${SERVICE_LB_SG}" }\``;

/**
 * Which load balancers serve the public over HTTPS: every public one, once a certificate is given. The service's is
 * public unless it is internal behind a gateway in a VPC (then the gateway's is the only public door).
 */
export function servesHttps(a: Answers, which: 'service' | 'gateway'): boolean {
  if (!a.certificateArn || a.environmentType !== 'load-balanced') return false;
  return which === 'gateway' ? a.gateway : !(a.gateway && a.vpcId);
}

/** The 443 listener with the certificate and a current policy, and HSTS announced by the app on every answer. */
function httpsOptions(a: Answers): Record<string, Record<string, unknown>> {
  return {
    'aws:elbv2:listener:443': { Protocol: 'HTTPS', SSLCertificateArns: a.certificateArn, SSLPolicy: TLS_POLICY },
  };
}

/** AWS's sample (alb-http-to-https-redirection.config): the port-80 listener answers with a 301 to HTTPS. */
function httpToHttpsRedirect(): Record<string, unknown> {
  return {
    AWSEBV2LoadBalancerListener: {
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
    },
  };
}

function gatewayOnlySecurityGroup(a: Answers): Record<string, unknown> {
  return {
    [SERVICE_LB_SG]: {
      Type: 'AWS::EC2::SecurityGroup',
      Properties: {
        GroupDescription: `${a.envName} load balancer: the gateway's instances only`,
        VpcId: a.vpcId,
        SecurityGroupIngress: [
          { IpProtocol: 'tcp', FromPort: 80, ToPort: 80, SourceSecurityGroupId: a.gatewaySecurityGroup },
        ],
      },
    },
  };
}

/**
 * The gateway's network and TLS options, beside its static 01-gateway.config: the same VPC (public subnets, so its
 * load balancer faces the internet), its instances in the security group the service admits, HTTPS.
 */
export function gatewayNetworkConfig(a: Answers): string {
  const options: Record<string, Record<string, unknown>> = {};
  const resources: Record<string, unknown> = {};
  if (a.vpcId) {
    options['aws:ec2:vpc'] = {
      VPCId: a.vpcId,
      Subnets: a.gatewaySubnets,
      ELBSubnets: a.gatewaySubnets,
      // Public subnets: instances need a public address to install packages (npm) without a NAT gateway.
      AssociatePublicIpAddress: true,
    };
    if (a.gatewaySecurityGroup)
      options['aws:autoscaling:launchconfiguration'] = { SecurityGroups: a.gatewaySecurityGroup };
  }
  if (servesHttps(a, 'gateway')) {
    Object.assign(options, httpsOptions(a));
    options['aws:elasticbeanstalk:application:environment'] = { HSTS_MAX_AGE: String(HSTS_MAX_AGE) };
    Object.assign(resources, httpToHttpsRedirect());
  }
  return toYaml(
    { option_settings: options, ...(Object.keys(resources).length ? { Resources: resources } : {}) },
    `${MANAGED_HEADER}\n The gateway's network and TLS, from the answers (README "Security"): ${a.vpcId ? `VPC ${a.vpcId}` : 'the default VPC'}, ${servesHttps(a, 'gateway') ? `HTTPS for ${a.domain}` : 'plain HTTP (no certificate given)'}.`,
  );
}

/**
 * mod_wsgi runs apps in sub-interpreters by default; numpy and scipy use the simplified GIL-state API, which only works
 * in the main interpreter, so requests deadlock. `WSGIApplicationGroup %{GLOBAL}` runs the app in the main interpreter.
 */
export function wsgiConfig(): string {
  return toYaml(
    {
      files: {
        '/etc/httpd/conf.d/wsgi_custom.conf': {
          mode: '000644',
          owner: 'root',
          group: 'root',
          content: 'WSGIApplicationGroup %{GLOBAL}\n',
        },
      },
    },
    `${MANAGED_HEADER}\n Run the app in mod_wsgi's main interpreter: numpy/scipy deadlock in sub-interpreters.`,
  );
}

/**
 * `.elasticbeanstalk/config.yml`, shaped as `eb init` writes it, so `eb create`/`eb deploy` work without `eb init`:
 * the service's in the project, the gateway's in gateway/ (the same application, its own environment and platform).
 */
function ebCliConfigFor(a: Answers, environment: string, platformBranch: string): string {
  const branch = { environment, group_suffix: null };
  return toYaml({
    // awsebcli looks up the environment under the current git branch, or `default` outside git.
    'branch-defaults': { default: branch, main: branch },
    global: {
      application_name: a.appName,
      branch: null,
      default_ec2_keyname: null,
      default_platform: platformBranch,
      default_region: a.region,
      include_git_submodules: true,
      instance_profile: null,
      platform_name: null,
      platform_version: null,
      profile: null,
      repository: null,
      sc: null,
      workspace_type: 'Application',
    },
  });
}

export const ebCliConfig = (a: Answers) =>
  ebCliConfigFor(a, a.envName, PLATFORMS[a.platform].branchName(a.pythonVersion));

/** The gateway's environment: the service's name with `-gw`, kept within EB's 40 characters. */
export const gatewayEnvName = (a: Answers) => `${a.envName.slice(0, 37).replace(/-+$/, '')}-gw`;

export const gatewayEbCliConfig = (a: Answers) => ebCliConfigFor(a, gatewayEnvName(a), GATEWAY_NODE_BRANCH.branchName);

/** The gunicorn command EB's AL2023 platform runs. Workers are processes (scikit-learn is CPU-bound and holds the GIL). */
export function procfileCommand(a: Answers): string {
  const port = PLATFORMS[a.platform].appPort;
  return [
    'gunicorn',
    // nginx on the same instance proxies to 127.0.0.1:8000 (EB's default); loopback keeps gunicorn off the network.
    `--bind 127.0.0.1:${port}`,
    `--workers ${a.workers}`,
    // One extra thread keeps health checks answered while a worker is busy with a large prediction.
    '--threads 2',
    // A hung worker is replaced after 30 s; nginx in front waits 60 s, so the client sees a clean 502, not a hang.
    '--timeout 30',
    '--graceful-timeout 30',
    // Longer than nginx's upstream keep-alive so the proxy, not gunicorn, closes idle connections (no reset races).
    '--keep-alive 75',
    // The app (and the model) load once in the master before the workers fork: a graceful reload (HUP) then swaps
    // workers without a gap, which measured 4-40 failed requests per reload at 100 req/s without it (npm run
    // reliability), and the workers share the model's pages.
    '--preload',
    // Its hooks: a worker stops once however many quit signals it gets (Ctrl-C sends SIGINT to every process and the
    // master adds SIGQUIT; gthread's handler re-entered deadlocked one stop in eight, until the master's SIGKILL).
    '--config python:serving.gunicorn_hooks',
    // No --access-logfile: the service logs each request once itself, with its request id, rows and duration.
    PLATFORMS[a.platform].wsgiPath,
  ].join(' ');
}

export function nginxBodySizeConf(): string {
  // Above the app's own limit, so oversized bodies reach Flask and get a problem+json 413 instead of nginx's HTML page.
  const megabytes = Math.ceil(LIMITS.maxBodyBytes / 1_048_576) + 1;
  return `# ${MANAGED_HEADER}\n# Flask enforces the real body limit (${LIMITS.maxBodyBytes} bytes) with a problem+json 413.\nclient_max_body_size ${megabytes}m;\n`;
}

/** The config builders files.json may name. */
export const BUILDERS = {
  procfile: (a: Answers) => `web: ${procfileCommand(a)}\n`,
  nginxBodySize: () => nginxBodySizeConf(),
  yumInstall: yumInstallConfig,
  flaskConfig,
  wsgiConfig: () => wsgiConfig(),
  ebCliConfig,
  gatewayEbCliConfig,
  gatewayNetworkConfig,
} as const;
export type BuilderName = keyof typeof BUILDERS;

/**
 * Elastic Beanstalk's option catalogue, for the namespaces generated files use: each option's name, the type of its
 * value and what EB accepts, with the page that says so. A test checks every option_settings entry of every
 * generated .ebextensions file (service and gateway) against it, so a misspelt option (which EB ignores silently)
 * or a value out of range (which fails the deploy) is caught here, not on AWS.
 *
 * Sources: the EB developer guide's option reference. The archived copy (awsdocs/aws-elastic-beanstalk-developer-guide
 * at 5d7c96f8, doc_source/command-options-general.md and command-options-specific.md) is what was read; the live
 * pages are given as the URL.
 */

const GENERAL = 'https://docs.aws.amazon.com/elasticbeanstalk/latest/dg/command-options-general.html';
const SPECIFIC = 'https://docs.aws.amazon.com/elasticbeanstalk/latest/dg/command-options-specific.html';

export type OptionValue =
  | { type: 'enum'; values: readonly string[] }
  | { type: 'integer'; min: number; max: number }
  | { type: 'number'; min: number; max: number }
  | { type: 'boolean' }
  | { type: 'string'; pattern: RegExp; describe: string };

export interface EbOption {
  namespace: string;
  /** `*` for a namespace whose option names are the user's (environment properties). */
  option: string;
  value: OptionValue;
  source: string;
  /**
   * What `eb create` sets itself at API level, which wins over .ebextensions ("recommended values"): a generated file
   * may only write this value, so it never claims a setting that does not apply.
   */
  ebCliSets?: string;
}

const enumOf = (...values: string[]): OptionValue => ({ type: 'enum', values });
const int = (min: number, max: number): OptionValue => ({ type: 'integer', min, max });
const bool: OptionValue = { type: 'boolean' };
const PATH: OptionValue = { type: 'string', pattern: /^\/[A-Za-z0-9._~/-]*$/, describe: 'a path starting with /' };
const SUBNET_LIST: OptionValue = {
  type: 'string',
  pattern: /^subnet-[0-9a-f]{8,17}(,subnet-[0-9a-f]{8,17})*$/,
  describe: 'comma-separated subnet ids',
};
const SECURITY_GROUPS: OptionValue = {
  type: 'string',
  pattern: /^(sg-[0-9a-f]{8,17}(,sg-[0-9a-f]{8,17})*|`\{ "Ref" : "[A-Za-z0-9]+" \}`)$/,
  describe: 'comma-separated security group ids, or a `{ "Ref" : "<resource>" }` of the same configuration',
};

export const EB_OPTIONS: readonly EbOption[] = [
  {
    namespace: 'aws:autoscaling:asg',
    option: 'MinSize',
    value: int(1, 10000),
    source: `${GENERAL}#command-options-general-autoscalingasg`,
  },
  {
    namespace: 'aws:autoscaling:asg',
    option: 'MaxSize',
    value: int(1, 10000),
    source: `${GENERAL}#command-options-general-autoscalingasg`,
  },
  {
    namespace: 'aws:autoscaling:launchconfiguration',
    option: 'InstanceType',
    source: `${GENERAL}#command-options-general-autoscalinglaunchconfiguration`,
    value: { type: 'string', pattern: /^[a-z][a-z0-9-]*\d[a-z0-9-]*\.[a-z0-9]+$/, describe: 'an EC2 instance type' },
  },
  ...(['MeasureName', 'Statistic', 'Unit', 'UpperThreshold', 'LowerThreshold'] as const).map(
    (option): EbOption => ({
      namespace: 'aws:autoscaling:trigger',
      option,
      source: `${GENERAL}#command-options-general-autoscalingtrigger`,
      value: (
        {
          MeasureName: enumOf(
            'CPUUtilization',
            'NetworkIn',
            'NetworkOut',
            'DiskWriteOps',
            'DiskReadBytes',
            'DiskReadOps',
            'DiskWriteBytes',
            'Latency',
            'RequestCount',
            'HealthyHostCount',
            'UnhealthyHostCount',
            'TargetResponseTime',
          ),
          Statistic: enumOf('Minimum', 'Maximum', 'Sum', 'Average'),
          Unit: enumOf(
            'Seconds',
            'Percent',
            'Bytes',
            'Bits',
            'Count',
            'Bytes/Second',
            'Bits/Second',
            'Count/Second',
            'None',
          ),
          UpperThreshold: { type: 'number', min: 0, max: 20_000_000 },
          LowerThreshold: { type: 'number', min: 0, max: 20_000_000 },
        } satisfies Record<string, OptionValue>
      )[option],
    }),
  ),
  {
    namespace: 'aws:autoscaling:updatepolicy:rollingupdate',
    option: 'RollingUpdateEnabled',
    value: bool,
    ebCliSets: 'true',
    source: `${GENERAL}#command-options-general-autoscalingupdatepolicyrollingupdate`,
  },
  {
    namespace: 'aws:autoscaling:updatepolicy:rollingupdate',
    option: 'RollingUpdateType',
    value: enumOf('Time', 'Health', 'Immutable'),
    ebCliSets: 'Health',
    source: `${GENERAL}#command-options-general-autoscalingupdatepolicyrollingupdate`,
  },
  {
    namespace: 'aws:autoscaling:updatepolicy:rollingupdate',
    option: 'MaxBatchSize',
    value: int(1, 10000),
    source: `${GENERAL}#command-options-general-autoscalingupdatepolicyrollingupdate`,
  },
  {
    namespace: 'aws:autoscaling:updatepolicy:rollingupdate',
    option: 'MinInstancesInService',
    value: int(0, 9999),
    source: `${GENERAL}#command-options-general-autoscalingupdatepolicyrollingupdate`,
  },
  {
    namespace: 'aws:ec2:instances',
    option: 'InstanceTypes',
    source: `${GENERAL}#command-options-general-ec2instances`,
    value: {
      type: 'string',
      pattern: /^[a-z][a-z0-9-]*\d[a-z0-9-]*\.[a-z0-9]+(,[a-z][a-z0-9-]*\d[a-z0-9-]*\.[a-z0-9]+){0,9}$/,
      describe: '1 to 10 comma-separated EC2 instance types',
    },
  },
  // The guide's example tables and the EB CLI name x86_64 and arm64 (i386 is not offered on current platforms).
  {
    namespace: 'aws:ec2:instances',
    option: 'SupportedArchitectures',
    value: enumOf('x86_64', 'arm64'),
    source: `${GENERAL}#command-options-general-ec2instances`,
  },
  {
    namespace: 'aws:elasticbeanstalk:application',
    option: 'Application Healthcheck URL',
    value: PATH,
    source: `${GENERAL}#command-options-general-elasticbeanstalkapplication`,
  },
  {
    namespace: 'aws:elasticbeanstalk:application:environment',
    option: '*',
    source: `${GENERAL}#command-options-general-elasticbeanstalkapplicationenvironment`,
    value: { type: 'string', pattern: /^[\s\S]{0,4096}$/, describe: 'any environment variable value' },
  },
  {
    namespace: 'aws:elasticbeanstalk:cloudwatch:logs',
    option: 'StreamLogs',
    value: bool,
    source: `${GENERAL}#command-options-general-cloudwatchlogs`,
  },
  {
    namespace: 'aws:elasticbeanstalk:cloudwatch:logs',
    option: 'DeleteOnTerminate',
    value: bool,
    source: `${GENERAL}#command-options-general-cloudwatchlogs`,
  },
  {
    namespace: 'aws:elasticbeanstalk:cloudwatch:logs',
    option: 'RetentionInDays',
    source: `${GENERAL}#command-options-general-cloudwatchlogs`,
    value: enumOf(
      '1',
      '3',
      '5',
      '7',
      '14',
      '30',
      '60',
      '90',
      '120',
      '150',
      '180',
      '365',
      '400',
      '545',
      '731',
      '1827',
      '3653',
    ),
  },
  {
    namespace: 'aws:elasticbeanstalk:command',
    option: 'DeploymentPolicy',
    value: enumOf('AllAtOnce', 'Rolling', 'RollingWithAdditionalBatch', 'Immutable', 'TrafficSplitting'),
    source: `${GENERAL}#command-options-general-elasticbeanstalkcommand`,
  },
  {
    namespace: 'aws:elasticbeanstalk:command',
    option: 'Timeout',
    value: int(1, 3600),
    source: `${GENERAL}#command-options-general-elasticbeanstalkcommand`,
  },
  {
    namespace: 'aws:elasticbeanstalk:command',
    option: 'BatchSizeType',
    value: enumOf('Percentage', 'Fixed'),
    ebCliSets: 'Percentage',
    source: `${GENERAL}#command-options-general-elasticbeanstalkcommand`,
  },
  {
    namespace: 'aws:elasticbeanstalk:command',
    option: 'BatchSize',
    value: int(1, 100),
    ebCliSets: '30',
    source: `${GENERAL}#command-options-general-elasticbeanstalkcommand`,
  },
  {
    namespace: 'aws:elasticbeanstalk:command',
    option: 'IgnoreHealthCheck',
    value: bool,
    source: `${GENERAL}#command-options-general-elasticbeanstalkcommand`,
  },
  {
    namespace: 'aws:elasticbeanstalk:environment',
    option: 'EnvironmentType',
    value: enumOf('SingleInstance', 'LoadBalanced'),
    source: `${GENERAL}#command-options-general-elasticbeanstalkenvironment`,
  },
  // `eb create` sets it from --elb-type (application when not asked), which the Makefile passes as application.
  {
    namespace: 'aws:elasticbeanstalk:environment',
    option: 'LoadBalancerType',
    value: enumOf('classic', 'application', 'network'),
    ebCliSets: 'application',
    source: `${GENERAL}#command-options-general-elasticbeanstalkenvironment`,
  },
  {
    namespace: 'aws:elasticbeanstalk:environment:process:default',
    option: 'DeregistrationDelay',
    value: int(0, 3600),
    source: `${GENERAL}#command-options-general-environmentprocess`,
  },
  {
    namespace: 'aws:elasticbeanstalk:environment:process:default',
    option: 'HealthCheckPath',
    value: PATH,
    source: `${GENERAL}#command-options-general-environmentprocess`,
  },
  {
    namespace: 'aws:elasticbeanstalk:environment:process:default',
    option: 'MatcherHTTPCode',
    source: `${GENERAL}#command-options-general-environmentprocess`,
    // With an application load balancer: codes 200 to 499, comma-separated.
    value: {
      type: 'string',
      pattern: /^(2\d\d|3\d\d|4\d\d)(,(2\d\d|3\d\d|4\d\d))*$/,
      describe: 'HTTP codes 200 to 499, comma-separated',
    },
  },
  {
    namespace: 'aws:elasticbeanstalk:healthreporting:system',
    option: 'SystemType',
    value: enumOf('basic', 'enhanced'),
    ebCliSets: 'enhanced',
    source: `${GENERAL}#command-options-general-elasticbeanstalkhealthreporting`,
  },
  {
    namespace: 'aws:elasticbeanstalk:healthreporting:system',
    option: 'HealthCheckSuccessThreshold',
    value: enumOf('Ok', 'Warning', 'Degraded', 'Severe'),
    source: `${GENERAL}#command-options-general-elasticbeanstalkhealthreporting`,
  },
  {
    namespace: 'aws:elasticbeanstalk:trafficsplitting',
    option: 'NewVersionPercent',
    value: int(1, 100),
    source: `${GENERAL}#command-options-general-elasticbeanstalktrafficsplitting`,
  },
  {
    namespace: 'aws:elasticbeanstalk:trafficsplitting',
    option: 'EvaluationTime',
    value: int(3, 600),
    source: `${GENERAL}#command-options-general-elasticbeanstalktrafficsplitting`,
  },
  // Network (README "Security"): the VPC, and whether the load balancer faces the internet or only the VPC.
  {
    namespace: 'aws:ec2:vpc',
    option: 'VPCId',
    value: { type: 'string', pattern: /^vpc-[0-9a-f]{8,17}$/, describe: 'a VPC id' },
    source: `${GENERAL}#command-options-general-ec2vpc`,
  },
  ...(['Subnets', 'ELBSubnets'] as const).map(
    (option): EbOption => ({
      namespace: 'aws:ec2:vpc',
      option,
      value: SUBNET_LIST,
      source: `${GENERAL}#command-options-general-ec2vpc`,
    }),
  ),
  // The archived guide lists `internal` only (unset: facing the internet); the live one names that default `public`.
  {
    namespace: 'aws:ec2:vpc',
    option: 'ELBScheme',
    value: enumOf('internal', 'public'),
    source: `${GENERAL}#command-options-general-ec2vpc`,
  },
  {
    namespace: 'aws:ec2:vpc',
    option: 'AssociatePublicIpAddress',
    value: bool,
    source: `${GENERAL}#command-options-general-ec2vpc`,
  },
  {
    namespace: 'aws:autoscaling:launchconfiguration',
    option: 'SecurityGroups',
    value: SECURITY_GROUPS,
    source: `${GENERAL}#command-options-general-autoscalinglaunchconfiguration`,
  },
  // The load balancer's own security group (ManagedSecurityGroup must be one of SecurityGroups); a group defined in
  // the same configuration's Resources is named with EB's `{ "Ref" : "..." }` syntax (configuring-https-endtoend).
  ...(['SecurityGroups', 'ManagedSecurityGroup'] as const).map(
    (option): EbOption => ({
      namespace: 'aws:elbv2:loadbalancer',
      option,
      value: SECURITY_GROUPS,
      source: `${GENERAL}#command-options-general-elbv2`,
    }),
  ),
  // HTTPS on an application load balancer's port 443 (configuring-https-elb).
  {
    namespace: 'aws:elbv2:listener:443',
    option: 'Protocol',
    value: enumOf('HTTP', 'HTTPS'),
    source: `${GENERAL}#command-options-general-elbv2-listener`,
  },
  {
    namespace: 'aws:elbv2:listener:443',
    option: 'SSLCertificateArns',
    value: {
      type: 'string',
      pattern: /^arn:aws(-[a-z]+)*:(acm|iam):[a-z0-9-]*:\d{12}:(certificate|server-certificate)\/[\w./-]+$/,
      describe: 'the ARN of an ACM (or IAM) certificate',
    },
    source: `${GENERAL}#command-options-general-elbv2-listener`,
  },
  {
    namespace: 'aws:elbv2:listener:443',
    option: 'SSLPolicy',
    // The ALB predefined policies that allow TLS 1.2 or later only (the TLS13 ones add 1.3).
    value: enumOf(
      'ELBSecurityPolicy-TLS13-1-2-2021-06',
      'ELBSecurityPolicy-TLS13-1-2-Res-2021-06',
      'ELBSecurityPolicy-TLS13-1-3-2021-06',
      'ELBSecurityPolicy-TLS-1-2-2017-01',
      'ELBSecurityPolicy-TLS-1-2-Ext-2018-06',
      'ELBSecurityPolicy-FS-1-2-Res-2020-10',
    ),
    source: `${GENERAL}#command-options-general-elbv2-listener`,
  },
  // Legacy Amazon Linux AMI (mod_wsgi) only: on AL2023 the Procfile replaces them.
  {
    namespace: 'aws:elasticbeanstalk:container:python',
    option: 'WSGIPath',
    value: { type: 'string', pattern: /^[\w./:-]+$/, describe: 'a file path (AL1) or module:callable (AL2+)' },
    source: `${SPECIFIC}#command-options-python`,
  },
  {
    namespace: 'aws:elasticbeanstalk:container:python',
    option: 'NumProcesses',
    value: int(1, 10000),
    source: `${SPECIFIC}#command-options-python`,
  },
  {
    namespace: 'aws:elasticbeanstalk:container:python',
    option: 'NumThreads',
    value: int(1, 10000),
    source: `${SPECIFIC}#command-options-python`,
  },
];

export interface OptionProblem {
  namespace: string;
  option: string;
  message: string;
}

/** YAML gives numbers and booleans; EB takes every value as text, so compare as EB would read it. */
const asText = (value: unknown) => (typeof value === 'string' ? value : JSON.stringify(value));

/** Problems with one option setting, or [] when EB documents it and accepts the value. */
export function checkOption(
  namespace: string,
  option: string,
  value: unknown,
  catalogue: readonly EbOption[] = EB_OPTIONS,
): string[] {
  const entry = catalogue.find((o) => o.namespace === namespace && (o.option === option || o.option === '*'));
  if (!entry) {
    const known = catalogue.filter((o) => o.namespace === namespace).map((o) => o.option);
    return [
      known.length
        ? `${namespace} has no option ${option} (documented: ${known.join(', ')})`
        : `${namespace} is not a namespace in the catalogue`,
    ];
  }
  const text = asText(value);
  const spec = entry.value;
  const problems: string[] = [];
  if (value === null || value === undefined || typeof value === 'object')
    problems.push(`${namespace} ${option} must be a single value, not ${text}`);
  else if (spec.type === 'enum' && !spec.values.includes(text))
    problems.push(`${namespace} ${option} is ${text}; EB accepts ${spec.values.join(', ')}`);
  else if (spec.type === 'boolean' && !['true', 'false'].includes(text))
    problems.push(`${namespace} ${option} is ${text}; EB accepts true or false`);
  else if (spec.type === 'integer' || spec.type === 'number') {
    const n = Number(text);
    const whole = spec.type === 'integer' ? /^-?\d+$/.test(text) : /^-?\d+(\.\d+)?$/.test(text);
    if (!whole || n < spec.min || n > spec.max)
      problems.push(
        `${namespace} ${option} is ${text}; EB accepts ${spec.type === 'integer' ? 'a whole number' : 'a number'} from ${spec.min} to ${spec.max}`,
      );
  } else if (spec.type === 'string' && !spec.pattern.test(text))
    problems.push(`${namespace} ${option} is ${text}; EB accepts ${spec.describe}`);
  if (problems.length === 0 && entry.ebCliSets !== undefined && text !== entry.ebCliSets) {
    problems.push(
      `${namespace} ${option} is ${text}, but eb create sets ${entry.ebCliSets} and its value wins over .ebextensions`,
    );
  }
  return problems;
}

/** Every problem in one .ebextensions document's option_settings (map or list form). */
export function checkOptionSettings(document: unknown, catalogue: readonly EbOption[] = EB_OPTIONS): OptionProblem[] {
  const settings = (document as { option_settings?: unknown } | null)?.option_settings;
  if (settings === undefined) return [];
  const entries: Array<[string, string, unknown]> = Array.isArray(settings)
    ? settings.map((s: { namespace?: string; option_name: string; value: unknown }) => [
        s.namespace ?? 'aws:elasticbeanstalk:application:environment',
        s.option_name,
        s.value,
      ])
    : Object.entries(settings as Record<string, Record<string, unknown>>).flatMap(([ns, opts]) =>
        Object.entries(opts ?? {}).map(([o, v]): [string, string, unknown] => [ns, o, v]),
      );
  return entries.flatMap(([namespace, option, value]) =>
    checkOption(namespace, option, value, catalogue).map((message) => ({ namespace, option, message })),
  );
}

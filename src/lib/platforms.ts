/**
 * Elastic Beanstalk platform facts, as data. Every template and config builder reads these; nothing restates them.
 * Sources are in the shared EB fact sheet (branch names, WSGIPath syntax, yum list of the seed recipe, retirement) and
 * its 2026 update (Python 3.14 on AL2023, the Node.js branches); each fact below names its source.
 */

export const PLATFORM_IDS = ['al2023', 'amazon-linux-ami'] as const;
export type PlatformId = (typeof PLATFORM_IDS)[number];

export const ARCHITECTURES = ['x86_64', 'arm64'] as const;
export type Architecture = (typeof ARCHITECTURES)[number];

export interface Platform {
  id: PlatformId;
  label: string;
  /** Python versions EB offers a branch for on this platform, oldest first. */
  pythonVersions: readonly string[];
  defaultPython: string;
  /** `default_platform` in .elasticbeanstalk/config.yml: the platform *branch* name, as `eb init` writes it. */
  branchName: (python: string) => string;
  architectures: readonly Architecture[];
  defaultInstanceType: Partial<Record<Architecture, string>>;
  /** How EB runs the WSGI app: gunicorn from a Procfile (AL2023) or Apache + mod_wsgi (legacy AMI). */
  server: 'gunicorn' | 'mod_wsgi';
  /** `aws:elasticbeanstalk:container:python` WSGIPath: gunicorn `module:callable` on AL2+, a file path on AL1. */
  wsgiPath: string;
  /** yum packages needed to compile numpy/scipy/scikit-learn from source. Empty where every pin is a wheel. */
  yumPackages: readonly string[];
  /** Port the proxy forwards to. */
  appPort: number;
  retired?: string;
}

export const PLATFORMS: Record<PlatformId, Platform> = {
  al2023: {
    id: 'al2023',
    label: 'Amazon Linux 2023: gunicorn behind nginx, binary wheels, no compiler',
    // 3.14: "Python 3.14 running on 64bit Amazon Linux 2023", platform 4.9.x (aws-actions/aws-elasticbeanstalk-deploy
    // README; reference/platforms-2026.md). Every pin has wheels for it (test/pins.test.ts), but 3.11 stays the
    // default: it has the widest wheel coverage for the models users bring (older scikit-learn releases have cp311 wheels;
    // only 1.7.2 and later have cp314 ones), and `make import` may need an older scikit-learn.
    pythonVersions: ['3.11', '3.12', '3.13', '3.14'],
    defaultPython: '3.11',
    branchName: (python) => `Python ${python} running on 64bit Amazon Linux 2023`,
    architectures: ['x86_64', 'arm64'],
    defaultInstanceType: { x86_64: 't3.small', arm64: 't4g.small' },
    server: 'gunicorn',
    wsgiPath: 'application:application',
    yumPackages: [],
    appPort: 8000,
  },
  'amazon-linux-ami': {
    id: 'amazon-linux-ami',
    label: 'Legacy Amazon Linux AMI: Apache + mod_wsgi (retired for new environments)',
    pythonVersions: ['3.6'],
    defaultPython: '3.6',
    branchName: (python) => `Python ${python} running on 64bit Amazon Linux`,
    architectures: ['x86_64'],
    // The seed recipe: SciPy's build needs more memory than a t2.micro has.
    defaultInstanceType: { x86_64: 't2.small' },
    server: 'mod_wsgi',
    wsgiPath: 'application.py',
    yumPackages: ['gcc-c++', 'atlas-devel', 'lapack-devel', 'blas-devel', 'libgfortran'],
    appPort: 80,
    retired: 'AWS retired every Amazon Linux AMI platform branch on 2022-07-18; existing environments keep running.',
  },
};

/** AWS regions where Elastic Beanstalk is offered. */
export const EB_REGIONS = [
  'us-east-1',
  'us-east-2',
  'us-west-1',
  'us-west-2',
  'af-south-1',
  'ap-east-1',
  'ap-south-1',
  'ap-south-2',
  'ap-northeast-1',
  'ap-northeast-2',
  'ap-northeast-3',
  'ap-southeast-1',
  'ap-southeast-2',
  'ap-southeast-3',
  'ap-southeast-4',
  'ca-central-1',
  'eu-central-1',
  'eu-central-2',
  'eu-west-1',
  'eu-west-2',
  'eu-west-3',
  'eu-north-1',
  'eu-south-1',
  'eu-south-2',
  'il-central-1',
  'me-south-1',
  'me-central-1',
  'sa-east-1',
  'us-gov-east-1',
  'us-gov-west-1',
  'cn-north-1',
  'cn-northwest-1',
] as const;

/**
 * Graviton (arm64) instance families carry a `g` right after the generation digit: t4g, m6g, c7gn, r8g...
 * EB requires every instance type of an environment to share one architecture.
 */
export function instanceArchitecture(instanceType: string): Architecture {
  const family = instanceType.split('.')[0] ?? '';
  return /^[a-z]+\d+g[a-z]*$/.test(family) ? 'arm64' : 'x86_64';
}

export const INSTANCE_TYPE_PATTERN = /^[a-z][a-z0-9-]*\d[a-z0-9-]*\.(nano|micro|small|medium|large|metal|\d*xlarge)$/;

/** Metrics EB's auto scaling trigger accepts, with their units (aws:autoscaling:trigger). */
export const SCALING_METRICS = {
  CPUUtilization: 'Percent',
  NetworkIn: 'Bytes',
  NetworkOut: 'Bytes',
  Latency: 'Seconds',
  RequestCount: 'Count',
} as const;
export type ScalingMetric = keyof typeof SCALING_METRICS;

/**
 * EB's Node.js platform on Amazon Linux 2023, where the gateway runs. Source: reference/platforms-2026.md (EB platform
 * history 2026-03: Node.js 24, 22 and 20 branches on AL2023 v6.10; Node 20's branch scheduled for retirement
 * 2026-07-31; Node 20 end-of-life upstream April 2026) and Node's release schedule (nodejs/Release: 22 is maintenance
 * LTS until 2027-04-30, 24 is LTS until 2028-04-30).
 */
export interface NodeBranch {
  major: number;
  /** The branch name, as `eb init` writes `default_platform`. */
  branchName: string;
  /** When Node.js itself stops getting security fixes (nodejs/Release). */
  nodeEndOfLife: string;
  /** When EB retires (or retired) the branch, where announced. */
  ebRetirement?: string;
}

export const NODE_BRANCHES: readonly NodeBranch[] = [
  {
    major: 20,
    branchName: 'Node.js 20 running on 64bit Amazon Linux 2023',
    nodeEndOfLife: '2026-04-30',
    ebRetirement: '2026-07-31',
  },
  { major: 22, branchName: 'Node.js 22 running on 64bit Amazon Linux 2023', nodeEndOfLife: '2027-04-30' },
  { major: 24, branchName: 'Node.js 24 running on 64bit Amazon Linux 2023', nodeEndOfLife: '2028-04-30' },
];

/**
 * The gateway's branch, chosen on 2026-12-01: Node.js 24, supported until 2028-04; 22 has five months left and 20 is
 * past end-of-life with its EB branch retired. A fixed choice (not computed from the date) so a project generated
 * twice is the same; moving to the next LTS is a change here, reached by `yo sci-eb:upgrade`.
 */
export const GATEWAY_NODE_BRANCH: NodeBranch = NODE_BRANCHES.find((b) => b.major === 24)!;

/** nginx on EB's Node.js platform proxies to 8080 and the platform sets PORT to it (nodejs-platform-proxy). */
export const NODE_APP_PORT = 8080;

/**
 * Elastic Beanstalk platform facts, as data. Every template and config builder reads these; nothing restates them.
 * Sources are in the shared EB fact sheet (branch names, WSGIPath syntax, yum list of the seed recipe, retirement).
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
    pythonVersions: ['3.11', '3.12', '3.13'],
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
  'us-east-1', 'us-east-2', 'us-west-1', 'us-west-2',
  'af-south-1', 'ap-east-1', 'ap-south-1', 'ap-south-2', 'ap-northeast-1', 'ap-northeast-2', 'ap-northeast-3',
  'ap-southeast-1', 'ap-southeast-2', 'ap-southeast-3', 'ap-southeast-4',
  'ca-central-1', 'eu-central-1', 'eu-central-2', 'eu-west-1', 'eu-west-2', 'eu-west-3', 'eu-north-1',
  'eu-south-1', 'eu-south-2', 'il-central-1', 'me-south-1', 'me-central-1', 'sa-east-1',
  'us-gov-east-1', 'us-gov-west-1', 'cn-north-1', 'cn-northwest-1',
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

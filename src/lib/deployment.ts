/**
 * How `eb deploy` replaces the running version: EB's deployment policies as data, and the option settings each one
 * needs. Sources: EB developer guide, "Deployment policies and settings" (using-features.rolling-version-deploy) and
 * the aws:elasticbeanstalk:command, aws:elasticbeanstalk:trafficsplitting and aws:autoscaling:updatepolicy:rollingupdate
 * namespaces (command-options-general); the URLs are in eb-options.ts, which checks every value written here.
 */

export const DEPLOYMENT_POLICIES = [
  'Immutable',
  'TrafficSplitting',
  'RollingWithAdditionalBatch',
  'Rolling',
  'AllAtOnce',
] as const;
export type DeploymentPolicy = (typeof DEPLOYMENT_POLICIES)[number];

export interface PolicyFacts {
  /** What it does, for --help and the prompt. */
  summary: string;
  /** Rolling policies and traffic splitting need a load balancer; EB refuses them on a single instance. */
  loadBalancedOnly: boolean;
}

export const POLICY_FACTS: Record<DeploymentPolicy, PolicyFacts> = {
  Immutable: {
    summary: 'new instances beside the old ones, promoted only once healthy; a failure terminates them',
    loadBalancedOnly: false,
  },
  TrafficSplitting: {
    summary: 'a canary: new instances get a share of the traffic for an evaluation time, then all of it',
    loadBalancedOnly: true,
  },
  RollingWithAdditionalBatch: {
    summary: 'an extra batch first, then the old instances in batches; full capacity throughout',
    loadBalancedOnly: true,
  },
  Rolling: {
    summary: 'the old instances in batches; capacity drops by one batch while each is replaced',
    loadBalancedOnly: true,
  },
  AllAtOnce: {
    summary: 'every instance at once: down while the new version installs and loads the model',
    loadBalancedOnly: false,
  },
};

export type EnvironmentKind = 'load-balanced' | 'single-instance';

export const policiesFor = (environmentType: EnvironmentKind): DeploymentPolicy[] =>
  DEPLOYMENT_POLICIES.filter((p) => environmentType === 'load-balanced' || !POLICY_FACTS[p].loadBalancedOnly);

/**
 * Immutable on a load balancer: a model update is new instances that install the pins, load the model and pass the
 * start-up self-test before any request reaches them; until then the old ones serve at full capacity, and a failure
 * (a bad model never gets healthy) terminates the new ones with the old untouched: the rollback is automatic. Traffic
 * splitting gates the same way but serves two models side by side for its evaluation time, which clients (and the
 * gateway's model-version check) see as answers flipping between versions. A single instance keeps EB's default,
 * AllAtOnce: it costs the service's downtime on every deploy, which Immutable would avoid at the price of a second
 * instance for the duration of the deploy.
 */
export const defaultPolicy = (environmentType: EnvironmentKind): DeploymentPolicy =>
  environmentType === 'load-balanced' ? 'Immutable' : 'AllAtOnce';

/** Minutes traffic splitting sends a share of the requests to the new version before sending it all. */
export const CANARY = { percent: 10, evaluationMinutes: 10 } as const;

/**
 * Seconds EB waits for a deployment (pip install of the pins, model load, self-test, health checks) before it fails it
 * and rolls back; EB's default is 600, which a cold instance installing scipy and scikit-learn can come close to.
 */
export const DEPLOY_TIMEOUT_SECONDS = 1200;

export interface DeploymentInput {
  deploymentPolicy: DeploymentPolicy;
  environmentType: EnvironmentKind;
  minInstances: number;
  maxInstances: number;
}

/** The option settings that make the policy what `eb deploy` (and configuration changes) do. */
export function deploymentOptions(a: DeploymentInput): Record<string, Record<string, unknown>> {
  const rolling = a.deploymentPolicy === 'Rolling' || a.deploymentPolicy === 'RollingWithAdditionalBatch';
  const options: Record<string, Record<string, unknown>> = {
    'aws:elasticbeanstalk:command': {
      DeploymentPolicy: a.deploymentPolicy,
      // `eb create` sets BatchSizeType/BatchSize itself (30 Percentage) and its values win over .ebextensions
      // (recommended values, command-options-general): written as what applies, so the file says what happens.
      // Only the rolling policies read them.
      ...(rolling ? { BatchSizeType: 'Percentage', BatchSize: 30 } : {}),
      // A batch (or the immutable group) that fails its health checks fails the deployment: never promote it.
      IgnoreHealthCheck: false,
      Timeout: DEPLOY_TIMEOUT_SECONDS,
    },
    // Deployments succeed only when health is Ok, and health includes the health path that answers 200 only from a
    // process whose model loaded and passed its self-test.
    'aws:elasticbeanstalk:healthreporting:system': { SystemType: 'enhanced', HealthCheckSuccessThreshold: 'Ok' },
  };
  if (a.deploymentPolicy === 'TrafficSplitting') {
    options['aws:elasticbeanstalk:trafficsplitting'] = {
      NewVersionPercent: CANARY.percent,
      EvaluationTime: CANARY.evaluationMinutes,
    };
  }
  if (a.environmentType === 'load-balanced') {
    // Configuration changes that replace instances (instance type, launch settings) go in health-gated batches of one,
    // keeping at least one instance in service where there can be one. `eb create` sets RollingUpdateType Health and
    // RollingUpdateEnabled itself (its values win), so those two are written as what applies.
    options['aws:autoscaling:updatepolicy:rollingupdate'] = {
      RollingUpdateEnabled: true,
      RollingUpdateType: 'Health',
      MaxBatchSize: 1,
      MinInstancesInService: Math.min(a.minInstances, a.maxInstances - 1),
    };
  }
  return options;
}

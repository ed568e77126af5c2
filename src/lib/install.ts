/**
 * The generator's install step, as data: the project's own make targets, so what the generator installs is what
 * `make` considers installed (its `.venv/.installed` marker), and a `make venv` right after has nothing to do.
 */
import type { Answers } from './answers.js';

export interface InstallStep {
  title: string;
  command: string;
  args: string[];
}

const make = (target: string) => ['--no-print-directory', target];

/** importArgs: tools/import_model.py's arguments when the project is made around an existing model (no training). */
export function installSteps(a: Answers, importArgs?: string[]): InstallStep[] {
  return [
    { title: 'Create .venv and install requirements-dev.txt', command: 'make', args: make('venv') },
    importArgs
      ? {
          title: 'Import your model (derive schema.json, prove it, swap it in)',
          command: '.venv/bin/python',
          args: ['tools/import_model.py', ...importArgs],
        }
      : { title: 'Train the model', command: 'make', args: make('train') },
    ...(a.gateway ? gatewaySteps() : []),
  ];
}

/** The gateway needs the trained model's schema: the same as `make gateway`. */
export function gatewaySteps(): InstallStep[] {
  return [
    {
      title: 'Install the gateway and generate its types from model/schema.json',
      command: 'make',
      args: make('gateway'),
    },
  ];
}

/** What to run next, as the generators print it; `installed` is false after --skip-install. */
export function nextSteps(a: Pick<Answers, 'gateway'>, installed: boolean): string[] {
  const lines = installed
    ? []
    : [
        a.gateway
          ? 'make venv train gateway  # install, train, install the gateway (skipped: --skip-install)'
          : 'make venv train     # install and train (skipped: --skip-install)',
      ];
  lines.push("make test           # the project's tests", 'make serve          # http://127.0.0.1:8000/v1/schema');
  if (a.gateway) {
    lines.push(
      'make gateway-serve  # in another terminal: the gateway on http://127.0.0.1:3000 (docs at /docs)',
      "make gateway-test   # the gateway's tests",
    );
  }
  lines.push(
    'make local          # the EB bundle, staged and started as EB would (stop make serve first: same port)',
    'make create         # first deploy; then make deploy',
  );
  return lines;
}

/**
 * What generation says about the network as generated (README "Security"): plainly when traffic is unencrypted,
 * with how to fix it; nothing when every public door is HTTPS and the gateway-to-service hop is covered.
 */
export function transportWarnings(
  a: Pick<Answers, 'gateway' | 'certificateArn' | 'vpcId' | 'environmentType' | 'envName'>,
): string[] {
  const fix = 'sci-eb upgrade --set certificateArn=<ACM ARN in the same region> --set domain=<your domain>';
  const lines: string[] = [];
  if (!a.certificateArn) {
    lines.push(
      a.environmentType === 'single-instance'
        ? `Warning: ${a.envName} is a single instance: no load balancer terminates HTTPS, so predictions travel unencrypted (README, "Security").`
        : `Warning: no certificate, so every public listener is plain HTTP: ${a.gateway ? 'API keys and predictions' : 'predictions'} cross the internet unencrypted. Fix: ${fix}.`,
    );
    if (a.gateway && !a.vpcId)
      lines.push(
        'Warning: the gateway calls the service over the internet in plain HTTP, its token included. Fix: a VPC (--vpc-id, the service then internal) or a certificate with --service-domain.',
      );
  }
  return lines;
}

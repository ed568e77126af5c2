/**
 * Adopting a project made by hand from the classic recipe (no .yo-rc.json): what its files say about the answers,
 * and what adoption does to each file. Pure: given a reader of the project's files.
 */
import YAML from 'yaml';
import type { Change } from './apply.js';
import type { Manifest } from './manifest.js';
import type { RenderedFile } from './plan.js';
import { orderRequirements } from './requirements.js';
import { sha256 } from './sha256.js';
import { EB_REGIONS, PLATFORMS, type PlatformId } from './platforms.js';

export interface Inference {
  answers: Record<string, unknown>;
  evidence: string[];
}

export function inferAnswers(
  read: (path: string) => string | undefined,
  list: (dir: string) => string[],
  folderName: string,
): Inference {
  const answers: Record<string, unknown> = {};
  const evidence: string[] = [];
  const name = folderName
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, '-')
    .replace(/^[^a-z]+/, '')
    .replace(/-+$/, '');
  if (name.length >= 2) {
    answers.name = name;
    evidence.push(`name ${name}: the folder's name`);
  }
  const configs = list('.ebextensions')
    .filter((f) => f.endsWith('.config'))
    .map((f) => read(`.ebextensions/${f}`) ?? '');
  const procfile = read('Procfile');
  const legacySigns = configs.some((c) => /WSGIApplicationGroup|packages:\s*\n\s*yum:/m.test(c));
  if (procfile && /gunicorn/.test(procfile)) {
    answers.platform = 'al2023';
    evidence.push('platform al2023: the Procfile runs gunicorn');
  } else if (legacySigns) {
    answers.platform = 'amazon-linux-ami';
    evidence.push(
      'platform amazon-linux-ami: .ebextensions has the yum build list or WSGIApplicationGroup (Apache + mod_wsgi)',
    );
  }
  const workers = procfile?.match(/--workers[= ](\d+)/);
  if (workers) answers.workers = Number(workers[1]);
  const config = read('.elasticbeanstalk/config.yml');
  if (config) {
    try {
      const parsed = YAML.parse(config) ?? {};
      const global = parsed.global ?? {};
      if (typeof global.application_name === 'string') answers.appName = global.application_name;
      if ((EB_REGIONS as readonly string[]).includes(global.default_region)) answers.region = global.default_region;
      const platformMatch =
        typeof global.default_platform === 'string' && global.default_platform.match(/Python (\d+\.\d+)/i);
      if (platformMatch) {
        answers.pythonVersion = platformMatch[1];
        if (!answers.platform) {
          answers.platform = /2023/.test(global.default_platform) ? 'al2023' : 'amazon-linux-ami';
        }
      }
      const env = Object.values(parsed['branch-defaults'] ?? {})
        .map((b) => (b as { environment?: unknown }).environment)
        .find((e) => typeof e === 'string');
      if (env) answers.envName = env;
      evidence.push('application, region, Python and environment: .elasticbeanstalk/config.yml');
    } catch {
      evidence.push('.elasticbeanstalk/config.yml is not valid YAML: ignored');
    }
  }
  const flaskConfig = configs.join('\n');
  const instance = flaskConfig.match(/InstanceTypes?:\s*([a-z0-9]+\.[a-z0-9]+)/);
  if (instance) answers.instanceType = instance[1];
  const health = flaskConfig.match(/(?:HealthCheckPath|Application Healthcheck URL):\s*(\/\S*)/);
  if (health) answers.healthCheckPath = health[1];
  const platform = answers.platform as PlatformId | undefined;
  if (
    platform &&
    typeof answers.pythonVersion === 'string' &&
    !PLATFORMS[platform].pythonVersions.includes(answers.pythonVersion)
  ) {
    evidence.push(`Python ${answers.pythonVersion} is not offered on ${platform}: the platform's default is used`);
    delete answers.pythonVersion;
  }
  return { answers, evidence };
}

/**
 * Adoption's decisions: the project's own files are treated as the user's edits of what the generator would write
 * now, so nothing of theirs is overwritten and later upgrades merge from here. Requirements are put in build order;
 * missing managed files are added; application code is left alone (no scaffold file is added either).
 */
export function adoptionChanges(
  rendered: RenderedFile[],
  disk: (path: string) => Buffer | undefined,
): { changes: Change[]; manifest: Manifest; moves: string[] } {
  const manifest: Manifest = {};
  const changes: Change[] = [];
  const moves: string[] = [];
  for (const file of rendered) {
    manifest[file.path] = { kind: file.kind, sha256: sha256(file.content) };
    const current = disk(file.path);
    const base = { path: file.path, kind: file.kind, executable: file.executable };
    if (current === undefined) {
      changes.push(
        file.kind === 'managed'
          ? { ...base, action: 'create', content: file.content }
          : { ...base, action: 'keep-deleted' },
      );
    } else if (current.equals(file.content)) {
      changes.push({ ...base, action: 'identical' });
    } else if (file.path === 'requirements.txt') {
      const ordered = orderRequirements(current.toString('utf8'));
      changes.push(
        ordered.changed
          ? { ...base, action: 'merged', content: Buffer.from(ordered.text) }
          : { ...base, action: 'unchanged-edit' },
      );
      for (const move of ordered.moved)
        moves.push(`requirements.txt: moved ${move.name} from line ${move.from} to ${move.to} (build order)`);
    } else {
      changes.push({ ...base, action: file.kind === 'managed' ? 'unchanged-edit' : 'keep-scaffold' });
    }
  }
  return { changes, manifest, moves };
}

/**
 * The Yeoman glue every sci-eb generator shares: reading the project's stored state, and writing a list of decided
 * files through Yeoman's in-memory file system without its interactive conflicter (which gives up silently without a
 * terminal). What to write is always decided by the pure functions in ../lib.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import Generator, { type BaseOptions } from 'yeoman-generator';
import type { Answers } from '../lib/answers.js';
import type { Decision, Manifest } from '../lib/apply.js';

export const CONFIG_NAMESPACE = 'generator-sci-eb';

export const GENERATOR_VERSION: string = JSON.parse(
  readFileSync(new URL('../../package.json', import.meta.url), 'utf8'),
).version;

export interface StoredState {
  answers?: Answers;
  generatorVersion?: string;
  manifest?: Manifest;
}

export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

export const ACTION_LABELS: Record<Decision['action'], string> = {
  create: 'create',
  identical: 'identical',
  replace: 'update',
  'keep-edited': 'kept (you edited it; `yo sci-eb:upgrade` merges)',
  'keep-scaffold': 'kept (yours)',
  'keep-deleted': 'kept deleted',
};

// Options are declared at run time (one per answer), so they are typed loosely here and validated by zod.
export type SciEbOptions = BaseOptions & Record<string, any>;

export abstract class ProjectGenerator extends Generator<StoredState & Record<string, any>, SciEbOptions> {
  constructor(args: string[], options: SciEbOptions) {
    // The projects are Python: Yeoman's npm install step has nothing to do (the gateway installs its own).
    super(args, options, { customInstallTask: true });
  }

  /** yo passes --skip-install as skipInstall; our launcher hands it over as the raw option name. */
  protected get skipInstall(): boolean {
    return Boolean(this.options.skipInstall ?? this.options['skip-install']);
  }

  protected readDisk(relative: string): Buffer | undefined {
    try {
      return readFileSync(this.destinationPath(relative));
    } catch {
      return undefined;
    }
  }

  protected storedState(): StoredState {
    return (this.config.getAll() ?? {}) as StoredState;
  }

  /** Write decided files. Marked 'force' because the decision was already made here, with the user's edits in mind. */
  protected writeDecisions(decisions: Decision[]): void {
    for (const { file, action } of decisions) {
      if (action === 'create' || action === 'replace') this.writeDecided(file.path, file.content, file.executable, action === 'create' ? 'create' : 'force');
    }
  }

  /** Yeoman's conflicter logs the status it is given ('create' or 'force') and asks nothing. */
  protected writeDecided(relative: string, content: Buffer | string, executable = false, status: 'create' | 'force' = 'force'): void {
    const target = this.destinationPath(relative);
    this.fs.write(target, content);
    const stored = this.env.sharedFs.get(target) as { conflicter?: string; stat?: { mode: number } | null };
    stored.conflicter = status;
    if (executable) stored.stat = { mode: 0o100755 };
  }

  /** Files kept as they are (Yeoman's conflicter reports the ones written). */
  protected logDecisions(decisions: Decision[]): void {
    for (const { file, action } of decisions) {
      if (action === 'identical' || action === 'create' || action === 'replace') continue;
      this.log(`  ${ACTION_LABELS[action].padEnd(10)} ${file.path}`);
    }
  }

  protected relativeToCwd(target: string): string {
    return path.relative(process.cwd(), target) || '.';
  }
}

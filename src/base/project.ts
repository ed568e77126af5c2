/**
 * The Yeoman glue every sci-eb generator shares: options for every answer, the project's stored state, and carrying
 * out a list of changes decided by the pure functions in ../lib. Files are written by ./commit (all-or-nothing),
 * not by Yeoman's conflicter, which asks per file and gives up silently without a terminal.
 */
import { accessSync, constants, existsSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Generator, { type BaseOptions } from 'yeoman-generator';
import { ANSWER_DOCS, type AnswerKey, type Answers } from '../lib/answers.js';
import { nextManifest, type Action, type Change, type Manifest } from '../lib/apply.js';
import { CONFLICT_LABELS } from '../lib/apply.js';
import type { RenderedFile } from '../lib/plan.js';
import { formatHelp, unknownOptions, unknownOptionsMessage, type OptionSpec } from '../lib/options.js';
import { commitChanges, commitNewProject } from './commit.js';

export const CONFIG_NAMESPACE = 'generator-sci-eb';
export const CONFIG_FILE = '.yo-rc.json';

export const GENERATOR_VERSION: string = JSON.parse(
  readFileSync(new URL('../../package.json', import.meta.url), 'utf8'),
).version;

export interface StoredState {
  answers?: Answers;
  generatorVersion?: string;
  manifest?: Manifest;
}

/** Errors written for the user: the launcher prints the message alone and exits with `exitCode`. */
export class UsageError extends Error {
  exitCode = 2;
  /** yo exits with `code` (and crashes on a non-number). */
  code = 2;
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

export class ConflictError extends Error {
  exitCode = 1;
  constructor(public readonly files: string[]) {
    super(`${files.length} file${files.length === 1 ? ' has' : 's have'} conflicts between your edits and the new version: ${files.join(', ')}.\n` +
      `Look for the "<<<<<<< ${CONFLICT_LABELS.ours}" markers, keep what you want, delete the markers.`);
    this.name = 'ConflictError';
  }
}

export const ACTION_LABELS: Record<Action, string> = {
  create: 'create',
  identical: 'identical',
  replace: 'update',
  merged: 'merged (your edits kept)',
  conflict: 'CONFLICT (markers written)',
  unresolved: 'UNRESOLVED (conflict markers from an earlier run)',
  'unchanged-edit': 'kept (your edits; nothing new)',
  'keep-scaffold': 'kept (yours)',
  'keep-deleted': 'kept deleted (you removed it)',
  delete: 'delete (no longer generated)',
  deactivate: 'deactivated (no longer generated; you edited it)',
  'keep-orphan': 'kept (no longer generated; you edited it)',
};

// biome-ignore lint/suspicious/noExplicitAny: Yeoman's options and config are untyped key-value bags; answers are checked by zod.
export type SciEbOptions = BaseOptions & Record<string, any>;

// biome-ignore lint/suspicious/noExplicitAny: as above, for the stored config.
export abstract class ProjectGenerator extends Generator<StoredState & Record<string, any>, SciEbOptions> {
  constructor(args: string[], options: SciEbOptions) {
    // The projects are Python: Yeoman's npm install step has nothing to do (the gateway installs its own).
    super(args, options, { customInstallTask: true });
    // Yeoman declares --skip-install for every generator ("install dependencies", which means nothing to upgrade or
    // requirements); the first declaration of a name wins, so it is replaced here: hidden unless a generator says
    // what it skips (declareSkipInstall).
    const own = this as unknown as { _options: Record<string, OptionSpec> };
    if (own._options?.['skip-install']) own._options['skip-install'] = { ...own._options['skip-install'], hide: true };
  }

  protected declareSkipInstall(description: string): void {
    (this as unknown as { _options: Record<string, OptionSpec> })._options['skip-install'] = { name: 'skip-install', type: Boolean, description };
  }

  /** The generator's name as the user types it after sci-eb: app, gateway, upgrade, requirements. */
  protected get generatorName(): string {
    return String(this.options.namespace ?? 'sci-eb:app').split(':').pop() ?? 'app';
  }

  /** --help from the declared options and the answer records: defaults and meanings, nothing run, nothing written. */
  override help(): string {
    const self = this as unknown as { _options: Record<string, OptionSpec>; _arguments: Array<{ name: string; description?: string; required?: boolean; default?: unknown }> };
    return formatHelp(this.generatorName, self._arguments, Object.values(self._options));
  }

  /**
   * Before any task: --help prints the help and runs nothing (yo and our launcher print it themselves before
   * queueing; this covers every other caller), and an option nobody declared is refused, nearest known one named.
   */
  override async queueTasks(): Promise<void> {
    const self = this as unknown as { _args: string[]; _initOptions: Record<string, unknown>; _options: Record<string, OptionSpec> };
    if (this.options.help) {
      // On stdout, as yo prints it (Yeoman's log writes to stderr).
      process.stdout.write(this.help());
      return;
    }
    const declared = Object.values(self._options);
    const unknown = unknownOptions(self._args, self._initOptions, declared);
    if (unknown.length > 0) throw new UsageError(unknownOptionsMessage(this.generatorName, unknown, declared));
    await super.queueTasks();
  }

  /**
   * Yeoman logs "An error occured while running sci-eb:app#prompting" before passing any task's error on. For an
   * error written for the user (it carries an exit code) that line only names an internal method: leave it out.
   */
  override async executeTask(...args: Parameters<Generator['executeTask']>): Promise<void> {
    const [task, ...rest] = args;
    const self = this as unknown as { log: ProjectGenerator['log'] };
    const log = this.log;
    const method = task.method;
    const quiet = new Proxy(log, { get: (target, key) => (key === 'error' ? () => undefined : Reflect.get(target, key)) });
    const wrapped = async (...taskArgs: unknown[]) => {
      try {
        return await method.apply(this, taskArgs);
      } catch (error) {
        if (typeof (error as { exitCode?: unknown })?.exitCode === 'number') self.log = quiet;
        throw error;
      }
    };
    try {
      await super.executeTask({ ...task, method: wrapped }, ...rest);
    } finally {
      self.log = log;
    }
  }

  /**
   * Yeoman opens ~/.yo-rc-global.json for every generator. Run as root, yo switches to uid 1000 first, which cannot
   * read root's home: say that, instead of the EACCES and TypeError yo would print.
   */
  override _getGlobalStorage(): ReturnType<Generator['_getGlobalStorage']> {
    const home = os.homedir();
    try {
      if (existsSync(home)) accessSync(home, constants.R_OK | constants.X_OK);
    } catch {
      throw new UsageError(`This process (uid ${process.getuid?.()}) cannot read its home folder ${home}, where Yeoman keeps .yo-rc-global.json. That is what happens when yo is run as root: yo, run as root, switches to uid 1000 before running a generator, and that user cannot read root's home. As root (containers, CI) run the same generator with sci-eb instead (npx sci-eb ${this.generatorName} ...); otherwise run yo as an ordinary user.`);
    }
    return super._getGlobalStorage();
  }

  /** yo passes --skip-install as skipInstall; our launcher hands it over as the raw option name. */
  protected get skipInstall(): boolean {
    return Boolean(this.options.skipInstall ?? this.options['skip-install']);
  }

  /** One CLI option per answer (the name argument aside): prompts, --help and errors share ANSWER_DOCS. */
  protected declareAnswerOptions(): void {
    for (const [key, doc] of Object.entries(ANSWER_DOCS)) {
      if (key === 'name') continue;
      this.option(doc.option, { type: key === 'gateway' ? Boolean : String, description: doc.describe });
    }
  }

  /** Answers given as options, under their answer keys. */
  protected answerOptions(): Record<string, unknown> {
    const given: Record<string, unknown> = {};
    for (const [key, doc] of Object.entries(ANSWER_DOCS) as Array<[AnswerKey, (typeof ANSWER_DOCS)[AnswerKey]]>) {
      const camel = doc.option.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());
      const value = this.options[doc.option] ?? this.options[camel];
      if (value !== undefined) given[key] = value;
    }
    return given;
  }

  protected readDisk(relative: string, root = this.destinationRoot()): Buffer | undefined {
    try {
      return readFileSync(path.join(root, relative));
    } catch {
      return undefined;
    }
  }

  protected storedState(root = this.destinationRoot()): StoredState {
    const file = path.join(root, CONFIG_FILE);
    if (!existsSync(file)) return {};
    try {
      return (JSON.parse(readFileSync(file, 'utf8'))[CONFIG_NAMESPACE] ?? {}) as StoredState;
    } catch (error) {
      throw new UsageError(`${file} is not valid JSON (${(error as Error).message}): fix or remove it.`);
    }
  }

  /** .yo-rc.json with our namespace replaced and any other generator's left as it was. */
  protected stateFile(root: string, state: StoredState): { path: string; content: Buffer } {
    const file = path.join(root, CONFIG_FILE);
    const all = existsSync(file) ? JSON.parse(readFileSync(file, 'utf8')) : {};
    all[CONFIG_NAMESPACE] = state;
    return { path: CONFIG_FILE, content: Buffer.from(`${JSON.stringify(all, null, 2)}\n`) };
  }

  /**
   * Carry out the changes and record the new state; nothing at all is written when nothing changed (a re-run with
   * the same answers touches no file, .yo-rc.json included).
   */
  protected saveProject(root: string, changes: Change[], rendered: RenderedFile[], answers: Answers, options: { newProject: boolean; manifest?: Manifest }): void {
    const previous = options.newProject ? {} : this.storedState(root);
    const state: StoredState = { answers, generatorVersion: GENERATOR_VERSION, manifest: options.manifest ?? nextManifest(changes, rendered) };
    const stateChanged = JSON.stringify(state) !== JSON.stringify({ answers: previous.answers, generatorVersion: previous.generatorVersion, manifest: previous.manifest });
    const extra = stateChanged ? [this.stateFile(root, state)] : [];
    try {
      if (options.newProject) {
        commitNewProject(root, [...changes.filter((c) => c.content).map((c) => ({ path: c.path, content: c.content!, executable: c.executable })), ...extra]);
      } else {
        commitChanges(root, changes, extra);
      }
    } catch (error) {
      const { code, syscall } = error as NodeJS.ErrnoException;
      // A recursive mkdir on a read-only or vanished folder reports ENOENT.
      if (code && (['EACCES', 'EPERM', 'EROFS', 'ENOSPC', 'EDQUOT', 'ENOTDIR'].includes(code) || (code === 'ENOENT' && syscall === 'mkdir'))) {
        throw new UsageError(`Cannot write to ${root} (${code}: ${(error as Error).message}). Nothing was changed: choose a folder you can write to, or free some space.`);
      }
      throw error;
    }
  }

  protected logChanges(changes: Change[], root: string): void {
    const where = path.relative(process.cwd(), root);
    for (const change of changes) {
      if (change.action === 'identical') continue;
      const target = where ? `${where}/${change.path}` : change.path;
      this.log(`  ${ACTION_LABELS[change.action].padEnd(12)} ${target}${change.renameTo ? ` -> ${change.renameTo}` : ''}`);
    }
  }

  protected relativeToCwd(target: string): string {
    return path.relative(process.cwd(), target) || '.';
  }
}

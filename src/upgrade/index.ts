/**
 * `yo sci-eb:upgrade`: re-render the project from its stored answers with this generator's templates, then per file:
 * replace what you did not edit, 3-way merge what you did (base: what the generator wrote last time, kept in
 * .yo-rc.json), add new files, remove retired ones you never touched, and never touch your own code.
 * `--adopt` brings a project made by hand from the classic recipe under the generator.
 */
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { createTwoFilesPatch } from 'diff';
import { ANSWER_DOCS, formatProblems, resolveAnswers, type AnswerKey, type Answers } from '../lib/answers.js';
import { alters, planChanges, sha256, type Change, type Manifest } from '../lib/apply.js';
import { inferAnswers } from '../lib/adopt.js';
import { isNewer, migrateAnswers } from '../lib/migrations.js';
import { planProject, renderPlan, type RenderedFile } from '../lib/plan.js';
import { PLATFORMS, type PlatformId } from '../lib/platforms.js';
import { orderRequirements } from '../lib/requirements.js';
import { ConflictError, GENERATOR_VERSION, ProjectGenerator, UsageError, type SciEbOptions } from '../base/project.js';

export class UpdateAvailable extends Error {
  exitCode = 2;
  constructor(message: string) {
    super(message);
    this.name = 'UpdateAvailable';
  }
}

/** `--set key=value` (repeatable) -> answers; keys are answer names or their option names. */
export function parseSets(values: unknown): Record<string, unknown> {
  const list = values === undefined ? [] : Array.isArray(values) ? values : [values];
  const byOption = new Map<string, string>(Object.entries(ANSWER_DOCS).map(([key, doc]) => [doc.option, key]));
  const out: Record<string, unknown> = {};
  for (const item of list.map(String)) {
    const eq = item.indexOf('=');
    if (eq <= 0) throw new UsageError(`--set ${item}: expected key=value, e.g. --set platform=al2023`);
    const raw = item.slice(0, eq).trim();
    const key = raw in ANSWER_DOCS ? raw : byOption.get(raw);
    if (!key) throw new UsageError(`--set ${item}: ${raw} is not an answer (known: ${Object.keys(ANSWER_DOCS).join(', ')})`);
    out[key] = item.slice(eq + 1);
  }
  return out;
}

/** Answers derived from others follow a change of what they derive from, unless set too (e.g. the platform's Python). */
function followDerived(answers: Record<string, unknown>, sets: Record<string, unknown>): Record<string, unknown> {
  const next = { ...answers, ...sets };
  const platform = PLATFORMS[next.platform as PlatformId];
  if (platform && sets.platform !== undefined && sets.pythonVersion === undefined && !platform.pythonVersions.includes(String(next.pythonVersion))) {
    next.pythonVersion = platform.defaultPython;
  }
  if (platform && sets.platform !== undefined && sets.architecture === undefined && !platform.architectures.includes(next.architecture as 'x86_64')) {
    next.architecture = platform.architectures[0];
    if (sets.instanceType === undefined) next.instanceType = platform.defaultInstanceType[platform.architectures[0]!];
  }
  return next;
}

export default class UpgradeGenerator extends ProjectGenerator {
  private answers!: Answers;
  private rendered!: RenderedFile[];
  private changes: Change[] = [];
  private manifest?: Manifest;
  private stateChanges: string[] = [];
  /** Notes of the migrations crossed, for scaffold files of the user's that those versions would have replaced. */
  private keptFileNotes: Record<string, string> = {};

  constructor(args: string[], options: SciEbOptions) {
    super(args, options);
    this.declareAnswerOptions();
    this.option('dry-run', { type: Boolean, description: 'Print what would change as unified diffs; write nothing' });
    this.option('check', { type: Boolean, description: 'Write nothing; exit with status 2 if an upgrade would change anything (for CI)' });
    // Kept as given: minimist collects a repeated option into an array, which String() would flatten.
    this.option('set', { type: ((value: unknown) => value) as never, description: 'Change an answer and regenerate accordingly: --set platform=al2023 (repeatable)' });
    this.option('adopt', { type: Boolean, description: 'Bring a project made by hand (no .yo-rc.json) under the generator' });
  }

  private get _dryRun(): boolean {
    return Boolean(this.options.dryRun ?? this.options['dry-run']);
  }

  prompting(): void {
    const root = this.destinationRoot();
    const state = this.storedState(root);
    const sets = parseSets(this.options.set);
    let given: Record<string, unknown>;
    if (this.options.adopt) {
      if (state.manifest) throw new UsageError('This project is already managed by generator-sci-eb: run `yo sci-eb:upgrade` without --adopt.');
      const inferred = inferAnswers((p) => this.readDisk(p)?.toString('utf8'), (d) => { try { return readdirSync(path.join(root, d)); } catch { return []; } }, path.basename(root));
      for (const line of inferred.evidence) this.log(`  inferred ${line}`);
      given = followDerived({ ...inferred.answers, ...this.answerOptions() }, sets);
    } else {
      if (!state.manifest || !state.answers) {
        throw new UsageError(`No generator-sci-eb project here (${root} has no .yo-rc.json from it). Run this inside a generated project, or use --adopt to bring a hand-made one under the generator.`);
      }
      if (isNewer(state.generatorVersion, GENERATOR_VERSION)) {
        throw new UsageError(`This project was made by generator-sci-eb ${state.generatorVersion}, newer than this one (${GENERATOR_VERSION}): upgrade the generator first.`);
      }
      const migrated = migrateAnswers(state.answers as Record<string, unknown>, state.generatorVersion);
      for (const m of migrated.applied) {
        this.stateChanges.push(`migrate to ${m.version}: ${m.describe}`);
        Object.assign(this.keptFileNotes, m.keptFileNotes);
      }
      given = followDerived(migrated.answers, sets);
      for (const [key, value] of Object.entries(sets)) this.stateChanges.push(`set ${key}=${value}`);
    }
    const resolution = resolveAnswers(given);
    if (!resolution.ok) throw new UsageError(formatProblems(resolution.problems));
    this.answers = resolution.answers;
    if (state.generatorVersion !== GENERATOR_VERSION) this.stateChanges.push(`generator ${state.generatorVersion ?? '(none)'} -> ${GENERATOR_VERSION}`);

    this.rendered = renderPlan(this.answers, planProject(this.answers), { generatorVersion: GENERATOR_VERSION });
    const disk = (p: string) => this.readDisk(p);
    if (this.options.adopt) {
      const { changes, manifest } = this._adoptionChanges(disk);
      this.changes = changes;
      this.manifest = manifest;
    } else {
      this.changes = planChanges(this.rendered, disk, state.manifest);
    }
  }

  /**
   * Adoption: the project's own files are treated as the user's edits of what the generator would write now, so
   * nothing of theirs is overwritten and later upgrades merge from here. Requirements are put in build order;
   * missing managed files are added; application code is left alone (no scaffold file is added either).
   */
  private _adoptionChanges(disk: (p: string) => Buffer | undefined): { changes: Change[]; manifest: Manifest } {
    const manifest: Manifest = {};
    const changes: Change[] = [];
    for (const file of this.rendered) {
      manifest[file.path] = { kind: file.kind, sha256: sha256(file.content), ...(file.kind === 'managed' ? { content: file.content.toString('utf8') } : {}) };
      const current = disk(file.path);
      const base = { path: file.path, kind: file.kind, executable: file.executable };
      if (current === undefined) {
        changes.push(file.kind === 'managed' ? { ...base, action: 'create', content: file.content } : { ...base, action: 'keep-deleted' });
      } else if (current.equals(file.content)) {
        changes.push({ ...base, action: 'identical' });
      } else if (file.path === 'requirements.txt') {
        const ordered = orderRequirements(current.toString('utf8'));
        changes.push(ordered.changed ? { ...base, action: 'merged', content: Buffer.from(ordered.text) } : { ...base, action: 'unchanged-edit' });
        for (const move of ordered.moved) this.log(`  requirements.txt: moved ${move.name} from line ${move.from} to ${move.to} (build order)`);
      } else {
        changes.push({ ...base, action: file.kind === 'managed' ? 'unchanged-edit' : 'keep-scaffold' });
      }
    }
    return { changes, manifest };
  }

  writing(): void {
    const root = this.destinationRoot();
    const altering = this.changes.filter(alters);
    if (this._dryRun || this.options.check) {
      for (const change of altering) this._printDiff(change);
      for (const line of this.stateChanges) this.log(`  .yo-rc.json: ${line}`);
      this._logKeptFileNotes();
      if (altering.length === 0 && this.stateChanges.length === 0) this.log('Up to date: an upgrade would change nothing.');
      if (this.options.check && (altering.length > 0 || this.stateChanges.length > 0)) {
        throw new UpdateAvailable(`An upgrade would change ${altering.length} file${altering.length === 1 ? '' : 's'}${this.stateChanges.length ? ' and .yo-rc.json' : ''}: run yo sci-eb:upgrade (or sci-eb upgrade).`);
      }
      return;
    }
    this.saveProject(root, this.changes, this.rendered, this.answers, { newProject: false, manifest: this.manifest });
    this.logChanges(this.changes, root);
    for (const line of this.stateChanges) this.log(`  .yo-rc.json: ${line}`);
  }

  private _printDiff(change: Change): void {
    const before = this.readDisk(change.path)?.toString('utf8') ?? '';
    if (change.action === 'deactivate') {
      this.log(`rename ${change.path} -> ${change.renameTo} (no longer generated; you edited it)`);
      return;
    }
    const after = change.action === 'delete' ? '' : change.content!.toString('utf8');
    this.log(createTwoFilesPatch(`a/${change.path}`, change.action === 'delete' ? '/dev/null' : `b/${change.path}`, before, after, 'current', `after upgrade (${change.action})`));
  }

  end(): void {
    if (this._dryRun || this.options.check) return;
    const conflicts = this.changes.filter((c) => c.action === 'conflict' || c.action === 'unresolved').map((c) => c.path);
    if (conflicts.length > 0) throw new ConflictError(conflicts);
    const altered = this.changes.filter(alters).length;
    this.log(altered === 0 ? 'Up to date: nothing to change.' : `Upgraded: ${altered} file${altered === 1 ? '' : 's'} changed.`);
    const orphans = this.changes.filter((c) => c.action === 'keep-orphan' || c.action === 'deactivate');
    for (const o of orphans) this.log(`  review ${o.renameTo ?? o.path}: the generator no longer writes ${o.path}, and it holds your edits.`);
    this._logKeptFileNotes();
  }

  private _logKeptFileNotes(): void {
    for (const change of this.changes) {
      const note = change.action === 'keep-scaffold' ? this.keptFileNotes[change.path] : undefined;
      if (note) this.log(`\nNote on ${change.path}:\n${note.replace(/^/gm, '  ')}`);
    }
  }
}

export type { AnswerKey };

/**
 * `yo sci-eb:upgrade`: re-render the project from its stored answers with this generator's templates, then per file:
 * replace what you did not edit, 3-way merge what you did (base: what the generator wrote last time, kept as blobs
 * under .sci-eb/bases/ and named by the hashes in .yo-rc.json), regenerate lockfiles with npm instead of merging
 * them, add new files, remove retired ones you never touched, and never touch your own code.
 * `--adopt` brings a project made by hand from the classic recipe under the generator.
 */
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { createTwoFilesPatch } from 'diff';
import { formatProblems, resolveAnswers, type AnswerKey, type Answers } from '../lib/answers.js';
import { alters, type Change } from '../lib/apply.js';
import type { Manifest } from '../lib/manifest.js';
import { adoptionChanges, inferAnswers } from '../lib/adopt.js';
import { ConflictError, LockfileError, UpdateAvailable, UsageError } from '../lib/errors.js';
import { BASES_DIR } from '../lib/merge-bases.js';
import { isNewer, migrateAnswers } from '../lib/migrations.js';
import { planProject, renderPlan, type RenderedFile } from '../lib/plan.js';
import { followDerived, parseSets } from '../lib/set-answers.js';
import { migratedTrust, TRUST_FILE } from '../lib/trust-migration.js';
import { GENERATOR_VERSION, ProjectGenerator, type SciEbOptions } from '../base/project.js';

export default class UpgradeGenerator extends ProjectGenerator {
  private answers!: Answers;
  private rendered!: RenderedFile[];
  private changes: Change[] = [];
  private manifest?: Manifest;
  private stateChanges: string[] = [];
  /** Notes of the migrations crossed, for scaffold files of the user's that those versions would have replaced. */
  private keptFileNotes: Record<string, string> = {};
  /** What the one-time move of trust out of model/schema.json recorded (projects from before 0.3.0). */
  private trustNote?: string;

  constructor(args: string[], options: SciEbOptions) {
    super(args, options);
    this.declareOptions();
  }

  /** Its options; the gateway generator, an upgrade with the gateway answer set, declares its own instead. */
  protected declareOptions(): void {
    this.declareAnswerOptions();
    this.option('dry-run', { type: Boolean, description: 'Print what would change as unified diffs; write nothing' });
    this.option('check', {
      type: Boolean,
      description: 'Write nothing; exit with status 2 if an upgrade would change anything (for CI)',
    });
    // Kept as given: minimist collects a repeated option into an array, which String() would flatten.
    this.option('set', {
      type: ((value: unknown) => value) as never,
      description: 'Change an answer and regenerate accordingly: --set platform=al2023 (repeatable)',
    });
    this.option('adopt', {
      type: Boolean,
      description: 'Bring a project made by hand (no .yo-rc.json) under the generator',
    });
    this.declareYes(
      'Accepted for scripts that pass it to every generator: upgrade asks no questions (a clash is written as conflict markers and listed)',
    );
  }

  private get _dryRun(): boolean {
    return Boolean(this.options.dryRun ?? this.options['dry-run']);
  }

  prompting(): void {
    const root = this.destinationRoot();
    const state = this.projectState(root);
    // An answer given as its option changes it as --set does (`--workers 4` is `--set workers=4`).
    const sets = { ...(this.options.adopt ? {} : this.answerOptions()), ...parseSets(this.options.set) };
    let given: Record<string, unknown>;
    if (this.options.adopt) {
      if (state.manifest)
        throw new UsageError(
          'This project is already managed by generator-sci-eb: run `yo sci-eb:upgrade` without --adopt.',
        );
      const inferred = inferAnswers(
        (p) => this.readDisk(p)?.toString('utf8'),
        (d) => {
          try {
            return readdirSync(path.join(root, d));
          } catch {
            return [];
          }
        },
        path.basename(root),
      );
      for (const line of inferred.evidence) this.log(`  inferred ${line}`);
      given = followDerived({ ...inferred.answers, ...this.answerOptions() }, sets);
    } else {
      if (!state.manifest || !state.answers) {
        throw new UsageError(
          `No generator-sci-eb project here (${root} has no .yo-rc.json from it). Run this inside a generated project, or use --adopt to bring a hand-made one under the generator.`,
        );
      }
      if (isNewer(state.generatorVersion, GENERATOR_VERSION)) {
        throw new UsageError(
          `This project was made by generator-sci-eb ${state.generatorVersion}, newer than this one (${GENERATOR_VERSION}): upgrade the generator first.`,
        );
      }
      const migrated = migrateAnswers(state.answers as Record<string, unknown>, state.generatorVersion);
      for (const m of migrated.applied) {
        this.stateChanges.push(`migrate to ${m.version}: ${m.describe}`);
        Object.assign(this.keptFileNotes, m.keptFileNotes);
      }
      given = followDerived(migrated.answers, sets);
      for (const [key, value] of Object.entries(sets)) this.stateChanges.push(`set ${key}=${value}`);
      if (state.inlineBases)
        this.stateChanges.push(`the merge bases move out of .yo-rc.json, into ${BASES_DIR}/ (commit it)`);
    }
    const resolution = resolveAnswers(given);
    if (!resolution.ok) throw new UsageError(formatProblems(resolution.problems));
    this.answers = resolution.answers;
    if (state.generatorVersion !== GENERATOR_VERSION)
      this.stateChanges.push(`generator ${state.generatorVersion ?? '(none)'} -> ${GENERATOR_VERSION}`);

    this.rendered = renderPlan(this.answers, planProject(this.answers), {
      generatorVersion: GENERATOR_VERSION,
      projectRoot: root,
    });
    if (this.options.adopt) {
      const { changes, manifest, moves } = adoptionChanges(this.rendered, (p) => this.readDisk(p));
      for (const line of moves) this.log(`  ${line}`);
      this.changes = changes;
      this.manifest = manifest;
    } else {
      this.changes = this.planFileChanges(this.rendered, root, state);
    }
    // trust.json is the user's (never generated, never in the manifest): written here only once, from what the old
    // project's model/schema.json trusted, and only when there is none yet.
    const trust =
      this.readDisk(TRUST_FILE) === undefined
        ? migratedTrust(this.readDisk('model/schema.json')?.toString('utf8'), state.generatorVersion)
        : undefined;
    if (trust) {
      this.changes.push({ path: TRUST_FILE, kind: 'scaffold', action: 'create', content: Buffer.from(trust.content) });
      this.trustNote = trust.note;
    }
  }

  writing(): void {
    const root = this.destinationRoot();
    const altering = this.changes.filter(alters);
    if (this._dryRun || this.options.check) {
      for (const change of this.changes.filter((c) => alters(c) || c.action === 'relock-failed'))
        this._printDiff(change);
      for (const line of this.stateChanges) this.log(`  .yo-rc.json: ${line}`);
      this._logKeptFileNotes();
      if (altering.length === 0 && this.stateChanges.length === 0)
        this.log('Up to date: an upgrade would change nothing.');
      if (this.options.check && (altering.length > 0 || this.stateChanges.length > 0)) {
        throw new UpdateAvailable(
          `An upgrade would change ${altering.length} file${altering.length === 1 ? '' : 's'}${this.stateChanges.length ? ' and .yo-rc.json' : ''}: run yo sci-eb:upgrade (or sci-eb upgrade).`,
        );
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
    if (change.action === 'relock-failed') {
      this.log(`keep ${change.path}: ${change.reason}`);
      return;
    }
    if (change.reason) this.log(`${change.path}: ${change.reason}`);
    const after = change.action === 'delete' ? '' : change.content!.toString('utf8');
    this.log(
      createTwoFilesPatch(
        `a/${change.path}`,
        change.action === 'delete' ? '/dev/null' : `b/${change.path}`,
        before,
        after,
        'current',
        `after upgrade (${change.action})`,
      ),
    );
  }

  end(): void {
    if (this._dryRun || this.options.check) return;
    const conflicts = this.changes
      .filter((c) => c.action === 'conflict' || c.action === 'unresolved')
      .map((c) => c.path);
    if (conflicts.length > 0) throw new ConflictError(conflicts);
    const unlocked = this.changes.filter((c) => c.action === 'relock-failed');
    if (unlocked.length > 0)
      throw new LockfileError(unlocked.map((c) => `${c.path} was not regenerated: ${c.reason}`).join('\n'));
    const altered = this.changes.filter(alters).length;
    this.log(
      altered === 0
        ? 'Up to date: nothing to change.'
        : `Upgraded: ${altered} file${altered === 1 ? '' : 's'} changed.`,
    );
    const orphans = this.changes.filter((c) => c.action === 'keep-orphan' || c.action === 'deactivate');
    for (const o of orphans)
      this.log(`  review ${o.renameTo ?? o.path}: the generator no longer writes ${o.path}, and it holds your edits.`);
    this._logKeptFileNotes();
  }

  private _logKeptFileNotes(): void {
    if (this.trustNote) this.log(`\nNote on ${TRUST_FILE}:\n${this.trustNote.replace(/^/gm, '  ')}`);
    for (const change of this.changes) {
      const note = change.action === 'keep-scaffold' ? this.keptFileNotes[change.path] : undefined;
      if (note) this.log(`\nNote on ${change.path}:\n${note.replace(/^/gm, '  ')}`);
    }
  }
}

export type { AnswerKey };

/**
 * `yo sci-eb [name]`: a new Flask + scikit-learn Elastic Beanstalk project. Prompts (or options, or an answers file)
 * -> one validation of all answers -> plan -> files. Run again in a project, it regenerates from the stored answers
 * the way `yo sci-eb:upgrade` does: your files are never overwritten, your edits are merged.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import {
  ANSWER_RECORDS,
  answerRecord,
  answersSoFar,
  formatProblems,
  resolveAnswers,
  validateAnswer,
  type AnswerKey,
  type Answers,
} from '../lib/answers.js';
import type { Change } from '../lib/apply.js';
import { planProject, renderPlan, type RenderedFile } from '../lib/plan.js';
import { installSteps, nextSteps, transportWarnings } from '../lib/install.js';
import { csvHeaderProblems } from '../lib/csv.js';
import { importArgs, modelSourceProblems, type ModelSource } from '../lib/model-import.js';
import { ConflictError, UsageError } from '../lib/errors.js';
import { CONFIG_NAMESPACE, GENERATOR_VERSION, ProjectGenerator, type SciEbOptions } from '../base/project.js';

// Yeoman runs every method of a generator class as a task, except names starting with "_": helpers carry one.
type Question = Record<string, unknown> & { name: AnswerKey };
type Given = Record<string, unknown>;

export default class AppGenerator extends ProjectGenerator {
  private answers!: Answers;
  private target!: string;
  private rerun = false;
  private rendered!: RenderedFile[];
  private changes: Change[] = [];
  /** An existing model to serve instead of training one (`--model`): imported once the venv exists. */
  private modelSource?: ModelSource;

  constructor(args: string[], options: SciEbOptions) {
    super(args, options);
    this.argument('name', { type: String, required: false, description: answerRecord('name').describe });
    this.declareAnswerOptions();
    this.option('yes', { type: Boolean, alias: 'y', description: 'Use the default for every answer not given' });
    this.option('answers', {
      type: String,
      description: 'JSON file of answers, e.g. {"name": "iris", "estimator": "ridge"}',
    });
    this.declareSkipInstall(
      'Write the project only: no virtualenv, install or training (make venv train does them later)',
    );
    this.option('model', {
      type: String,
      description:
        'Serve a model you already trained (skops, joblib/pickle or an MLflow sklearn folder) instead of training one',
    });
    this.option('sample', {
      type: String,
      description: 'With --model: CSV of rows the model accepts (types, categories, ranges; the proof rows)',
    });
    this.option('trust-pickle', {
      type: Boolean,
      description: 'With --model: allow a joblib/pickle file (loading a pickle runs its code)',
    });
    this.option('trust-type', {
      type: String,
      description: 'With --model: comma-separated skops types you reviewed and trust',
    });
    this.option('interactive', {
      type: Boolean,
      hide: true,
      description: 'Ask questions even without a terminal (tests)',
    });
  }

  /** Answers given without prompting: stored ones (re-run), then the answers file, then options and the argument. */
  private _givenAnswers(stored: Given | undefined): Given {
    const given: Given = { ...stored };
    const file = this.options.answers as string | undefined;
    if (file) {
      let parsed: unknown;
      try {
        parsed = JSON.parse(readFileSync(path.resolve(file), 'utf8'));
      } catch (error) {
        throw new UsageError(`--answers ${file}: ${(error as Error).message}; it must be a JSON object of answers`);
      }
      if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed))
        throw new UsageError(`--answers ${file}: must be a JSON object of answers`);
      // An answers file may be a whole .yo-rc.json: take the generator's answers from it.
      const record = parsed as Given;
      Object.assign(given, (record[CONFIG_NAMESPACE] as { answers?: Given } | undefined)?.answers ?? record);
    }
    Object.assign(given, this.answerOptions());
    if (typeof this.options.name === 'string') given.name = this.options.name;
    return given;
  }

  async prompting(): Promise<void> {
    // A generated project has a manifest; a .yo-rc.json with answers only (like the generator repository's reference
    // example) is an answers file, not a project to regenerate in place.
    const here = this.storedState();
    const given = this._givenAnswers(here.manifest ? here.answers : undefined);
    this.rerun = Boolean(here.manifest);
    const terminal = this.options.interactive ?? process.stdin.isTTY === true;
    const interactive = !this.options.yes && !this.rerun && terminal;
    const soFar = answersSoFar(given);
    const missing = ANSWER_RECORDS.filter((r) => given[r.key] === undefined && (r.when?.(soFar) ?? true)).map(
      (r) => `--${r.option}`,
    );
    if (!this.options.yes && !this.rerun && !terminal && missing.length > 0) {
      this.log(`No terminal to ask questions on: using the defaults for ${missing.join(', ')} (as with --yes).`);
    }
    // First what a person decides first: serve a model they already have, or train one (then the training questions).
    this.modelSource = await this._modelSource(interactive);
    if (interactive)
      Object.assign(given, await this.prompt(this._questions(given, Boolean(this.modelSource)) as never));
    const resolution = resolveAnswers(given);
    if (!resolution.ok) throw new UsageError(formatProblems(resolution.problems));
    this.answers = resolution.answers;
    if (this.answers.dataset === 'csv' && this.answers.csvPath)
      this._checkCsv(this.answers.csvPath, this.answers.targetColumn);
    this.target = this.rerun ? this.destinationRoot() : this._chooseDestination();
    if (!this.rerun && this.storedState(this.target).manifest) this.rerun = true;
    // Everything is rendered and decided before the first byte is written: a failure here leaves nothing behind.
    this.rendered = renderPlan(this.answers, planProject(this.answers), { generatorVersion: GENERATOR_VERSION });
    this.changes = this.planFileChanges(
      this.rendered,
      this.target,
      this.rerun ? this.projectState(this.target) : undefined,
    );
  }

  /** --model and friends (or their prompts), checked before anything is written. */
  private async _modelSource(interactive: boolean): Promise<ModelSource | undefined> {
    const option = (name: string) =>
      this.options[name] ?? this.options[name.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase())];
    let source: ModelSource | undefined = option('model')
      ? {
          model: String(option('model')),
          sample: option('sample') as string | undefined,
          target: this.options.target as string | undefined,
          trustPickle: Boolean(option('trust-pickle')),
          trustTypes: String(option('trust-type') ?? '')
            .split(',')
            .map((t) => t.trim())
            .filter(Boolean),
        }
      : undefined;
    if (!source && interactive && !this.rerun) {
      const asked = (await this.prompt([
        {
          type: 'input',
          name: 'model',
          message:
            'A model you already trained, to serve instead of training one (skops, joblib/pickle file or MLflow folder; empty: train one)',
          default: '',
        },
        {
          type: 'input',
          name: 'sample',
          message: 'A CSV of rows it accepts (gives schema.json its types and ranges; the rows it is proven on)',
          when: (a: Given) => Boolean(a.model),
        },
        {
          type: 'input',
          name: 'target',
          message: 'The column it predicts (its name in the API; empty if the CSV has no target)',
          when: (a: Given) => Boolean(a.model),
          default: '',
        },
        {
          type: 'confirm',
          name: 'trustPickle',
          message:
            'If it is a joblib/pickle file: loading a pickle runs whatever code is in it. Do you trust who made it?',
          when: (a: Given) => Boolean(a.model),
          default: false,
        },
      ] as never)) as Given;
      if (asked.model)
        source = {
          model: String(asked.model),
          sample: asked.sample as string,
          target: (asked.target as string) || undefined,
          trustPickle: Boolean(asked.trustPickle),
        };
    }
    if (!source) return undefined;
    const problems = modelSourceProblems(source, process.cwd());
    if (problems.length > 0) throw new UsageError(`${problems.join('\n')}\nNothing was written.`);
    return source;
  }

  private _checkCsv(csvPath: string, target: string | undefined): void {
    if (!existsSync(path.resolve(csvPath)))
      throw new UsageError(`--csv: ${csvPath} does not exist; give the path of your CSV file. Nothing was written.`);
    const problems = csvHeaderProblems(readFileSync(path.resolve(csvPath), 'utf8').slice(0, 65_536), target);
    if (problems.length > 0) throw new UsageError(`--csv: ${csvPath} ${problems.join('; ')}. Nothing was written.`);
  }

  /** A new project goes into ./<name>, unless we are in an empty folder of that name already. */
  private _chooseDestination(): string {
    const here = process.cwd();
    const target =
      path.basename(here) === this.answers.name && readdirSync(here).length === 0
        ? here
        : path.join(here, this.answers.name);
    if (existsSync(target) && readdirSync(target).length > 0 && !this.storedState(target).manifest) {
      throw new UsageError(
        `${this.relativeToCwd(target)} exists and is not empty: choose another name, or empty it (to bring a hand-made project under the generator, run \`yo sci-eb:upgrade --adopt\` inside it). Nothing was written.`,
      );
    }
    return target;
  }

  /**
   * The questions not answered yet, from the answer records: defaults, choices and validation all come from there.
   * With a model of the user's own, what only training needs (task, estimator, data) is not asked.
   */
  private _questions(given: Given, ownModel = false): Question[] {
    const current = (answers: Given) => answersSoFar({ ...given, ...answers });
    return ANSWER_RECORDS.filter((r) => given[r.key] === undefined && !(ownModel && r.forTraining)).map((r) => ({
      type: r.type,
      name: r.key,
      message: r.question,
      default: (a: Given) => current(a)[r.key],
      ...(r.choices
        ? { choices: (a: Given) => r.choices!(current(a)).map((c) => ({ name: c.name ?? c.value, value: c.value })) }
        : {}),
      ...(r.when ? { when: (a: Given) => r.when!(current(a)) } : {}),
      validate: (value: unknown, a: Given = {}) => validateAnswer(r.key, value, { ...given, ...a }),
    }));
  }

  writing(): void {
    this.saveProject(this.target, this.changes, this.rendered, this.answers, { newProject: !this.rerun });
    this.logChanges(this.changes, this.target);
  }

  async install(): Promise<void> {
    if (this.skipInstall || this.rerun) return;
    const imported = this.modelSource ? importArgs(this.modelSource, process.cwd()) : undefined;
    for (const step of installSteps(this.answers, imported)) {
      this.log(`\n▸ ${step.title}: ${step.command} ${step.args.join(' ')}`);
      await this.spawn(step.command, step.args, { cwd: this.target, stdio: 'inherit' });
    }
  }

  end(): void {
    const conflicts = this.changes
      .filter((c) => c.action === 'conflict' || c.action === 'unresolved')
      .map((c) => c.path);
    if (conflicts.length > 0) throw new ConflictError(conflicts);
    if (this.rerun) {
      this.log(`\nRegenerated ${this.relativeToCwd(this.target)} from its stored answers.`);
      return;
    }
    const where = this.relativeToCwd(this.target);
    this.log(`\nDone: ${where}. Next:`);
    this.log(`  cd ${where}`);
    if (this.skipInstall && this.modelSource) {
      // Made around an existing model: the import replaces training in the first step.
      const args = importArgs(this.modelSource, process.cwd()).map((a) => (/[\s"']/.test(a) ? JSON.stringify(a) : a));
      this.log(`  make venv && .venv/bin/python tools/import_model.py ${args.join(' ')}   # (skipped: --skip-install)`);
      for (const line of nextSteps(this.answers, true)) this.log(`  ${line}`);
    } else {
      for (const line of nextSteps(this.answers, !this.skipInstall)) this.log(`  ${line}`);
    }
    const warnings = transportWarnings(this.answers);
    if (warnings.length > 0) this.log(`\n${warnings.join('\n')}`);
  }
}

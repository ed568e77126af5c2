/**
 * `yo sci-eb [name]`: a new Flask + scikit-learn Elastic Beanstalk project. Prompts (or options, or an answers file)
 * -> one validation of all answers -> plan -> files. Run again in a project, it regenerates from the stored answers
 * the way `yo sci-eb:upgrade` does: your files are never overwritten, your edits are merged.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import {
  ANSWER_RECORDS,
  answerProblems,
  answerRecord,
  answersSoFar,
  featureTypePairs,
  forgetUnusedCsv,
  formatProblems,
  resolveAnswers,
  validateAnswer,
  type AnswerKey,
  type Answers,
} from '../lib/answers.js';
import type { Change } from '../lib/apply.js';
import { planProject, renderPlan, type RenderedFile } from '../lib/plan.js';
import { installSteps, nextSteps, transportWarnings } from '../lib/install.js';
import { importArgs, modelSourceProblems, runPreflight, type ModelSource } from '../lib/model-import.js';
import { ConflictError, InstallFailed, UsageError } from '../lib/errors.js';
import { TEMPLATES_DIR } from '../lib/file-specs.js';
import { CONFIG_NAMESPACE, GENERATOR_VERSION, ProjectGenerator, type SciEbOptions } from '../base/project.js';

/** A list option given once, comma-separated, or repeated. */
function listOption(value: unknown): string[] {
  const given = Array.isArray(value) ? value : value === undefined || value === null ? [] : [value];
  return given
    .flatMap((v) => String(v).split(','))
    .map((v) => v.trim())
    .filter(Boolean);
}

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
    this.declareYes('Use the default for every answer not given');
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
      description:
        'With --model: CSV of rows the model accepts (types, categories, ranges; the proof rows); an MLflow folder with a signature and an input example needs none',
    });
    this.option('trust-pickle', {
      type: Boolean,
      description: 'With --model: allow a joblib/pickle file (loading a pickle runs its code)',
    });
    this.option('trust-type', {
      type: String,
      description: 'With --model: comma-separated skops types you reviewed and trust',
    });
    this.option('trust-mlflow-types', {
      type: Boolean,
      description: 'With --model: trust the skops types an MLflow folder lists as trusted (skops_trusted_types)',
    });
    this.option('code', {
      type: String,
      description:
        'With --model: comma-separated paths of your own modules (.py, package or folder: MLflow code/) the model uses; copied into model_code/, they run when it loads',
    });
    this.option('interactive', {
      type: Boolean,
      hide: true,
      description: 'Ask questions even without a terminal (tests)',
    });
  }

  /** Answers given without prompting: stored ones (re-run), then the answers file, then options and the argument. */
  private _givenAnswers(stored: Given | undefined): Given {
    const given: Given = forgetUnusedCsv({ ...stored });
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
    const cwd = process.cwd();
    // What was given is checked before the first question: a wrong --csv is said now, not after twenty answers.
    const givenProblems = interactive ? answerProblems(given, { cwd }) : [];
    if (givenProblems.length > 0) throw new UsageError(formatProblems(givenProblems));
    // The name, then what a person decides first: serve a model they already have, or train one (then the data, what
    // to predict from it and how, then where it runs).
    if (interactive) Object.assign(given, await this.prompt(this._questions(given, { only: 'name' }) as never));
    this.modelSource = await this._modelSource(interactive);
    // With a model of the user's own, --target names the sample's target column (the model source has it), not a CSV
    // to train on.
    if (this.modelSource) delete given.targetColumn;
    if (interactive)
      Object.assign(given, await this.prompt(this._questions(given, { ownModel: Boolean(this.modelSource) }) as never));
    // The disk is checked for answers given now, not for the stored ones of a re-run (its CSV is in data/ by now).
    const resolution = resolveAnswers(given, this.rerun ? {} : { cwd });
    if (!resolution.ok) throw new UsageError(formatProblems(resolution.problems));
    this.answers = resolution.answers;
    // The types the user set serve an imported model as they serve training (tools/import_model.py --feature-type).
    if (this.modelSource) this.modelSource.featureTypes = featureTypePairs(this.answers.featureTypes);
    this.target = this.rerun ? this.destinationRoot() : this._chooseDestination();
    if (!this.rerun && this.storedState(this.target).manifest) this.rerun = true;
    if (this.modelSource) this._checkModel(this.modelSource);
    // Everything is rendered and decided before the first byte is written: a failure here leaves nothing behind.
    this.rendered = renderPlan(this.answers, planProject(this.answers), {
      generatorVersion: GENERATOR_VERSION,
      ...(this.rerun ? { projectRoot: this.target } : {}),
    });
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
          trustTypes: listOption(option('trust-type')),
          trustMlflowTypes: Boolean(option('trust-mlflow-types')),
          code: listOption(option('code')),
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
          message:
            'A CSV of rows it accepts (gives schema.json its types and ranges; the rows it is proven on; empty for an MLflow folder with an input example)',
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
          type: 'input',
          name: 'code',
          message:
            'Your own module(s) it uses, comma-separated (.py files or folders; they run when the model loads; empty: none)',
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
          sample: (asked.sample as string) || undefined,
          target: (asked.target as string) || undefined,
          trustPickle: Boolean(asked.trustPickle),
          code: listOption(asked.code),
        };
    }
    if (!source) return undefined;
    const problems = modelSourceProblems(source, process.cwd());
    if (problems.length > 0) throw new UsageError(`${problems.join('\n')}\nNothing was written.`);
    return source;
  }

  /**
   * A model asked for is served, or the run fails: never "regenerated" without one. In an existing project the
   * import is the project's own command; for a new one, the importer's preflight decides everything it can before a
   * byte is written (seconds, with the system's python3), and the rest happens in install(), which removes the
   * project again if it fails.
   */
  private _checkModel(source: ModelSource): void {
    if (this.rerun) {
      const args = importArgs(source, process.cwd()).map((a) => (/[\s"']/.test(a) ? JSON.stringify(a) : a));
      throw new UsageError(
        `${this.relativeToCwd(this.target)} is already a sci-eb project, and --model imports into a new one. To serve your model in it, run there:\n  cd ${this.relativeToCwd(this.target)} && make venv && .venv/bin/python tools/import_model.py ${args.join(' ')}\n(or sci-eb model import ...). Nothing was written.`,
      );
    }
    const pins = this.answers.runtime === 'onnx' ? `${this.answers.platform}-onnx` : this.answers.platform;
    this.log(`Checking ${source.model} before writing anything...`);
    const checked = runPreflight(
      source,
      {
        pythonVersion: this.answers.pythonVersion,
        architecture: this.answers.architecture,
        runtime: this.answers.runtime,
        requirements: path.join(TEMPLATES_DIR, 'pins', `${pins}.txt`),
      },
      process.cwd(),
    );
    for (const note of checked.notes) this.log(note);
    if (checked.problems.length > 0)
      throw new UsageError(`${checked.problems.map((p) => `--model: ${p}`).join('\n')}\nNothing was written.`);
    const libraries = Object.entries(checked.libraries).map(([name, version]) => `${name}==${version}`);
    if (libraries.length > 0)
      this.log(`The model needs ${libraries.join(', ')}: the import pins them in requirements.txt.`);
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
   * With a model of the user's own, what only training needs (task, estimator, data) is not asked. Each answer is
   * checked as it is typed, the disk included (the CSV exists), and the CSV's columns are offered as the target.
   */
  private _questions(
    given: Given,
    { ownModel = false, only }: { ownModel?: boolean; only?: AnswerKey } = {},
  ): Question[] {
    const cwd = process.cwd();
    const current = (answers: Given) => answersSoFar({ ...given, ...answers });
    const asked = ANSWER_RECORDS.filter(
      (r) => given[r.key] === undefined && !(ownModel && r.forTraining) && (only === undefined || r.key === only),
    );
    return asked.map((r) => {
      const fromDisk = r.promptChoices
        ? (a: Given) =>
            (r.promptChoices!(current(a), cwd) ?? []).map((c) => ({ name: c.name ?? c.value, value: c.value }))
        : undefined;
      return {
        // A choice the disk offers (the CSV's columns) is picked from a list, like the records' own choices.
        type: fromDisk ? 'select' : r.type,
        name: r.key,
        message: r.question,
        // Offered from the disk, the default is the last column: where a CSV's label usually is.
        default: (a: Given) => current(a)[r.key] ?? fromDisk?.(a).at(-1)?.value,
        ...(fromDisk
          ? { choices: fromDisk }
          : r.choices
            ? {
                choices: (a: Given) => r.choices!(current(a)).map((c) => ({ name: c.name ?? c.value, value: c.value })),
              }
            : {}),
        ...(r.when ? { when: (a: Given) => r.when!(current(a)) } : {}),
        validate: (value: unknown, a: Given = {}) => validateAnswer(r.key, value, { ...given, ...a }, { cwd }),
      };
    });
  }

  writing(): void {
    this.saveProject(this.target, this.changes, this.rendered, this.answers, { newProject: !this.rerun });
    this.logChanges(this.changes, this.target);
  }

  async install(): Promise<void> {
    if (this.rerun) return;
    if (this.skipInstall) {
      // Made around the user's model, not yet imported: the Makefile's model/schema.json rule reads this and says to
      // import it, instead of training the default model in its place. The import's new model/ replaces the folder.
      if (this.modelSource) {
        mkdirSync(path.join(this.target, 'model'), { recursive: true });
        writeFileSync(path.join(this.target, 'model', '.import-pending'), `${this._importCommand()}\n`);
      }
      return;
    }
    const imported = this.modelSource ? importArgs(this.modelSource, process.cwd()) : undefined;
    const steps = installSteps(this.answers, imported);
    for (const [index, step] of steps.entries()) {
      this.log(`\n▸ ${step.title}: ${step.command} ${step.args.join(' ')}`);
      try {
        await this.spawn(step.command, step.args, { cwd: this.target, stdio: 'inherit' });
      } catch (error) {
        const status = (error as { exitCode?: number }).exitCode;
        const failed = `${step.title} failed${status === undefined ? '' : ` (exit ${status})`}; its reason is above.`;
        const where = this.relativeToCwd(this.target);
        if (this.modelSource) {
          // A project without the model it was made for is not left behind: it goes, venv and all.
          this._removeNewProject();
          throw new InstallFailed(
            `${failed} ${where} was removed: nothing is left behind. Fix what it says and run the same command again.`,
            status === 2 ? 2 : 1,
          );
        }
        // A trained project is yours to fix (features.py, train.py, the data): it stays, with the steps left to run.
        const rest = steps
          .slice(index)
          .filter((s) => s.command === 'make')
          .map((s) => `make ${s.args.at(-1)}`);
        throw new InstallFailed(
          `${failed} The project is written in ${where}: fix what it says there, then run: cd ${where} && ${rest.join(' && ')}`,
          status === 2 ? 2 : 1,
        );
      }
    }
  }

  /** The import that replaces training in a project made around the user's model, as a shell line. */
  private _importCommand(): string {
    const args = importArgs(this.modelSource!, process.cwd()).map((a) => (/[\s"']/.test(a) ? JSON.stringify(a) : a));
    return `make venv && .venv/bin/python tools/import_model.py ${args.join(' ')}`;
  }

  /** The folder was new or empty (_chooseDestination made sure): remove what this run put there. */
  private _removeNewProject(): void {
    if (this.target === process.cwd()) {
      for (const entry of readdirSync(this.target))
        rmSync(path.join(this.target, entry), { recursive: true, force: true });
    } else {
      rmSync(this.target, { recursive: true, force: true });
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
      this.log(`  ${this._importCommand()}   # (skipped: --skip-install)`);
      for (const line of nextSteps(this.answers, true)) this.log(`  ${line}`);
    } else {
      for (const line of nextSteps(this.answers, !this.skipInstall)) this.log(`  ${line}`);
    }
    const warnings = transportWarnings(this.answers);
    if (warnings.length > 0) this.log(`\n${warnings.join('\n')}`);
  }
}

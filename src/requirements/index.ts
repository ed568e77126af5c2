/**
 * `yo sci-eb:requirements [file]`: order an existing requirements.txt (e.g. `pip freeze` output) so build
 * dependencies come first, the step the seed recipe does by hand. Comments, markers, hashes and option lines are kept.
 */
import { orderRequirements } from '../lib/requirements.js';
import { ProjectGenerator, type SciEbOptions } from '../base/project.js';
import { UsageError } from '../lib/errors.js';
import { commitChanges } from '../base/commit.js';

export default class RequirementsGenerator extends ProjectGenerator {
  constructor(args: string[], options: SciEbOptions) {
    super(args, options);
    this.argument('file', {
      type: String,
      required: false,
      default: 'requirements.txt',
      description: 'The requirements file to order',
    });
    this.option('check', {
      type: Boolean,
      description: 'Change nothing; exit with status 2 if the file is not in build order',
    });
    this.declareYes('Accepted for scripts that pass it to every generator: this one asks no questions');
  }

  writing(): void {
    const file = this.options.file as string;
    const original = this.readDisk(file);
    if (original === undefined)
      throw new UsageError(
        `${file} does not exist here (${this.destinationRoot()}); give the path of your requirements file.`,
      );
    const report = orderRequirements(original.toString('utf8'));
    if (!report.changed) {
      this.log(`${file} is already in build order.`);
      return;
    }
    for (const move of report.moved) this.log(`  moved ${move.name}: line ${move.from} -> ${move.to}`);
    if (this.options.check) {
      process.exitCode = 2;
      this.log(`${file} is not in build order (run without --check to fix it).`);
      return;
    }
    commitChanges(this.destinationRoot(), [
      { path: file, kind: 'managed', action: 'replace', content: Buffer.from(report.text) },
    ]);
    this.log(
      `${file}: ${report.moved.length} requirement${report.moved.length === 1 ? '' : 's'} moved so build dependencies come first.`,
    );
  }
}

/**
 * `yo sci-eb:gateway`: add the prediction gateway to a generated project, or refresh it after a generator upgrade.
 * It is an upgrade with the gateway answer set, so edits to gateway files are merged like any managed file. What the
 * gateway brings is in files of its own (gateway/, gateway.mk, docs/gateway.md), so the user's README and Makefile
 * stay as they are; then (unless --skip-install) `make gateway` installs it and generates its types from
 * model/schema.json, and the next steps are printed.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { gatewaySteps } from '../lib/install.js';
import UpgradeGenerator from '../upgrade/index.js';
import type { SciEbOptions } from '../base/project.js';

export default class GatewayGenerator extends UpgradeGenerator {
  private installed = false;

  constructor(args: string[], options: SciEbOptions) {
    super(args, options);
    this.declareSkipInstall(
      'Write the files only: no npm ci and schema sync in gateway/ (make gateway does them later)',
    );
  }

  // Its own options, not upgrade's: the answer it changes is fixed (gateway=true), and there is nothing to adopt.
  protected override declareOptions(): void {
    this.option('dry-run', {
      type: Boolean,
      description: 'Print what adding (or refreshing) the gateway would change, as unified diffs; write nothing',
    });
    this.declareYes('Accepted for scripts that pass it to every generator: this one asks no questions');
  }

  private get _readOnly(): boolean {
    return Boolean(this.options['dry-run'] || this.options.dryRun);
  }

  // Yeoman queues only the methods of the class it runs, so the upgrade's steps are named here again.
  prompting(): void {
    (this.options as Record<string, unknown>).set = ['gateway=true'];
    super.prompting();
  }

  // Named here only for Yeoman's queue, as prompting is.
  writing(): void {
    super.writing();
  }

  // Yeoman runs install before end: the next steps know whether the gateway was installed.
  end(): void {
    super.end();
    if (this._readOnly) return;
    this.log('\nNext:');
    for (const line of this._nextSteps()) this.log(`  ${line}`);
  }

  async install(): Promise<void> {
    if (this.skipInstall || this._readOnly) return;
    if (!existsSync(path.join(this.destinationRoot(), 'model', 'schema.json'))) {
      this.log('\nThe model is not trained yet (no model/schema.json), and the gateway is built from its schema.');
      return;
    }
    for (const step of gatewaySteps()) {
      this.log(`\n▸ ${step.title}: ${step.command} ${step.args.join(' ')}`);
      await this.spawn(step.command, step.args, { cwd: this.destinationRoot(), stdio: 'inherit' });
    }
    this.installed = true;
  }

  private _nextSteps(): string[] {
    const trained = existsSync(path.join(this.destinationRoot(), 'model', 'schema.json'));
    return [
      ...(this.installed
        ? []
        : [
            trained
              ? 'make gateway        # npm ci in gateway/, types and OpenAPI from model/schema.json'
              : 'make train gateway  # train the model, then install the gateway from its schema',
          ]),
      'make serve          # in one terminal: the Flask service on :8000',
      'make gateway-serve  # in another: the gateway on http://127.0.0.1:3000 (docs at /docs)',
      "make gateway-test   # the gateway's tests",
      'docs/gateway.md     # deploying it (make gateway-create, make gateway-deploy) and configuring it',
    ];
  }
}

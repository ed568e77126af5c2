/**
 * `yo sci-eb:gateway`: add the prediction gateway to a generated project, or refresh it after a generator upgrade.
 * It is an upgrade with the gateway answer set, so edits to gateway files are merged like any managed file; then
 * (unless --skip-install) `make gateway` installs it and generates its types from model/schema.json.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { gatewaySteps } from '../lib/install.js';
import UpgradeGenerator from '../upgrade/index.js';
import type { SciEbOptions } from '../base/project.js';

export default class GatewayGenerator extends UpgradeGenerator {
  constructor(args: string[], options: SciEbOptions) {
    super(args, options);
    this.option('skip-install', { type: Boolean, description: 'Do not run npm ci and the schema sync in gateway/' });
  }

  // Yeoman queues only the methods of the class it runs, so the upgrade's steps are named here again.
  prompting(): void {
    const set = this.options.set === undefined ? [] : Array.isArray(this.options.set) ? this.options.set : [this.options.set];
    (this.options as Record<string, unknown>).set = [...set, 'gateway=true'];
    super.prompting();
  }

  writing(): void {
    super.writing();
  }

  end(): void {
    super.end();
  }

  async install(): Promise<void> {
    if (this.skipInstall || this.options.check || this.options['dry-run'] || this.options.dryRun) return;
    if (!existsSync(path.join(this.destinationRoot(), 'model', 'schema.json'))) {
      this.log('Train the model first (make train), then run make gateway: the gateway is built from model/schema.json.');
      return;
    }
    for (const step of gatewaySteps()) {
      this.log(`\n▸ ${step.title}: ${step.command} ${step.args.join(' ')}`);
      await this.spawn(step.command, step.args, { cwd: this.destinationRoot(), stdio: 'inherit' });
    }
  }
}

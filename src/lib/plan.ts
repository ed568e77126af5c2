/**
 * answers -> plan -> files. `planProject` is pure: it says which files a project has, which class each belongs to and
 * how to make it. `renderPlan` turns a plan into contents. The app generator, upgrade, dry runs, the tests and the
 * `sci-eb` launcher all go through these two functions.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import ejs from 'ejs';
import type { Answers } from './answers.js';
import { PLATFORMS } from './platforms.js';
import {
  LIMITS, MANAGED_HEADER, ebCliConfig, flaskConfig, nginxBodySizeConf, procfileCommand, wsgiConfig, yumInstallConfig,
} from './ebconfig.js';
import { orderRequirements } from './requirements.js';

/** managed: the generator keeps it current on upgrade (3-way merge); scaffold: written once, then the user's. */
export type FileKind = 'managed' | 'scaffold';

export type FileSource =
  | { template: string }                 // EJS template under the templates folder, rendered with the plan's data
  | { content: string }                  // computed here from data (EB configs)
  | { requirements: string[] }           // pin files under templates/pins, concatenated and build-order sorted
  | { copy: string };                    // a user file copied byte for byte (their CSV)

export interface PlannedFile {
  path: string;
  kind: FileKind;
  source: FileSource;
  executable?: boolean;
}

export interface RenderedFile {
  path: string;
  kind: FileKind;
  content: Buffer;
  executable: boolean;
}

export const TEMPLATES_DIR = fileURLToPath(new URL('../../templates', import.meta.url));

/** Where the user's CSV lands inside the project (kept out of the EB bundle by .ebignore). */
export function projectCsvPath(a: Answers): string | undefined {
  return a.dataset === 'csv' && a.csvPath ? `data/${path.basename(a.csvPath)}` : undefined;
}

export function templateData(a: Answers, generatorVersion: string) {
  const platform = PLATFORMS[a.platform];
  return {
    ...a,
    modelName: a.name,
    csvPath: projectCsvPath(a) ?? '',
    targetColumn: a.targetColumn ?? '',
    platformInfo: { ...platform, branch: platform.branchName(a.pythonVersion) },
    procfileCommand: platform.server === 'gunicorn' ? procfileCommand(a) : '',
    pythonCommand: `python${a.pythonVersion}`,
    maxRows: LIMITS.maxRows,
    maxBodyBytes: LIMITS.maxBodyBytes,
    generatorVersion,
    managedHeader: MANAGED_HEADER,
  };
}

export function planProject(a: Answers): PlannedFile[] {
  const platform = PLATFORMS[a.platform];
  const gunicorn = platform.server === 'gunicorn';
  const files: PlannedFile[] = [
    { path: 'application.py', kind: 'scaffold', source: { template: 'app/application.py.ejs' } },
    { path: 'train.py', kind: 'scaffold', source: { template: 'app/train.py.ejs' } },
    { path: 'tests/conftest.py', kind: 'scaffold', source: { template: 'app/tests/conftest.py.ejs' } },
    { path: 'tests/test_app.py', kind: 'scaffold', source: { template: 'app/tests/test_app.py.ejs' } },
    { path: 'tests/test_train.py', kind: 'scaffold', source: { template: 'app/tests/test_train.py.ejs' } },
    { path: 'README.md', kind: 'scaffold', source: { template: 'app/README.md.ejs' } },
    { path: 'requirements.txt', kind: 'managed', source: { requirements: [`${a.platform}.txt`] } },
    { path: 'requirements-dev.txt', kind: 'managed', source: { template: 'app/requirements-dev.txt.ejs' } },
    { path: 'requirements-ebcli.txt', kind: 'managed', source: { template: 'app/requirements-ebcli.txt.ejs' } },
    { path: '.ebextensions/02_flask.config', kind: 'managed', source: { content: flaskConfig(a) } },
    { path: '.elasticbeanstalk/config.yml', kind: 'managed', source: { content: ebCliConfig(a) } },
    { path: '.ebignore', kind: 'managed', source: { template: 'app/ebignore.ejs' } },
    { path: '.gitignore', kind: 'managed', source: { template: 'app/gitignore.ejs' } },
    { path: '.gitattributes', kind: 'managed', source: { template: 'app/gitattributes.ejs' } },
    { path: 'Makefile', kind: 'managed', source: { template: 'app/Makefile.ejs' } },
    { path: 'tools/bundle.py', kind: 'managed', source: { template: 'app/tools/bundle.py.ejs' } },
  ];
  if (gunicorn) {
    files.push(
      { path: 'Procfile', kind: 'managed', source: { content: `web: ${procfileCommand(a)}\n` } },
      { path: '.platform/nginx/conf.d/01_body_size.conf', kind: 'managed', source: { content: nginxBodySizeConf() } },
    );
  } else {
    files.push(
      { path: '.ebextensions/01_yuminstall.config', kind: 'managed', source: { content: yumInstallConfig(a) } },
      { path: '.ebextensions/03_wsgi.config', kind: 'managed', source: { content: wsgiConfig() } },
    );
  }
  const csv = projectCsvPath(a);
  if (csv && a.csvPath) files.push({ path: csv, kind: 'scaffold', source: { copy: a.csvPath } });
  return files.sort((x, y) => x.path.localeCompare(y.path));
}

export interface RenderOptions {
  templatesDir?: string;
  generatorVersion: string;
  /** Where relative `copy` sources (the user's CSV) are read from. */
  cwd?: string;
}

export function renderPlan(a: Answers, plan: PlannedFile[], options: RenderOptions): RenderedFile[] {
  const templatesDir = options.templatesDir ?? TEMPLATES_DIR;
  const data = templateData(a, options.generatorVersion);
  return plan.map((file) => {
    const { source } = file;
    let content: Buffer;
    if ('template' in source) {
      const text = readFileSync(path.join(templatesDir, source.template), 'utf8');
      content = Buffer.from(ejs.render(text, data, { filename: path.join(templatesDir, source.template) }));
    } else if ('content' in source) {
      content = Buffer.from(source.content);
    } else if ('requirements' in source) {
      const pins = source.requirements.map((f) => readFileSync(path.join(templatesDir, 'pins', f), 'utf8')).join('');
      const header = `# ${MANAGED_HEADER}\n# Pinned to versions with binary wheels for ${PLATFORMS[a.platform].branchName(a.pythonVersion)} (${a.architecture}),\n# ordered so build dependencies come first (numpy, then scipy, then scikit-learn).\n`;
      content = Buffer.from(orderRequirements(header + pins).text);
    } else {
      content = readFileSync(path.resolve(options.cwd ?? process.cwd(), source.copy));
    }
    return { path: file.path, kind: file.kind, content, executable: file.executable ?? false };
  });
}

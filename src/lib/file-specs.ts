/**
 * A template set's files.json: which files a project has, declaratively. Checked by a zod schema when it is loaded,
 * so a mistake in an entry (no source, two sources, an unknown condition or builder) stops the generator with the
 * entry named, before anything is rendered or written.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import type { Answers } from './answers.js';
import { BUILDERS } from './ebconfig.js';
import { PLATFORMS } from './platforms.js';

export const TEMPLATES_DIR = fileURLToPath(new URL('../../templates', import.meta.url));

/** What files.json's `when` may name: the answers a file depends on. */
export const CONDITIONS = {
  gunicorn: (a: Answers) => PLATFORMS[a.platform].server === 'gunicorn',
  mod_wsgi: (a: Answers) => PLATFORMS[a.platform].server === 'mod_wsgi',
  csv: (a: Answers) => a.dataset === 'csv' && Boolean(a.csvPath),
  gateway: (a: Answers) => a.gateway,
  /** The gateway with a VPC or a certificate: its network and TLS options (gateway/.ebextensions/02-network.config). */
  gatewayNetwork: (a: Answers) =>
    a.gateway && a.environmentType === 'load-balanced' && Boolean(a.vpcId || a.certificateArn),
} as const;
export type Condition = keyof typeof CONDITIONS;

const SOURCES = ['template', 'build', 'requirements', 'copy', 'file', 'tree'] as const;

const keysOf = <T extends object>(o: T) => Object.keys(o) as [keyof T & string, ...Array<keyof T & string>];

const FileSpecSchema = z
  .strictObject({
    path: z.string().min(1),
    /** managed: the generator keeps it current on upgrade (3-way merge); scaffold: written once, then the user's. */
    kind: z.enum(['managed', 'scaffold']),
    template: z.string().min(1).optional(),
    build: z.enum(keysOf(BUILDERS)).optional(),
    requirements: z.array(z.string().min(1)).min(1).optional(),
    copy: z.string().min(1).optional(),
    /** A verbatim file under the template set (what a `tree` entry expands to). */
    file: z.string().min(1).optional(),
    /** A folder under the template set, copied file by file (expanded by loadFileSpecs), minus `exclude`. */
    tree: z.string().min(1).optional(),
    exclude: z.array(z.string().min(1)).optional(),
    when: z.enum(keysOf(CONDITIONS)).optional(),
    executable: z.boolean().optional(),
    /** Scaffold files that only work together: replaced together while all are unedited, else all kept. */
    group: z.string().min(1).optional(),
  })
  .superRefine((spec, ctx) => {
    const sources = SOURCES.filter((s) => spec[s] !== undefined);
    if (sources.length !== 1) {
      ctx.addIssue({
        code: 'custom',
        message: `needs exactly one source of ${SOURCES.join(', ')}; it has ${sources.length ? sources.join(' and ') : 'none'}`,
      });
    }
    if (spec.exclude && !spec.tree)
      ctx.addIssue({ code: 'custom', path: ['exclude'], message: 'only a tree entry can exclude files' });
  });

const FilesJsonSchema = z.strictObject({ $comment: z.string().optional(), files: z.array(FileSpecSchema).min(1) });

export type FileSpec = z.infer<typeof FileSpecSchema>;
export type FileKind = FileSpec['kind'];

/** files.json's content, checked: every problem of every entry in one message, each entry named by its path. */
export function parseFileSpecs(json: unknown, source = 'files.json'): FileSpec[] {
  const result = FilesJsonSchema.safeParse(json);
  if (result.success) return result.data.files;
  const entries = (json as { files?: Array<{ path?: unknown }> } | undefined)?.files;
  const problems = result.error.issues.map((issue) => {
    const [top, index, ...rest] = issue.path;
    if (top === 'files' && typeof index === 'number') {
      const name = typeof entries?.[index]?.path === 'string' ? `"${entries[index]!.path}"` : `#${index + 1}`;
      return `entry ${name}${rest.length ? ` (${rest.join('.')})` : ''}: ${issue.message}`;
    }
    return `${issue.path.join('.') || 'the file'}: ${issue.message}`;
  });
  throw new Error(`${source} is not a valid template set:\n  ${problems.join('\n  ')}`);
}

/** A template set's files.json, checked, with `tree` entries expanded into one verbatim file each. */
export function loadFileSpecs(templatesDir = TEMPLATES_DIR): FileSpec[] {
  const filesJson = path.join(templatesDir, 'files.json');
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(filesJson, 'utf8'));
  } catch (error) {
    throw new Error(`${filesJson} is not valid JSON: ${(error as Error).message}`);
  }
  return parseFileSpecs(json, filesJson).flatMap((spec) => {
    if (!spec.tree) return [spec];
    const root = path.join(templatesDir, spec.tree);
    const excluded = (rel: string) =>
      (spec.exclude ?? []).some((e) => (e.endsWith('/') ? `${rel}/`.startsWith(e) : rel === e));
    const files: FileSpec[] = [];
    const walk = (rel: string) => {
      for (const entry of readdirSync(path.join(root, rel), { withFileTypes: true })) {
        const child = rel ? `${rel}/${entry.name}` : entry.name;
        if (excluded(child) || (entry.isDirectory() && excluded(`${child}/`))) continue;
        if (entry.isDirectory()) walk(child);
        else
          files.push({
            path: `${spec.path}/${child}`,
            kind: spec.kind,
            file: path.join(spec.tree!, child),
            when: spec.when,
          });
      }
    };
    walk('');
    return files.sort((x, y) => x.path.localeCompare(y.path));
  });
}

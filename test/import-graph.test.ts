// Imports point downward: no module of the generator or of the gateway reaches, through any chain of imports (types
// included), back to itself. A type both sides need lives in the lower module, or in a small one both import.
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT } from './helpers.js';

/** Static import and export-from statements (type-only ones too), across lines: `import {\n a,\n} from './x.js'`. */
const FROM = /^\s*(?:import|export)\b[^;]*?\bfrom\s*'([^']+)'/gm;

/** Each .ts file under root, with the files under root it imports or re-exports from. */
function importGraph(root: string): Map<string, string[]> {
  const files = readdirSync(root, { recursive: true, encoding: 'utf8' })
    .filter((f) => f.endsWith('.ts') && !f.endsWith('.d.ts'))
    .map((f) => path.join(root, f));
  const known = new Set(files);
  return new Map(
    files.map((file) => {
      const targets = [...readFileSync(file, 'utf8').matchAll(FROM)]
        .map((m) => m[1]!)
        .filter((spec) => spec.startsWith('.'))
        .map((spec) => path.resolve(path.dirname(file), spec.replace(/\.js$/, '.ts')))
        .filter((target) => known.has(target));
      return [file, targets];
    }),
  );
}

/** Every cycle met by a depth-first walk, each as the chain of files relative to root. */
function cycles(graph: Map<string, string[]>, root: string): string[] {
  const found: string[] = [];
  const done = new Set<string>();
  const chain: string[] = [];
  const visit = (file: string) => {
    chain.push(file);
    for (const target of graph.get(file) ?? []) {
      const at = chain.indexOf(target);
      if (at >= 0) found.push([...chain.slice(at), target].map((f) => path.relative(root, f)).join(' -> '));
      else if (!done.has(target)) visit(target);
    }
    chain.pop();
    done.add(file);
  };
  for (const file of graph.keys()) if (!done.has(file)) visit(file);
  return found;
}

describe('the import graph', () => {
  for (const dir of ['src', 'gateway/src']) {
    it(`${dir} has no import cycles`, () => {
      const root = path.join(ROOT, dir);
      const graph = importGraph(root);
      expect(graph.size).toBeGreaterThan(10);
      expect(cycles(graph, root)).toEqual([]);
    });
  }

  it('finds a cycle that only type imports and re-exports close', () => {
    const root = mkdtempSync(path.join(os.tmpdir(), 'sci-eb-imports-'));
    mkdirSync(path.join(root, 'lower'));
    writeFileSync(path.join(root, 'app.ts'), "import { make } from './lower/make.js';\nexport const app = make();\n");
    writeFileSync(path.join(root, 'deps.ts'), "export type { Deps } from './app.js';\n");
    writeFileSync(
      path.join(root, 'lower/make.ts'),
      "import type { Deps } from '../deps.js';\nexport const make = () => 1;\n",
    );
    expect(cycles(importGraph(root), root)).toEqual(['app.ts -> lower/make.ts -> deps.ts -> app.ts']);
  });
});

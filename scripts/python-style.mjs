#!/usr/bin/env node
// `node scripts/python-style.mjs --check|--write`: ruff (lint and format) over this repository's Python: service/
// (with the settings of service/pyproject.toml, which ruff finds for those files), bench/ and the templates. A
// `.py.ejs` template is not Python until rendered, so each EJS tag is masked first: an inline tag becomes an
// identifier (`__ejs_3__`), a control-flow tag alone on its line (`<% if (...) { -%>`) a comment, and both are put
// back after ruff. A template with control-flow lines is linted but not reformatted: the formatter would indent and
// space their masks like the Python around them, which renders as stray blanks. Every rendered project is checked
// for both, with its own ruff.toml, by test/python-lint.test.ts.
// ruff comes from the pin the generated projects use (templates/pins/dev-al2023.txt), installed once under .cache/
// by the harness.
import { spawnSync } from 'node:child_process';
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { pinnedRuff } from '../harness/venv.mjs';

const root = fileURLToPath(new URL('..', import.meta.url));
const write = process.argv.includes('--write');
if (!write && !process.argv.includes('--check')) {
  console.error('usage: node scripts/python-style.mjs --check | --write');
  process.exit(2);
}

const SKIP = /^(node_modules|\.cache|\.venv.*|__pycache__|fixtures|generators|dist|\.git)$/;
function pythonFiles(dir, rel = '') {
  return readdirSync(path.join(dir, rel), { withFileTypes: true }).flatMap((e) => {
    const child = rel ? `${rel}/${e.name}` : e.name;
    if (SKIP.test(e.name)) return [];
    if (e.isDirectory()) return pythonFiles(dir, child);
    return /\.py(\.ejs)?$/.test(e.name) ? [child] : [];
  });
}

const TAG = /<%[\s\S]*?%>/g;
/** A control-flow tag (`<% if (...) { -%>`, not `<%= %>`/`<%- %>`) alone on its line: masked as a comment. */
const isControlLine = (text, offset, tag) => {
  if (/^<%[-=]/.test(tag)) return false;
  const lineStart = text.lastIndexOf('\n', offset - 1) + 1;
  const lineEnd = text.indexOf('\n', offset);
  return (
    text.slice(lineStart, offset).trim() === '' &&
    text.slice(offset + tag.length, lineEnd === -1 ? undefined : lineEnd).trim() === ''
  );
};
function mask(text) {
  const tags = [];
  const kinds = [];
  const masked = text.replace(TAG, (tag, offset) => {
    const i = tags.push(tag) - 1;
    kinds.push(isControlLine(text, offset, tag) ? 'control' : 'inline');
    return kinds[i] === 'control' ? `# __ejs_${i}__` : `__ejs_${i}__`;
  });
  // A control tag's mask is the whole `# __ejs_N__`; an inline tag's is the name alone (a `# ` before it is the
  // template's own, as in `# <%- managedHeader %>`).
  const unmask = (s) =>
    s.replace(/(# )?__ejs_(\d+)__/g, (_m, hash, i) => (kinds[i] === 'control' ? '' : (hash ?? '')) + tags[i]);
  return { masked, control: kinds.includes('control'), unmask };
}

const ruff = pinnedRuff(() => {});
const runRuff = (args, input, file) =>
  spawnSync(ruff, [...args, '--stdin-filename', file, '-'], { cwd: root, input, encoding: 'utf8' });
let failed = 0;
for (const file of pythonFiles(root)) {
  const original = readFileSync(path.join(root, file), 'utf8');
  const { masked, unmask, control } = file.endsWith('.ejs')
    ? mask(original)
    : { masked: original, unmask: (s) => s, control: false };
  const asPython = file.replace(/\.ejs$/, '');
  let text = masked;
  if (write && !control) {
    const fixed = runRuff(['check', '--fix', '--quiet', '--exit-zero'], text, asPython);
    text = fixed.stdout || text;
  }
  const formatted = control ? { status: 0, stdout: text } : runRuff(['format'], text, asPython);
  if (formatted.status !== 0) {
    console.error(`${file}: ruff format failed\n${formatted.stderr}`);
    failed++;
    continue;
  }
  // A masked tag is a name Python has never heard of: that one finding is the mask's, not the template's.
  const findings = JSON.parse(
    runRuff(['check', '--output-format', 'json'], formatted.stdout, asPython).stdout || '[]',
  ).filter((f) => !(f.code === 'F821' && /`__ejs_\d+__`/.test(f.message)));
  for (const f of findings) console.log(`${file}:${f.location.row}:${f.location.column}: ${f.code} ${f.message}`);
  failed += findings.length;
  const result = unmask(formatted.stdout);
  if (result !== original) {
    if (write) writeFileSync(path.join(root, file), result);
    else {
      console.error(`${file}: not formatted (npm run format rewrites it)`);
      failed++;
    }
  }
}
if (failed) {
  console.error(`python-style: ${failed} problem(s)`);
  process.exit(1);
}

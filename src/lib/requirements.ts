/**
 * Reorder a pip requirements file so that build dependencies come before the packages whose
 * build needs them.
 *
 * Why: AWS Elastic Beanstalk's old pip installed `requirements.txt` top to bottom, building each
 * sdist as it went, and scikit-learn's build imports numpy and scipy. `pip freeze` sorts
 * alphabetically, so `scikit-learn` sits above `scipy` and the install failed. We hoist the
 * build dependencies instead of asking people to hand-edit the file.
 *
 * Pure logic: no I/O, no Yeoman.
 *
 * Approach (stable, minimal topological order):
 *  1. Split the text into physical lines, each keeping its own line terminator, then into
 *     logical lines the way pip does (a line ending in `\` continues onto the next, unless it is
 *     a whole-line comment).
 *  2. Group logical lines into units. A named requirement's unit is the requirement plus the
 *     comment lines directly above it (no blank line between) plus the indented comment lines
 *     directly below it (pip-compile's `    # via ...` annotations). Everything else (blank
 *     lines, free-standing comments, option lines such as `-r`, `-c`, `--index-url`, `-e`,
 *     URL/path requirements, lines we cannot read) is a fixed unit that never moves.
 *  3. Walk the units in their original order and emit each one; before emitting a requirement,
 *     emit (recursively, in their original order) the not-yet-emitted requirements that
 *     `BUILD_ORDER` says must precede it. So a requirement moves only when something above it
 *     needs it, and then only up to just before the first unit that needs it. Every other unit
 *     keeps its relative order, fixed units included. For `pip freeze` output this only moves
 *     `scipy` up above `scikit-learn`.
 *  4. If nothing moved, the input text is returned as it is. Otherwise units are concatenated
 *     byte for byte; a moved last line that had no terminator gets the file's line ending
 *     (CRLF if the file uses CRLF), and a missing final newline stays missing.
 *
 * Because every constraint holds after one pass, a second pass moves nothing (idempotent).
 * Duplicate names: a name is represented by its first occurrence; only that one is hoisted, and
 * later duplicate lines stay where they are. Cycles (impossible with `BUILD_ORDER`, but a caller
 * may pass its own table) are ignored: edges between names that reach each other are dropped, so
 * those lines keep their order and nothing throws.
 *
 * Name parsing: the one PEP 508 parser on npm that fits (pip-requirements-js) rejects
 * `--hash=...` options and backslash continuations, which pip-compile --generate-hashes output
 * is full of. We only need the project NAME (never versions or markers), so this module uses a
 * careful regex for the PEP 508 name and pip's own path/URL rules to leave non-name lines alone.
 */

/** Result of {@link orderRequirements}. */
export interface RequirementsReport {
  /** The reordered file. It is identical to the input when `changed` is false. */
  text: string;
  /**
   * Requirements that were hoisted. `from` and `to` are the 1-based line numbers of the
   * requirement's own first line (not its attached comments) in the input and the output.
   * Lines that only shifted because something was inserted above them are not listed.
   */
  moved: Array<{ name: string; from: number; to: number }>;
  /** Whether `text` differs from the input. */
  changed: boolean;
}

/**
 * Build-time dependencies: package -> packages that must be installed (so must appear
 * earlier in requirements.txt) before it can be built from source. Names are PEP 503
 * normalized. Only build dependencies belong here: runtime-only dependencies (joblib and
 * threadpoolctl for scikit-learn, for example) do not affect whether a top-to-bottom install
 * works, so listing them would only move lines for no reason.
 */
export const BUILD_ORDER: Readonly<Record<string, readonly string[]>> = Object.freeze({
  numpy: Object.freeze(['cython']),
  scipy: Object.freeze(['cython', 'numpy']),
  pandas: Object.freeze(['cython', 'numpy']),
  matplotlib: Object.freeze(['numpy']),
  'scikit-learn': Object.freeze(['cython', 'numpy', 'scipy']),
  statsmodels: Object.freeze(['cython', 'numpy', 'scipy']),
});

/** Names that stand for another project. `sklearn` is the deprecated alias package of scikit-learn. */
const ALIASES: ReadonlyMap<string, string> = new Map([['sklearn', 'scikit-learn']]);

/** PEP 503 normalization: lowercase, with every run of `-`, `_` and `.` turned into a single `-`. */
export function normalizeName(name: string): string {
  return name.replace(/[-_.]+/g, '-').toLowerCase();
}

function canonicalKey(name: string): string {
  const normalized = normalizeName(name);
  return ALIASES.get(normalized) ?? normalized;
}

interface PhysicalLine {
  body: string;
  /** `\n`, `\r\n`, `\r`, or `` for a last line without a terminator. */
  eol: string;
}

type LogicalKind = 'blank' | 'comment' | 'option' | 'requirement' | 'other';

interface LogicalLine {
  /** Index of the first physical line. */
  first: number;
  /** Index of the last physical line (inclusive). */
  last: number;
  kind: LogicalKind;
  /** For comments: whether the line starts with whitespace (pip-compile's `    # via`). */
  indented: boolean;
  /** For named requirements: the project name as written. */
  name?: string;
}

interface Unit {
  first: number;
  last: number;
  /** Physical index of the requirement line itself, for the report. */
  requirementLine: number;
  name?: string;
  key?: string;
}

function splitPhysical(text: string): PhysicalLine[] {
  const lines: PhysicalLine[] = [];
  let i = 0;
  while (i < text.length) {
    let j = i;
    while (j < text.length && text[j] !== '\n' && text[j] !== '\r') j++;
    let eol = '';
    if (j < text.length) eol = text[j] === '\r' && text[j + 1] === '\n' ? '\r\n' : text[j]!;
    lines.push({ body: text.slice(i, j), eol });
    i = j + eol.length;
  }
  return lines;
}

// pip's COMMENT_RE is `(^|\s+)#.*$`, applied with re.match for whole-line comments.
const WHOLE_LINE_COMMENT = /^\s*#/;
const INLINE_COMMENT = /(^|\s+)#.*$/;

function continues(body: string): boolean {
  return !WHOLE_LINE_COMMENT.test(body) && body.endsWith('\\');
}

/** A PEP 508 project name: ASCII letters and digits, with `.`, `_`, `-` inside only. */
const NAME = /^[A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?/;
/** What may follow a name in a requirement: extras, a version specifier, a marker, or nothing. */
const AFTER_NAME = /^\s*[[(<>=!~;]/;
/** Archive file names that pip installs as local files, not as project names. */
const ARCHIVE = /\.(?:whl|zip|tar|tgz|tar\.gz|tbz|tar\.bz2|txz|tar\.xz|tlz|tar\.lz)$/i;

function looksLikePathOrUrl(token: string): boolean {
  return /[\\/:]/.test(token) || /^[.~]/.test(token) || ARCHIVE.test(token);
}

/** The project name of a requirement line (comments and continuations already removed), if it has one. */
function requirementName(content: string): string | undefined {
  const match = NAME.exec(content);
  if (!match) return undefined;
  const name = match[0];
  const rest = content.slice(name.length);
  // PEP 508 direct reference `name @ url`: a named requirement even though a URL follows.
  if (/^\s*@/.test(rest)) return name;
  const token = content.split(/[\s;]/, 1)[0] ?? '';
  if (looksLikePathOrUrl(token)) return undefined;
  // Nothing else, a specifier/extras/marker, or per-requirement options such as `--hash=...`.
  if (rest === '' || AFTER_NAME.test(rest) || /^\s+-/.test(rest)) return name;
  return undefined;
}

function splitLogical(physical: PhysicalLine[]): LogicalLine[] {
  const logical: LogicalLine[] = [];
  let i = 0;
  while (i < physical.length) {
    let j = i;
    // Like pip's join_lines: a continued line swallows the next one, which ends the logical
    // line if it is a comment.
    while (j + 1 < physical.length && continues(physical[j]!.body)) j++;
    const bodies = physical.slice(i, j + 1).map((line) => line.body);
    const first = bodies[0]!;
    let kind: LogicalKind;
    let name: string | undefined;
    if (WHOLE_LINE_COMMENT.test(first)) {
      kind = 'comment';
    } else if (bodies.every((body) => body.trim() === '')) {
      kind = 'blank';
    } else {
      const content = bodies
        .map((body) => (continues(body) ? body.slice(0, -1) : body))
        .join('')
        .replace(INLINE_COMMENT, '')
        .trim();
      if (content.startsWith('-')) {
        kind = 'option';
      } else {
        name = content === '' ? undefined : requirementName(content);
        kind = name === undefined ? 'other' : 'requirement';
      }
    }
    logical.push({ first: i, last: j, kind, indented: /^\s/.test(first), ...(name === undefined ? {} : { name }) });
    i = j + 1;
  }
  return logical;
}

function buildUnits(logical: LogicalLine[]): Unit[] {
  const n = logical.length;
  // owner[k]: index of the named requirement that line k belongs to, or -1 for a fixed line.
  const owner = new Array<number>(n).fill(-1);
  // Indented comments directly below any non-comment line belong to that line (pip-compile's
  // `# via` annotations). Claim them first so they never attach to the requirement below.
  const claimed = new Array<boolean>(n).fill(false);
  for (let k = 0; k < n; k++) {
    const line = logical[k]!;
    if (line.kind === 'blank' || line.kind === 'comment') continue;
    for (let j = k + 1; j < n && logical[j]!.kind === 'comment' && logical[j]!.indented; j++) {
      claimed[j] = true;
      if (line.kind === 'requirement') owner[j] = k;
    }
  }
  for (let k = 0; k < n; k++) {
    if (logical[k]!.kind !== 'requirement') continue;
    owner[k] = k;
    // The comment block directly above (no blank line between) moves with the requirement.
    for (let j = k - 1; j >= 0 && logical[j]!.kind === 'comment' && !claimed[j] && owner[j] === -1; j--) owner[j] = k;
  }

  const units: Unit[] = [];
  for (let k = 0; k < n; ) {
    const o = owner[k]!;
    let end = k;
    if (o !== -1) while (end + 1 < n && owner[end + 1] === o) end++;
    const unit: Unit = { first: logical[k]!.first, last: logical[end]!.last, requirementLine: logical[k]!.first };
    if (o !== -1) {
      const requirement = logical[o]!;
      unit.requirementLine = requirement.first;
      unit.name = requirement.name!;
      unit.key = canonicalKey(requirement.name!);
    }
    units.push(unit);
    k = end + 1;
  }
  return units;
}

/**
 * Dependency edges between the names present in the file: key -> keys that must come first.
 * Edges inside a cycle are dropped so the rest is a DAG.
 */
function presentEdges(
  present: ReadonlySet<string>,
  table: Readonly<Record<string, readonly string[]>>,
): Map<string, string[]> {
  const graph = new Map<string, string[]>();
  for (const [package_, deps] of Object.entries(table)) {
    const key = canonicalKey(package_);
    if (!present.has(key)) continue;
    const list = graph.get(key) ?? [];
    for (const dep of deps) {
      const depKey = canonicalKey(dep);
      if (depKey !== key && present.has(depKey) && !list.includes(depKey)) list.push(depKey);
    }
    graph.set(key, list);
  }
  const reaches = (from: string, to: string): boolean => {
    const seen = new Set<string>();
    const stack = [from];
    while (stack.length > 0) {
      const current = stack.pop()!;
      if (current === to) return true;
      if (seen.has(current)) continue;
      seen.add(current);
      stack.push(...(graph.get(current) ?? []));
    }
    return false;
  };
  const edges = new Map<string, string[]>();
  for (const [key, deps] of graph)
    edges.set(
      key,
      deps.filter((dep) => !reaches(dep, key)),
    );
  return edges;
}

/**
 * Reorder `text` (the contents of a pip requirements file) so that build dependencies precede
 * their dependants, moving as little as possible. Never throws on odd input: lines it does not
 * understand stay where they are.
 *
 * @param table build-order table to use; defaults to {@link BUILD_ORDER}.
 */
export function orderRequirements(
  text: string,
  table: Readonly<Record<string, readonly string[]>> = BUILD_ORDER,
): RequirementsReport {
  // A UTF-8 byte order mark belongs to the file, not to its first line: it stays at the start.
  const bom = text.startsWith('\uFEFF') ? '\uFEFF' : '';
  const physical = splitPhysical(text.slice(bom.length));
  const units = buildUnits(splitLogical(physical));

  const firstUnit = new Map<string, number>();
  units.forEach((unit, index) => {
    if (unit.key !== undefined && !firstUnit.has(unit.key)) firstUnit.set(unit.key, index);
  });
  const edges = presentEdges(new Set(firstUnit.keys()), table);

  const emitted = new Array<boolean>(units.length).fill(false);
  const active = new Array<boolean>(units.length).fill(false);
  const order: number[] = [];
  const hoisted = new Set<number>();
  const visit = (index: number, hoist: boolean): void => {
    active[index] = true;
    const key = units[index]!.key;
    const deps = (key === undefined ? [] : (edges.get(key) ?? []))
      .map((dep) => firstUnit.get(dep)!)
      .sort((a, b) => a - b);
    for (const dep of deps) if (!emitted[dep] && !active[dep]) visit(dep, true);
    active[index] = false;
    emitted[index] = true;
    order.push(index);
    if (hoist) hoisted.add(index);
  };
  for (let index = 0; index < units.length; index++) if (!emitted[index]) visit(index, false);

  if (hoisted.size === 0) return { text, moved: [], changed: false };

  const eol = physical.find((line) => line.eol !== '')?.eol ?? '\n';
  const finalNewline = physical[physical.length - 1]!.eol !== '';
  const out: string[] = [];
  const moved: RequirementsReport['moved'] = [];
  for (const index of order) {
    const unit = units[index]!;
    if (hoisted.has(index)) {
      moved.push({
        name: unit.name!,
        from: unit.requirementLine + 1,
        to: out.length + (unit.requirementLine - unit.first) + 1,
      });
    }
    for (let p = unit.first; p <= unit.last; p++) {
      const line = physical[p]!;
      out.push(line.body + (line.eol === '' ? eol : line.eol));
    }
  }
  if (!finalNewline) out[out.length - 1] = out[out.length - 1]!.replace(/(?:\r\n|\n|\r)$/, '');
  const result = bom + out.join('');
  return { text: result, moved, changed: result !== text };
}

/** The file as units (a requirement with its attached comments, or a fixed line), each with its exact text. */
export function requirementUnits(text: string): Array<{ key?: string; text: string }> {
  const physical = splitPhysical(text);
  const body = (u: Unit) =>
    physical
      .slice(u.first, u.last + 1)
      .map((p) => p.body + (p.eol || '\n'))
      .join('');
  return buildUnits(splitLogical(physical)).map((u) => ({ ...(u.key ? { key: u.key } : {}), text: body(u) }));
}

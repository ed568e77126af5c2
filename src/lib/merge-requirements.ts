/**
 * A 3-way merge of requirements files that understands them as a set of packages: the user's added, removed and
 * re-pinned packages survive a generator upgrade that re-pins everything (a line-based merge would conflict on every
 * neighbouring line). Only a package both sides changed differently is a conflict. Returns undefined when the file
 * is not a plain set of packages (edited comments or options, duplicate names): the caller then merges by lines,
 * which loses nothing either.
 */
import { CONFLICT_LABELS } from './merge-labels.js';
import { orderRequirements, requirementUnits } from './requirements.js';

type Units = ReturnType<typeof requirementUnits>;

function byKey(units: Units): Map<string, string> | undefined {
  const map = new Map<string, string>();
  for (const u of units) {
    if (!u.key) continue;
    if (map.has(u.key)) return undefined;
    map.set(u.key, u.text);
  }
  return map;
}

const fixedText = (units: Units) =>
  units
    .filter((u) => !u.key)
    .map((u) => u.text)
    .join('');

const conflictBlock = (ours: string, theirs: string) =>
  `<<<<<<< ${CONFLICT_LABELS.ours}\n${ours}=======\n${theirs}>>>>>>> ${CONFLICT_LABELS.theirs}\n`;

export function mergeRequirements(
  ours: string,
  base: string,
  theirs: string,
): { text: string; conflict: boolean } | undefined {
  const [o, b, t] = [requirementUnits(ours), requirementUnits(base), requirementUnits(theirs)];
  if (fixedText(o) !== fixedText(b)) return undefined;
  const [mo, mb, mt] = [byKey(o), byKey(b), byKey(t)];
  if (!mo || !mb || !mt) return undefined;
  let conflict = false;
  const out: string[] = [];
  for (const unit of t) {
    if (!unit.key) {
      out.push(unit.text);
      continue;
    }
    const mine = mo.get(unit.key);
    const was = mb.get(unit.key);
    if (was === undefined) {
      // The generator added it; the user may have added it too.
      if (mine === undefined || mine === unit.text) out.push(unit.text);
      else {
        out.push(conflictBlock(mine, unit.text));
        conflict = true;
      }
    } else if (mine === undefined) {
      // The user removed it: it stays removed.
    } else if (mine === was || mine === unit.text) {
      out.push(unit.text);
    } else if (unit.text === was) {
      out.push(mine);
    } else {
      out.push(conflictBlock(mine, unit.text));
      conflict = true;
    }
  }
  // Packages the user added (and the generator did not add or drop) keep their place at the end, in their order.
  for (const unit of o) {
    if (unit.key && !mb.has(unit.key) && !mt.has(unit.key)) out.push(unit.text);
  }
  const text = out.join('');
  return { text: conflict ? text : orderRequirements(text).text, conflict };
}

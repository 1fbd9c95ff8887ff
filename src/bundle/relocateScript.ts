/**
 * The text of a bundle's `bin/kiln-relocate` (kiln-relocate.sh, beside this
 * module's source), with the x86-64 feature table filled in from Kiln's own.
 */
import { readFileSync } from 'node:fs';
import { X86_64_FEATURES } from '../solver/cpuLevel.js';
import { kilnPath } from '../util/kilnRoot.js';

/** Where the script's source lies: beside the compiled module if copied there, else in the source tree. */
const SOURCES = [kilnPath('dist', 'src', 'bundle', 'kiln-relocate.sh'), kilnPath('src', 'bundle', 'kiln-relocate.sh')];

let text: string | undefined;

/** The script, as it goes into every bundle. */
export function relocateScript(): string {
  if (text !== undefined) return text;
  let source: string | undefined;
  for (const path of SOURCES) {
    try {
      source = readFileSync(path, 'utf8');
      break;
    } catch {
      // Not in this layout: try the next.
    }
  }
  if (source === undefined) throw new Error(`Assertion failed: kiln-relocate.sh not found (${SOURCES.join(', ')})`);
  text = source.replace('@X86_FEATURES@', featureLines());
  return text;
}

/** One `LEVEL FEATURE FLAGS IMPLIED-BY` line per feature ("-" for none). */
function featureLines(): string {
  return X86_64_FEATURES.flatMap(({ level, features }) =>
    features.map((f) => `${level} ${f.feature} ${f.flags.join(',')} ${f.impliedBy?.join(',') ?? '-'}`),
  ).join('\n');
}

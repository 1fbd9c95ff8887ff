/**
 * The text of a bundle's `bin/kiln-relocate` (kiln-relocate.sh, beside this
 * module's source), with the x86-64 feature table filled in from Kiln's own.
 */
import { readFileSync } from 'node:fs';
import { X86_64_FEATURES } from '../solver/cpuLevel.js';

/** Where the script's source lies: the source tree, from src/bundle or from dist/src/bundle. */
const SOURCES = [
  new URL('./kiln-relocate.sh', import.meta.url),
  new URL('../../../src/bundle/kiln-relocate.sh', import.meta.url),
];

let text: string | undefined;

/** The script, as it goes into every bundle. */
export function relocateScript(): string {
  if (text !== undefined) return text;
  let source: string | undefined;
  for (const url of SOURCES) {
    try {
      source = readFileSync(url, 'utf8');
      break;
    } catch {
      // Not in this layout: try the next.
    }
  }
  if (source === undefined)
    throw new Error(`Assertion failed: kiln-relocate.sh not found (${SOURCES.map(String).join(', ')})`);
  text = source.replace('@X86_FEATURES@', featureLines());
  return text;
}

/** One `LEVEL FEATURE FLAGS IMPLIED-BY` line per feature ("-" for none). */
function featureLines(): string {
  return X86_64_FEATURES.flatMap(({ level, features }) =>
    features.map((f) => `${level} ${f.feature} ${f.flags.join(',')} ${f.impliedBy?.join(',') ?? '-'}`),
  ).join('\n');
}

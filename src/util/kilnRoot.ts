/**
 * The directory Kiln is installed in (the one holding its package.json), for
 * the files it ships beside its code: recipes, the relocation script, the
 * install worker. Found by walking up from this module, so the same lookup
 * works from dist/src/util/ (tsc's output) and from dist/kiln.cjs (the
 * one-file bundle the `kiln` command loads; docs/performance.md, "Start-up of a query").
 */
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

let root: string | undefined;

export function kilnRoot(): string {
  if (root !== undefined) return root;
  const start = dirname(fileURLToPath(import.meta.url));
  for (let dir = start; ; dir = dirname(dir)) {
    if (existsSync(join(dir, 'package.json'))) {
      root = dir;
      return dir;
    }
    if (dirname(dir) === dir) throw new Error(`Assertion failed: no package.json above ${start}`);
  }
}

/** A path inside Kiln's installed directory. */
export function kilnPath(...parts: string[]): string {
  return join(kilnRoot(), ...parts);
}

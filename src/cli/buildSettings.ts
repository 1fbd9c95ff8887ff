/** Where build commands find the ports tree, sources and work directory: flags, then environment, then defaults. */
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { defaultCacheDir, defaultWorkDir } from '../build/index.js';
import { listOption, stringOption } from './args.js';
import type { Invocation, OptionTable } from './command.js';

/** Options shared by `kiln build`, `kiln bulk` and `kiln lint`. */
export const TREE_OPTIONS: OptionTable = { recipes: { type: 'string' } };
export const SOURCE_OPTIONS: OptionTable = {
  distfiles: { type: 'string', multiple: true },
  mirror: { type: 'string', multiple: true },
  work: { type: 'string' },
  jobs: { type: 'string', short: 'j' },
  keep: { type: 'boolean' },
};

/** The ports tree: --recipes, KILN_RECIPES, ./recipes, or the tree shipped with Kiln. */
export function recipesDir(invocation: Invocation): string {
  const given = stringOption(invocation, 'recipes') ?? process.env['KILN_RECIPES'];
  if (given !== undefined) return resolve(given);
  if (existsSync(join('recipes', 'ports.toml'))) return resolve('recipes');
  // dist/src/cli/buildSettings.js → the package root's recipes/.
  return join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'recipes');
}

export function sourceSettings(invocation: Invocation): { distfiles: string[]; mirrors: string[]; workDir: string; cacheDir: string; keep: boolean } {
  const fromEnv = (name: string): string[] => (process.env[name] ?? '').split(':').filter((item) => item !== '');
  return {
    distfiles: [...listOption(invocation, 'distfiles'), ...fromEnv('KILN_DISTFILES')].map((dir) => resolve(dir)),
    mirrors: [...listOption(invocation, 'mirror'), ...(process.env['KILN_MIRRORS'] ?? '').split(/\s+/).filter((item) => item !== '')],
    workDir: resolve(stringOption(invocation, 'work') ?? process.env['KILN_WORK'] ?? defaultWorkDir()),
    cacheDir: defaultCacheDir(),
    keep: invocation.values['keep'] === true,
  };
}

/** Where build commands find the ports tree, sources and work directory: flags, then environment, then defaults. */
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { defaultCacheDir, defaultWorkDir } from '../build/index.js';
import { listOption, stringOption } from './args.js';
import { KilnError } from '../errors/index.js';
import { kilnPath } from '../util/kilnRoot.js';
import type { BuildFallback } from '../install/buildMissing.js';
import type { BuildPolicy } from '../solver/problem.js';
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
  return kilnPath('recipes');
}

/** `--accept-licenses ID,...` as the option a bulk build or a farm submission takes (none: the tree's setting). */
export function acceptLicenses(invocation: Invocation): { acceptLicenses?: string[] } {
  const given = stringOption(invocation, 'accept-licenses');
  if (given === undefined) return {};
  return {
    acceptLicenses: given
      .split(',')
      .map((id) => id.trim())
      .filter((id) => id !== ''),
  };
}

export function sourceSettings(invocation: Invocation): {
  distfiles: string[];
  mirrors: string[];
  workDir: string;
  cacheDir: string;
  keep: boolean;
} {
  const fromEnv = (name: string): string[] => (process.env[name] ?? '').split(':').filter((item) => item !== '');
  return {
    distfiles: [...listOption(invocation, 'distfiles'), ...fromEnv('KILN_DISTFILES')].map((dir) => resolve(dir)),
    mirrors: [
      ...listOption(invocation, 'mirror'),
      ...(process.env['KILN_MIRRORS'] ?? '').split(/\s+/).filter((item) => item !== ''),
    ],
    workDir: resolve(stringOption(invocation, 'work') ?? process.env['KILN_WORK'] ?? defaultWorkDir()),
    cacheDir: defaultCacheDir(),
    keep: invocation.values['keep'] === true,
  };
}

/** Options of `kiln install` and `kiln upgrade` for building what no binary offers. */
export const FALLBACK_OPTIONS: OptionTable = {
  build: { type: 'string' },
  recipes: { type: 'string' },
  distfiles: { type: 'string', multiple: true },
  mirror: { type: 'string', multiple: true },
  work: { type: 'string' },
};

/**
 * Building where no binary will do: on with `--build missing|always`, or when a
 * ports tree is named (`--recipes`, KILN_RECIPES; then `missing`); off with
 * `--build never` and by default.
 */
export function buildFallback(invocation: Invocation, onEvent: BuildFallback['onEvent']): BuildFallback | undefined {
  const policy = stringOption(invocation, 'build');
  if (policy !== undefined && policy !== 'never' && policy !== 'missing' && policy !== 'always') {
    throw new KilnError('E_USAGE', `cannot use --build ${policy}: it is never, missing or always`, {
      hint: 'missing: build what has no usable binary; always: build everything asked for; never: binaries only',
    });
  }
  const named = stringOption(invocation, 'recipes') ?? process.env['KILN_RECIPES'];
  if (policy === 'never' || (policy === undefined && named === undefined)) return undefined;
  const sources = sourceSettings(invocation);
  return {
    recipes: recipesDir(invocation),
    policy: (policy ?? 'missing') as BuildPolicy,
    distfiles: sources.distfiles,
    mirrors: sources.mirrors,
    workDir: sources.workDir,
    cacheDir: sources.cacheDir,
    ...(onEvent === undefined ? {} : { onEvent }),
  };
}

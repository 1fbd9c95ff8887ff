/**
 * A ports tree: `ROOT/CATEGORY/NAME/recipe.toml` for every recipe, and an
 * optional `ROOT/ports.toml` with settings shared by all builds from it
 * (docs/recipes.md, "The ports tree").
 */
import { shellQuote } from '../util/shellQuote.js';
import { readdir, readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { KilnError, isErrno } from '../errors/index.js';
import { CATEGORY_PATTERN, NAME_PATTERN } from '../format/index.js';
import { tryParseLicense } from '../license/index.js';
import type { Fail } from '../util/shape.js';
import { expectArray, expectObject, expectString, join as joinField } from '../util/shape.js';
import { parseTomlDocument } from '../util/toml.js';
import type { Recipe } from './recipe.js';
import { RECIPE_FILE, parseRecipeText } from './recipe.js';

export const PORTS_CONFIG_FILE = 'ports.toml';

export interface PortsConfig {
  /** Host libraries (sonames) every recipe may link, added to the built-in set. */
  systemLibraries: string[];
  /** SPDX license ids a bulk build accepts; empty means every license. */
  acceptLicenses: string[];
  /** Base URLs of distfile mirrors, tried after each source's own URLs. */
  mirrors: string[];
}

export interface PortsTree {
  root: string;
  config: PortsConfig;
  /** `CATEGORY/NAME` of every recipe, sorted. */
  ids: string[];
  /** Recipe name → category. */
  categories: Map<string, string>;
}

/** List the recipes of the tree at `root` (without reading them) and read its ports.toml. */
export async function openPortsTree(root: string): Promise<PortsTree> {
  const absolute = resolve(root);
  let categories: string[];
  try {
    categories = (await readdir(absolute, { withFileTypes: true }))
      .filter((entry) => entry.isDirectory())
      .map((entry) => entry.name)
      .sort();
  } catch (error) {
    if (isErrno(error, 'ENOENT') || isErrno(error, 'ENOTDIR')) {
      throw new KilnError('E_RECIPE_NOT_FOUND', `cannot open ports tree ${absolute}: no such directory`, {
        hint: 'pass the ports tree with --recipes DIR (Kiln ships one in its recipes/ directory)',
      });
    }
    throw error;
  }
  const ids: string[] = [];
  const byName = new Map<string, string>();
  for (const category of categories) {
    if (!CATEGORY_PATTERN.test(category) || category.startsWith('.')) continue;
    for (const entry of await readdir(join(absolute, category), { withFileTypes: true })) {
      if (!entry.isDirectory() || !NAME_PATTERN.test(entry.name)) continue;
      const other = byName.get(entry.name);
      if (other !== undefined) {
        throw new KilnError(
          'E_RECIPE',
          `invalid ports tree ${absolute}: recipe ${entry.name} is in two categories, ${other} and ${category}`,
          { hint: 'a package name is unique across categories; remove one of them' },
        );
      }
      byName.set(entry.name, category);
      ids.push(`${category}/${entry.name}`);
    }
  }
  return { root: absolute, config: await readPortsConfig(absolute), ids: ids.sort(), categories: byName };
}

/** Read one recipe by `CATEGORY/NAME` or plain `NAME`. */
export async function loadRecipe(tree: PortsTree, id: string): Promise<Recipe> {
  const [category, name] = splitRecipeId(tree, id);
  const dir = join(tree.root, category, name);
  let text: string;
  try {
    text = await readFile(join(dir, RECIPE_FILE), 'utf8');
  } catch (error) {
    if (isErrno(error, 'ENOENT'))
      throw new KilnError(
        'E_RECIPE_NOT_FOUND',
        `cannot read recipe ${category}/${name}: ${join(dir, RECIPE_FILE)} does not exist`,
        { hint: `every recipe directory holds a ${RECIPE_FILE}` },
      );
    throw error;
  }
  return parseRecipeText(text, dir, category, name);
}

function splitRecipeId(tree: PortsTree, id: string): [string, string] {
  const parts = id.split('/');
  if (parts.length === 2 && tree.categories.get(parts[1]!) === parts[0]) return [parts[0]!, parts[1]!];
  if (parts.length === 1) {
    const category = tree.categories.get(id);
    if (category !== undefined) return [category, id];
  }
  const close = tree.ids.filter((known) => known.includes(parts[parts.length - 1] ?? id)).slice(0, 5);
  throw new KilnError('E_RECIPE_NOT_FOUND', `cannot find recipe ${id} in ${tree.root}`, {
    hint:
      close.length > 0
        ? `did you mean ${close.join(', ')}?`
        : `the tree has ${tree.ids.length} recipes; "kiln lint --recipes ${shellQuote(tree.root)}" lists them`,
  });
}

async function readPortsConfig(root: string): Promise<PortsConfig> {
  const path = join(root, PORTS_CONFIG_FILE);
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    if (isErrno(error, 'ENOENT')) return { systemLibraries: [], acceptLicenses: [], mirrors: [] };
    throw error;
  }
  const fail: Fail = (where, problem) => {
    throw new KilnError('E_RECIPE', `invalid ports configuration ${path}: ${where} ${problem}`, {
      hint: 'see docs/recipes.md, section "The ports tree"',
    });
  };
  const data = expectObject(parseTomlDocument(text, fail), '(top level)', fail, [
    'system-libraries',
    'accept-licenses',
    'mirrors',
  ]);
  const list = (key: string, check: (value: string, where: string) => void): string[] =>
    expectArray(data[key] ?? [], key, fail).map((item, i) => {
      const value = expectString(item, joinField(key, i), fail);
      check(value, joinField(key, i));
      return value;
    });
  return {
    systemLibraries: list('system-libraries', () => {}),
    acceptLicenses: list('accept-licenses', (value, where) => {
      if (tryParseLicense(value) === undefined) fail(where, `${JSON.stringify(value)} is not an SPDX license id`);
    }),
    mirrors: list('mirrors', (value, where) => {
      if (!/^(https?|file):\/\/\S+$/.test(value)) fail(where, `${JSON.stringify(value)} is not an http(s) or file URL`);
    }),
  };
}

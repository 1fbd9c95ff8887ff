/**
 * `kiln lint`: check recipes beyond what the reader enforces, and explain
 * each problem. Every recipe is checked; one broken recipe does not hide the
 * problems of the others.
 */
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { KilnError } from '../errors/index.js';
import { satisfies } from '../version/index.js';
import type { PortsTree } from './portsTree.js';
import { loadRecipe } from './portsTree.js';
import type { Recipe } from './recipe.js';
import { optionVariable } from './buildEnvironment.js';

export interface LintProblem {
  /** `CATEGORY/NAME`. */
  recipe: string;
  severity: 'error' | 'warning';
  problem: string;
  hint?: string;
}

/**
 * Lint `ids` (default: the whole tree).
 * @example const problems = await lintRecipes(await openPortsTree('recipes'))
 */
export async function lintRecipes(tree: PortsTree, ids: readonly string[] = tree.ids): Promise<LintProblem[]> {
  const problems: LintProblem[] = [];
  const recipes = new Map<string, Recipe>();
  const loadAll = ids === tree.ids ? ids : [...new Set([...ids, ...tree.ids])];
  for (const id of loadAll) {
    try {
      recipes.set(id, await loadRecipe(tree, id));
    } catch (error) {
      if (!(error instanceof KilnError)) throw error;
      if (ids.includes(id) || !tree.ids.includes(id))
        problems.push({
          recipe: id,
          severity: 'error',
          problem: error.message,
          ...(error.hint === undefined ? {} : { hint: error.hint }),
        });
    }
  }
  const byName = new Map([...recipes.values()].map((recipe) => [recipe.name, recipe]));
  for (const id of ids) {
    const recipe = recipes.get(id);
    if (recipe !== undefined) problems.push(...(await lintOne(id, recipe, byName)));
  }
  problems.push(...buildCycles(ids, recipes, byName));
  return problems;
}

async function lintOne(id: string, recipe: Recipe, byName: ReadonlyMap<string, Recipe>): Promise<LintProblem[]> {
  const problems: LintProblem[] = [];
  const add = (severity: LintProblem['severity'], problem: string, hint?: string): void => {
    problems.push({ recipe: id, severity, problem, ...(hint === undefined ? {} : { hint }) });
  };
  let script = '';
  const scriptPath = join(recipe.dir, recipe.script);
  if (!(await isFile(scriptPath)))
    add(
      'error',
      `the build script ${recipe.script} does not exist`,
      `write ${scriptPath}; it runs with bash -e in the unpacked source directory`,
    );
  else script = await readFile(scriptPath, 'utf8');
  for (const patch of recipe.patches) {
    if (!(await isFile(join(recipe.dir, patch))))
      add('error', `the patch ${patch} does not exist`, `add ${join(recipe.dir, patch)} or remove it from "patches"`);
  }
  for (const [field, deps] of [
    ['build-depends', recipe.buildDepends],
    ['depends', recipe.depends],
  ] as const) {
    for (const dep of deps) {
      const target = byName.get(dep.name);
      if (target === undefined)
        add(
          'error',
          `${field} names ${dep.name}, which has no recipe in this tree`,
          `add a recipe for ${dep.name}, or remove the dependency`,
        );
      else if (!satisfies(target.version, dep.range))
        add(
          'error',
          `${field} asks for ${dep.name} ${dep.range}, but the tree's ${dep.name} is ${target.version}`,
          'widen the range or update the other recipe',
        );
    }
  }
  for (const option of Object.keys(recipe.options)) {
    const used =
      [...recipe.buildDepends, ...recipe.depends].some((dep) => dep.when?.option === option) ||
      script.includes(optionVariable(option));
    if (!used)
      add(
        'warning',
        `option ${option} is declared but neither a dependency nor the build script (${optionVariable(option)}) uses it`,
        'use the option, or remove it',
      );
  }
  for (const source of recipe.sources) {
    if (source.url.startsWith('http://') || source.url.startsWith('ftp://'))
      add(
        'warning',
        `source ${source.file} is fetched over an unencrypted protocol (${source.url})`,
        'use an https URL where the project offers one (the sha256 is checked either way)',
      );
  }
  if (recipe.homepage === '') add('warning', 'no homepage', "set homepage to the project's web site");
  if (script !== '') {
    for (const [n, line] of script.split('\n').entries()) {
      const at = `${recipe.script} line ${n + 1}`;
      if (/^\s*[^#]*\bmake\b[^#]*\binstall\b/.test(line) && !/DESTDIR/.test(line))
        add(
          'warning',
          `${at} installs without DESTDIR: ${line.trim()}`,
          'install into the staging directory: make install DESTDIR="$DESTDIR"',
        );
      if (/^\s*[^#]*(?:^|[\s=:'"])(\/usr\/(local\/)?(lib|include)|\/opt\/)/.test(line))
        add(
          'warning',
          `${at} names a host directory: ${line.trim()}`,
          'builds must use only the dependencies in $KILN_PREFIX; a host library would be missing on the target',
        );
      if (/--prefix[= ](\/usr|\/opt|\$HOME)/.test(line))
        add(
          'error',
          `${at} builds for a fixed prefix: ${line.trim()}`,
          'use --prefix="$KILN_PREFIX": the package is relocated at install time',
        );
    }
  }
  return problems;
}

/** Cycles among build dependencies (all options on, the widest graph), each reported once. */
function buildCycles(
  ids: readonly string[],
  recipes: ReadonlyMap<string, Recipe>,
  byName: ReadonlyMap<string, Recipe>,
): LintProblem[] {
  const problems: LintProblem[] = [];
  const reported = new Set<string>();
  const state = new Map<string, 'active' | 'done'>();
  const visit = (recipe: Recipe, path: string[]): void => {
    state.set(recipe.name, 'active');
    for (const dep of recipe.buildDepends) {
      const next = byName.get(dep.name);
      if (next === undefined) continue;
      if (state.get(next.name) === 'active') {
        const cycle = [...path.slice(path.indexOf(next.name)), next.name];
        const key = [...cycle].slice(0, -1).sort().join(' ');
        if (!reported.has(key)) {
          reported.add(key);
          problems.push({
            recipe: `${recipe.category}/${recipe.name}`,
            severity: 'warning',
            problem: `build dependencies form a cycle: ${cycle.join(' → ')}`,
            hint: 'make one of the dependencies conditional on an option, so that the cycle can be built in two steps',
          });
        }
      } else if (state.get(next.name) === undefined) visit(next, [...path, next.name]);
    }
    state.set(recipe.name, 'done');
  };
  for (const id of ids) {
    const recipe = recipes.get(id);
    if (recipe !== undefined && state.get(recipe.name) === undefined) visit(recipe, [recipe.name]);
  }
  return problems;
}

async function isFile(path: string): Promise<boolean> {
  return (await stat(path).catch(() => undefined))?.isFile() === true;
}

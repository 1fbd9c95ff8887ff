/**
 * Recipes, the source packages of a ports tree: `recipes/CATEGORY/NAME/recipe.toml`
 * beside a build script and patches. This module is the strict reader of one
 * recipe (docs/recipes.md is its prose form) and the pure helpers over it:
 * which options a build gets and which dependencies they switch on.
 *
 * Vocabulary: an *option* is a named feature switch with a default (Gentoo's
 * USE flag, pkgsrc's PKG_OPTIONS); a *dependency* names a package, a version
 * range and optionally the option it depends on (`openssl >=3 when ssl`).
 */
import { KilnError } from '../errors/index.js';
import type { DirectorySpec, GroupSpec, PackageRole, PermissionSpec, UserSpec } from '../format/index.js';
import {
  ACCOUNT_PATTERN,
  NAME_PATTERN,
  OPTION_PATTERN,
  expectSafePath,
  parseDescriptiveFields,
  parseIdentityFields,
  parseMode,
  parseOptionChoice,
} from '../format/index.js';
import type { Sha256 } from '../util/hash.js';
import { tryParseSha256 } from '../util/hash.js';
import type { Fail } from '../util/shape.js';
import {
  expectArray,
  expectBoolean,
  expectObject,
  expectString,
  isRecord,
  join,
  optionalString,
} from '../util/shape.js';
import { parseTomlDocument } from '../util/toml.js';
import { formatRange, tryParseRange } from '../version/index.js';
import { dict, own } from '../util/dict.js';

/** The file name of a recipe inside its directory. */
export const RECIPE_FILE = 'recipe.toml';
/** The build script used when a recipe names none. */
export const DEFAULT_SCRIPT = 'build.sh';

export interface RecipeSource {
  /** The upstream URL, tried first. */
  url: string;
  sha256: Sha256;
  /** The distfile name: the file's name in a mirror or the distfiles directory. */
  file: string;
  /** Further URLs of the same file, tried after `url`. */
  mirrors: string[];
  /** Unpack the archive into the work directory (default), or copy it there as it is. */
  unpack: boolean;
  /** The Debian source package that carries this tarball (used by scripts/distfiles.sh only). */
  debian?: string;
}

export interface RecipeCondition {
  option: string;
  /** true: the dependency applies when the option is on; false: when it is off. */
  enabled: boolean;
}

export interface RecipeDependency {
  name: string;
  /** Canonical range; '' means any version. */
  range: string;
  when?: RecipeCondition;
}

export interface RecipeOption {
  default: boolean;
  description: string;
}

export interface Recipe {
  /** The recipe's directory (absolute), where the script and patches are found. */
  dir: string;
  category: string;
  name: string;
  version: string;
  revision: number;
  summary: string;
  homepage: string;
  license: string;
  sources: RecipeSource[];
  /** Patch files relative to `dir`, applied in order with `patch -p1`. */
  patches: string[];
  options: Record<string, RecipeOption>;
  /** Installed into the build prefix before the script runs. */
  buildDepends: RecipeDependency[];
  /** Run-time dependencies beyond the libraries found in the built files. */
  depends: RecipeDependency[];
  users: UserSpec[];
  groups: GroupSpec[];
  directories: DirectorySpec[];
  permissions: PermissionSpec[];
  configFiles: string[];
  /** The build script, relative to `dir`. */
  script: string;
  /** Host libraries (sonames) this recipe may link besides the ports tree's allowed set. */
  systemLibraries: string[];
  /** `libc` or `toolchain`: what every other package runs on, placed first in every plan (`role = "libc"`). */
  role: PackageRole | undefined;
}

const TOP_KEYS = [
  'name',
  'version',
  'revision',
  'summary',
  'homepage',
  'license',
  'role',
  'source',
  'patches',
  'options',
  'build-depends',
  'depends',
  'install',
  'build',
];
const SOURCE_KEYS = ['url', 'sha256', 'file', 'mirrors', 'unpack', 'debian'];
const INSTALL_KEYS = ['users', 'groups', 'directories', 'permissions', 'config-files'];
const BUILD_KEYS = ['script', 'system-libraries'];
const URL_PATTERN = /^(https?|ftp):\/\/[^\s/]+\/\S*$/;
const FILE_NAME_PATTERN = /^[A-Za-z0-9_][A-Za-z0-9+_.,~-]*$/;
const SONAME_PATTERN = /^[A-Za-z0-9_][A-Za-z0-9+_.-]*\.so(\.[0-9]+)*$|^ld-linux[A-Za-z0-9_.-]*$/;
const DEPENDENCY_PATTERN = /^([A-Za-z0-9_][A-Za-z0-9+_-]*)(?:\s+(.*))?$/;
const CONDITION_PATTERN = /^(.*?)\s*\bwhen\s+(!?)([A-Za-z0-9][A-Za-z0-9+_@-]*)$/;

/**
 * Check a recipe already parsed from TOML. `where` is the recipe's directory,
 * whose last two components are its category and name.
 * @example parseRecipe(parseToml(text), '/ports/net/nginx', 'net', 'nginx')
 */
export function parseRecipe(data: unknown, dir: string, category: string, dirName: string): Recipe {
  const fail = recipeFail(dir);
  const root = expectObject(data, '(top level)', fail, TOP_KEYS);
  const identity = parseIdentityFields(
    { name: root['name'], category, version: root['version'], revision: root['revision'] ?? 0 },
    fail,
  );
  if (identity.name !== dirName)
    fail(
      'name',
      `is ${JSON.stringify(identity.name)} but the recipe's directory is ${JSON.stringify(dirName)}; they must be equal`,
    );
  const install = expectObject(root['install'] ?? {}, 'install', fail, INSTALL_KEYS);
  const descriptive = parseDescriptiveFields(
    {
      summary: root['summary'],
      homepage: root['homepage'],
      license: root['license'],
      users: install['users'],
      groups: install['groups'],
      directories: install['directories'],
    },
    (field, problem) =>
      fail(
        ['users', 'groups', 'directories'].some((key) => field.startsWith(key)) ? join('install', field) : field,
        problem,
      ),
  );
  const options = parseRecipeOptions(root['options'], fail);
  const build = expectObject(root['build'] ?? {}, 'build', fail, BUILD_KEYS);
  const sources = expectArray(root['source'] ?? [], 'source', fail).map((item, i) =>
    parseSource(item, join('source', i), fail),
  );
  if (sources.length === 0) fail('source', 'must list at least one source ([[source]] with url and sha256)');
  noDuplicates(
    sources.map((source) => source.file),
    'source',
    'file',
    fail,
  );
  const recipe: Recipe = {
    dir,
    ...identity,
    summary: descriptive.summary,
    homepage: descriptive.homepage,
    license: descriptive.license,
    sources,
    patches: expectArray(root['patches'] ?? [], 'patches', fail).map((item, i) =>
      expectSafePath(item, join('patches', i), fail),
    ),
    options,
    buildDepends: parseDependencies(root['build-depends'], 'build-depends', options, fail),
    depends: parseDependencies(root['depends'], 'depends', options, fail),
    users: descriptive.users,
    groups: descriptive.groups,
    directories: descriptive.directories,
    permissions: expectArray(install['permissions'] ?? [], 'install.permissions', fail).map((item, i) =>
      parsePermission(item, join('install.permissions', i), fail),
    ),
    configFiles: expectArray(install['config-files'] ?? [], 'install.config-files', fail).map((item, i) =>
      expectSafePath(item, join('install.config-files', i), fail),
    ),
    script: expectSafePath(build['script'] ?? DEFAULT_SCRIPT, 'build.script', fail),
    systemLibraries: expectArray(build['system-libraries'] ?? [], 'build.system-libraries', fail).map((item, i) =>
      expectString(
        item,
        join('build.system-libraries', i),
        fail,
        SONAME_PATTERN,
        'a shared library name such as "libcrypt.so.1"',
      ),
    ),
    role: parseOptionChoice({ role: root['role'] }, {}, fail).role,
  };
  noDuplicates(recipe.patches, 'patches', undefined, fail);
  return recipe;
}

/** Read `recipe.toml` text of the recipe in `dir` (CATEGORY/NAME). */
export function parseRecipeText(text: string, dir: string, category: string, dirName: string): Recipe {
  return parseRecipe(parseTomlDocument(text, recipeFail(dir)), dir, category, dirName);
}

/** The `fail` callback of a recipe: E_RECIPE naming the file and field. */
export function recipeFail(dir: string): Fail {
  return (where, problem) => {
    throw new KilnError('E_RECIPE', `invalid recipe ${dir}/${RECIPE_FILE}: ${where} ${problem}`, {
      hint: 'see docs/recipes.md for every field',
    });
  };
}

function parseSource(value: unknown, where: string, fail: Fail): RecipeSource {
  const misplaced = Object.keys(isRecord(value) ? value : {}).find(
    (key) => TOP_KEYS.includes(key) && !SOURCE_KEYS.includes(key),
  );
  if (misplaced !== undefined)
    fail(
      join(where, misplaced),
      `belongs at the top of the file: in TOML every key after a [[source]] header belongs to that source, so write top-level keys before the first [[source]]`,
    );
  const table = expectObject(value, where, fail, SOURCE_KEYS);
  const url = expectString(table['url'], join(where, 'url'), fail, URL_PATTERN, 'an http, https or ftp URL');
  const sha256 = tryParseSha256(table['sha256']);
  if (sha256 === undefined) fail(join(where, 'sha256'), 'must be 64 lower-case hex digits (the sha256 of the file)');
  const fileDefault = decodeURIComponent(new URL(url).pathname.split('/').pop() ?? '');
  const file = expectString(
    table['file'] ?? fileDefault,
    join(where, 'file'),
    fail,
    FILE_NAME_PATTERN,
    'a plain file name (set "file" when the URL does not end in one)',
  );
  const mirrors = expectArray(table['mirrors'] ?? [], join(where, 'mirrors'), fail).map((item, i) =>
    expectString(item, join(join(where, 'mirrors'), i), fail, URL_PATTERN, 'an http, https or ftp URL'),
  );
  const source: RecipeSource = {
    url,
    sha256,
    file,
    mirrors,
    unpack: expectBoolean(table['unpack'] ?? true, join(where, 'unpack'), fail),
  };
  const debian = optionalString(
    table['debian'],
    join(where, 'debian'),
    fail,
    /^[a-z0-9][a-z0-9+.-]+$/,
    'a Debian source package name',
  );
  if (debian !== undefined) source.debian = debian;
  return source;
}

function parseRecipeOptions(value: unknown, fail: Fail): Record<string, RecipeOption> {
  const table = expectObject(value ?? {}, 'options', fail);
  const options: Record<string, RecipeOption> = dict();
  for (const name of Object.keys(table).sort()) {
    const where = join('options', name);
    if (!OPTION_PATTERN.test(name))
      fail(where, 'is not a valid option name (letters, digits, "+", "_", "@", "-", starting with a letter or digit)');
    const option = expectObject(table[name], where, fail, ['default', 'description']);
    options[name] = {
      default: expectBoolean(option['default'], join(where, 'default'), fail),
      description: expectString(
        option['description'],
        join(where, 'description'),
        fail,
        /^[^\n\r]+$/,
        'one non-empty line',
      ),
    };
  }
  return options;
}

/**
 * Dependencies written as strings: `NAME`, `NAME RANGE`, and either followed
 * by `when OPTION` or `when !OPTION`.
 * @example parseDependencyText('openssl >=3 <4 when ssl') // { name: 'openssl', range: '>=3 <4', when: { option: 'ssl', enabled: true } }
 */
export function parseDependencyText(text: string): RecipeDependency | string {
  const condition = CONDITION_PATTERN.exec(text.trim());
  const match = DEPENDENCY_PATTERN.exec(condition === null ? text.trim() : condition[1]!);
  if (match === null || /\bwhen\b/.test(match[2] ?? '')) return 'is not of the form "NAME [RANGE] [when [!]OPTION]"';
  const [, name, rangeText] = match;
  const [negation, option] = condition === null ? [undefined, undefined] : [condition[2], condition[3]];
  const range = tryParseRange(rangeText ?? '');
  if (range === undefined) return `has an invalid version range ${JSON.stringify(rangeText)}`;
  const dependency: RecipeDependency = { name: name!, range: formatRange(range) };
  if (option !== undefined) dependency.when = { option, enabled: negation !== '!' };
  return dependency;
}

function parseDependencies(
  value: unknown,
  where: string,
  options: Record<string, RecipeOption>,
  fail: Fail,
): RecipeDependency[] {
  const result = expectArray(value ?? [], where, fail).map((item, i) => {
    const at = join(where, i);
    const parsed = parseDependencyText(expectString(item, at, fail));
    if (typeof parsed === 'string') fail(at, `${JSON.stringify(item)} ${parsed}`);
    if (!NAME_PATTERN.test(parsed.name))
      fail(at, `names ${JSON.stringify(parsed.name)}, which is not a valid package name`);
    if (parsed.when !== undefined && own(options, parsed.when.option) === undefined) {
      fail(
        at,
        `depends on option ${JSON.stringify(parsed.when.option)}, which the recipe does not declare under [options]`,
      );
    }
    return parsed;
  });
  // The same name twice is allowed only under different conditions (e.g. "when ssl" and "when !ssl").
  noDuplicates(
    result.map(
      (dep) => `${dep.name} ${dep.when === undefined ? '' : `${dep.when.enabled ? '' : '!'}${dep.when.option}`}`,
    ),
    where,
    undefined,
    fail,
  );
  return result;
}

function parsePermission(value: unknown, where: string, fail: Fail): PermissionSpec {
  const spec = expectObject(value, where, fail, ['path', 'owner', 'group', 'mode']);
  const result: PermissionSpec = { path: expectSafePath(spec['path'], join(where, 'path'), fail) };
  const owner = optionalString(spec['owner'], join(where, 'owner'), fail, ACCOUNT_PATTERN, 'a user name');
  const group = optionalString(spec['group'], join(where, 'group'), fail, ACCOUNT_PATTERN, 'a group name');
  if (owner !== undefined) result.owner = owner;
  if (group !== undefined) result.group = group;
  if (spec['mode'] !== undefined) result.mode = parseMode(spec['mode'], join(where, 'mode'), fail);
  if (Object.keys(result).length === 1) fail(where, 'sets neither owner, group nor mode');
  return result;
}

function noDuplicates(values: readonly string[], where: string, field: string | undefined, fail: Fail): void {
  const seen = new Set<string>();
  values.forEach((value, i) => {
    if (seen.has(value))
      fail(
        field === undefined ? join(where, i) : join(join(where, i), field),
        `repeats ${JSON.stringify(value.trim())}`,
      );
    seen.add(value);
  });
}

/**
 * The option set of one build: the recipe's defaults, then `enable`, then
 * `disable`. Naming an option the recipe does not have is an error.
 * @example resolveOptions(nginx, ['uwsgi'], ['ssl']) // { pcre: true, ssl: false, uwsgi: true }
 */
export function resolveOptions(
  recipe: Pick<Recipe, 'name' | 'options'>,
  enable: readonly string[] = [],
  disable: readonly string[] = [],
): Record<string, boolean> {
  const result: Record<string, boolean> = dict();
  for (const [name, option] of Object.entries(recipe.options)) result[name] = option.default;
  for (const [names, value] of [
    [enable, true],
    [disable, false],
  ] as const) {
    for (const name of names) {
      if (result[name] === undefined) {
        const known = Object.keys(recipe.options);
        throw new KilnError(
          'E_USAGE',
          `cannot build ${recipe.name} with option ${JSON.stringify(name)}: the recipe has no such option`,
          {
            hint:
              known.length === 0 ? `${recipe.name} has no options` : `${recipe.name}'s options: ${known.join(', ')}`,
          },
        );
      }
      if (value === false && enable.includes(name))
        throw new KilnError('E_USAGE', `cannot build ${recipe.name}: option ${name} is both enabled and disabled`);
      result[name] = value;
    }
  }
  return result;
}

/** The dependencies whose condition holds under `options`, without their conditions. */
export function activeDependencies(
  dependencies: readonly RecipeDependency[],
  options: Readonly<Record<string, boolean>>,
): { name: string; range: string }[] {
  return dependencies
    .filter((dep) => dep.when === undefined || options[dep.when.option] === dep.when.enabled)
    .map((dep) => ({ name: dep.name, range: dep.range }));
}

/** `CATEGORY/NAME`, how commands and reports name a recipe. */
export function recipeId(recipe: Pick<Recipe, 'category' | 'name'>): string {
  return `${recipe.category}/${recipe.name}`;
}

/**
 * An option set as build output shows it: `+on,-off`, in the set's order.
 * @example formatOptions({ pcre: true, ssl: false }) // '+pcre,-ssl'
 */
export function formatOptions(options: Readonly<Record<string, boolean>>, separator = ','): string {
  return Object.entries(options)
    .map(([name, on]) => `${on ? '+' : '-'}${name}`)
    .join(separator);
}

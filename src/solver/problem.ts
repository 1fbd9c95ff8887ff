/**
 * The neutral problem form the PubGrub solver reads (`kiln debug solve FILE.json`),
 * its strict reader, and the shape of its answer.
 *
 * Vocabulary, used without synonyms in `problem.ts`, `pubgrub/`, `explain.ts`
 * and `verifyPlan.ts`:
 *
 * - **Request**: what a person asked for: a name and a version range to be
 *   present (`request.install`), or a name to be absent (`request.remove`).
 *   Installed packages not named by a request are kept: they are requests too.
 * - **Candidate**: one value a name can take in a solution: a package version
 *   of that name, or, for a name some package provides, "that provider".
 * - **Term**: a statement about one name: "the name takes one of these
 *   candidates" (positive) or "the name is absent or takes none of these"
 *   (negative). A term's candidate set is exact: a subset of the name's
 *   finite candidate list.
 * - **Incompatibility**: a set of terms that must not all hold at once. A
 *   dependency `a 1.0 → b >=2` is the incompatibility {a 1.0, not b >=2}.
 * - **Assignment**: one entry of the partial solution: a decision or a
 *   derivation, at a decision level.
 * - **Decision**: an assignment the solver chose (a name takes one candidate).
 * - **Derivation**: an assignment forced by an incompatibility (its cause)
 *   and earlier assignments.
 * - **Solution**: the chosen version of each name that is present; written
 *   as a plan: `install`, `remove` and `keep` relative to what is installed.
 * - **Explanation**: when there is no solution, the chain of incompatibilities
 *   that proves it, written as numbered sentences a person can act on.
 *
 * Decisions made by the reader (the JSON is untrusted):
 * - Every field is checked; unknown fields are rejected. Errors are
 *   `E_USAGE` and name the field, e.g. `packages[3].depends[1]`.
 * - A package is a name and a version; two packages with the same name and
 *   equal versions (`1.0` and `1.0-r0`) are a duplicate.
 * - Every `installed` entry must match exactly one binary of `packages`
 *   (name and equal version, and `remote`, `cpu`, `options` when given): the
 *   caller puts the installed package's own metadata there, so its
 *   dependencies are known. At most one installed version per name.
 * - Packages may share a name and version when they differ in remote,
 *   recipe, CPU level or options; a recipe (`recipe`) is a buildable
 *   candidate, its dependencies may carry `when [!]OPTION`.
 * - `provides` entries are `NAME` or `NAME =VERSION`. An unversioned provide
 *   satisfies only a dependency with no range (as in Debian).
 * - A name may not be both in `request.install` and `request.remove`.
 */
import { KilnError } from '../errors/index.js';
import type { Version, VersionRange } from '../version/index.js';
import {
  formatRange,
  formatVersion,
  parseRange,
  tryParseRange,
  tryParseVersion,
  compareVersions,
} from '../version/index.js';

/** Package and virtual names: the same alphabet as package metadata names. */
export const PROBLEM_NAME_PATTERN = /^[A-Za-z0-9_][A-Za-z0-9+_.-]*$/;

/** Option names, as in recipes and package metadata. */
export const OPTION_NAME_PATTERN = /^[a-z0-9][a-z0-9_-]*$/;

/** `NAME [RANGE]` as in `depends`, `conflicts` and `request.install`. */
export interface Requirement {
  name: string;
  range: VersionRange;
  /** Canonical spelling: `b >=1.0 <2`, or `b` for any version. */
  text: string;
  /** For a recipe's dependency: only when this option has this value (`when ssl`, `when !ssl`). */
  when?: { option: string; value: boolean } | undefined;
}

/** `NAME[+a,-b] [RANGE]` in `request.install`: a requirement and the option settings asked for. */
export interface InstallRequest extends Requirement {
  /** Option settings asked for with the name; empty when none. */
  options: Record<string, boolean>;
}

/** `NAME [=VERSION]` as in `provides`. */
export interface Provide {
  name: string;
  /** `undefined` for an unversioned provide. */
  version: Version | undefined;
  text: string;
}

/** A package that must come before everything else in a plan (the glibc problem). */
import type { PackageRole } from '../format/metadata.js';
import { dict } from '../util/dict.js';
export type { PackageRole };

export interface ProblemPackage {
  /** Position in `packages`: identifies the package when versions repeat. */
  index: number;
  name: string;
  version: Version;
  depends: Requirement[];
  conflicts: Requirement[];
  provides: Provide[];
  /**
   * A binary: the options it was built with. A recipe: the options it has,
   * set to their defaults.
   */
  options: Record<string, boolean>;
  /**
   * A binary: the option defaults of what it was built from (the index
   * carries them); nobody's setting of an option means its default. Absent:
   * not known (then a recipe of the same version says, if there is one).
   */
  defaults?: Record<string, boolean> | undefined;
  /** A binary: the remote that offers it ('' when the problem names no remotes). */
  remote: string | undefined;
  /** A recipe that builds this version (`category/name`); `undefined` for a binary. */
  recipe: string | undefined;
  /** A recipe: what building costs, in any unit (default 1); binaries cost nothing. */
  cost: number;
  /** A binary: the CPU level it was built for (`x86-64-v2`); `undefined`: runs on any. */
  cpu: string | undefined;
  /** The oldest glibc it runs on; `undefined`: no floor. */
  libc: Version | undefined;
  /** SPDX license expression; `undefined`: not stated (accepted). */
  license: string | undefined;
  role: PackageRole | undefined;
  /**
   * Open security advisories that affect it (ids, and the fixed version when
   * known); a recipe's may hold `when`, the option settings of the builds they
   * affect. Absent: none.
   */
  advisories?: { id: string; fixed?: string; when?: Record<string, boolean> }[] | undefined;
}

export interface InstalledEntry {
  name: string;
  version: Version;
  /** The package entry that describes it. */
  pkg: ProblemPackage;
  /** `requested` by a person, or pulled in as a `dependency` (autoremove candidates). */
  reason: 'requested' | 'dependency';
  /** Never removed implicitly (by cascade or autoremove). */
  protected: boolean;
}

export interface Remote {
  name: string;
  /** Higher first. */
  priority: number;
}

export type BuildPolicy = 'never' | 'missing' | 'always';

/** Configuration: what a person set in kiln.toml, as the solver needs it. */
export interface SolverConfig {
  /** Global option settings (like USE in make.conf). */
  options: Record<string, boolean>;
  /** Per-package option settings, by name glob; later entries win. */
  packageOptions: { pattern: string; options: Record<string, boolean> }[];
  /** Take a binary only when its options match the wanted ones (default true). */
  respectOptions: boolean;
  /** CPU levels the host runs, lowest first; `undefined`: every level. */
  cpuLevels: string[] | undefined;
  /** Name globs whose binaries may be taken; `undefined`: every name. */
  binaryAllow: string[] | undefined;
  /** Name globs whose binaries are never taken. */
  binaryDeny: string[];
  buildPolicy: BuildPolicy;
  /** Per-package build policy, by name glob; later entries win. */
  packageBuildPolicy: { pattern: string; policy: BuildPolicy }[];
  /** Accepted SPDX license ids; `undefined`: every license. */
  acceptLicenses: string[] | undefined;
  /** The host's glibc version; `undefined`: no floor is checked. */
  glibc: Version | undefined;
  /** Names never removed implicitly, besides installed entries marked protected. */
  protected: string[];
  /** Advisory ids whose packages may be chosen all the same (`--allow-advisory`). */
  allowAdvisories: string[];
}

/** A problem after reading: every string parsed, every cross-reference checked. */
export interface SolverProblem {
  packages: ProblemPackage[];
  installed: InstalledEntry[];
  remotes: Remote[];
  config: SolverConfig;
  request: {
    install: InstallRequest[];
    remove: string[];
    /** Installed names to move to their most preferred candidate; 'all' for every one. */
    upgrade: string[] | 'all';
    /** Also remove every installed package that needs one being removed (consumers first). */
    cascade: boolean;
    /** Also remove packages pulled in as dependencies that nothing requested needs any more. */
    autoremove: boolean;
    /** Installed names to put in place again even when nothing changes (the installed package is offered like any binary). */
    reinstall: string[];
  };
}

export const DEFAULT_CONFIG: Readonly<SolverConfig> = Object.freeze({
  options: {},
  packageOptions: [],
  respectOptions: true,
  cpuLevels: undefined,
  binaryAllow: undefined,
  binaryDeny: [],
  buildPolicy: 'missing',
  packageBuildPolicy: [],
  acceptLicenses: undefined,
  glibc: undefined,
  protected: [],
  allowAdvisories: [],
});

/** One package version in a plan. */
export interface PlanEntry {
  name: string;
  version: string;
}

/** Where a step's package comes from. */
export type StepSource =
  | { from: 'binary'; remote: string; cpu?: string; options?: Record<string, boolean> }
  | { from: 'build'; recipe: string; options?: Record<string, boolean> }
  | { from: 'installed' };

/** One step of a plan, in the order it is carried out. */
export type PlanStep =
  | ({
      action: 'install' | 'upgrade' | 'downgrade' | 'reinstall';
      name: string;
      version: string;
      reason: string;
      replaces?: string;
    } & StepSource)
  | { action: 'remove'; name: string; version: string; reason: string }
  | { action: 'keep'; name: string; version: string; reason: string };

/**
 * The answer: a plain JSON-friendly object. `install` holds new or changed
 * versions, `remove` installed packages no longer present, `keep` installed
 * packages left as they are, each sorted by name; `steps` is the ordered
 * plan with a reason per step, and `cycles` says where dependency cycles
 * were broken to order it.
 */
export type SolveResult =
  | { solved: true; install: PlanEntry[]; remove: PlanEntry[]; keep: PlanEntry[]; steps: PlanStep[]; cycles: string[] }
  | {
      solved: false;
      explanation: string[];
      hint: string;
      /** Packages were left out because security advisories affect them (the failure is E_ADVISORY's). */
      advisories?: true;
    };

/**
 * Where a value is in the problem, for an error message: a text, or a
 * function that makes it, so that the thousands of list items read without
 * error never build theirs.
 */
type Where = string | (() => string);
type Fail = (where: Where, problem: string) => never;

const whereText = (where: Where): string => (typeof where === 'string' ? where : where());

const fail: Fail = (where, problem) => {
  throw new KilnError('E_USAGE', `cannot read solver problem: ${whereText(where)} ${problem}`, {
    hint: 'see src/solver/problem.ts for the problem form: {"packages": [...], "installed": [...], "request": {"install": [...], "remove": [...]}}',
  });
};

function isRecord(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

function expectObject(value: unknown, where: string, allowed: readonly string[]): Record<string, unknown> {
  if (!isRecord(value)) fail(where, 'must be an object');
  for (const key in value) {
    if (!allowed.includes(key))
      fail(where === '' ? key : `${where}.${key}`, `is not a known field (known: ${allowed.join(', ')})`);
  }
  return value;
}

function expectList(value: unknown, where: Where): unknown[] {
  if (!Array.isArray(value)) fail(where, 'must be a list');
  return value;
}

function expectName(value: unknown, where: Where): string {
  if (typeof value !== 'string') fail(where, 'must be a string');
  if (!PROBLEM_NAME_PATTERN.test(value))
    fail(where, `${JSON.stringify(value)} is not a package name (letters, digits, "+", "_", ".", "-")`);
  return value;
}

function expectVersion(value: unknown, where: string): Version {
  if (typeof value !== 'string') fail(where, 'must be a string');
  const version = tryParseVersion(value);
  if (version === undefined) fail(where, `${JSON.stringify(value)} is not a version (such as 1.2.3, 2.0_rc1, 1.0-r1)`);
  return version;
}

/** Reads `NAME [RANGE]`; with `conditional`, also `NAME [RANGE] when [!]OPTION` (a recipe's dependency). */
export function readRequirement(value: unknown, where: Where, conditional = false): Requirement {
  if (typeof value !== 'string') fail(where, 'must be a string "NAME [RANGE]"');
  let trimmed = value.trim();
  let when: Requirement['when'];
  const condition = trimmed.includes('when') ? /^(.*?)\s+when\s+(!?)(\S+)$/.exec(trimmed) : null;
  if (condition !== null) {
    if (!conditional) fail(where, `${JSON.stringify(value)}: only a recipe's dependencies can have "when OPTION"`);
    const option = condition[3] ?? '';
    if (!OPTION_NAME_PATTERN.test(option))
      fail(where, `${JSON.stringify(value)}: ${JSON.stringify(option)} is not an option name`);
    when = { option, value: condition[2] !== '!' };
    trimmed = condition[1] ?? '';
  }
  const space = trimmed.search(/\s/);
  const name = expectName(space === -1 ? trimmed : trimmed.slice(0, space), where);
  const rangeText = space === -1 ? '' : trimmed.slice(space + 1);
  let read = RANGES.get(rangeText);
  if (read === undefined) {
    const range = readRange(rangeText, value, where);
    read = { range, canonical: formatRange(range) };
    if (RANGES.size >= MAX_RANGES) RANGES.clear();
    RANGES.set(rangeText, read);
  }
  const { range, canonical } = read;
  const text = canonical === '' ? name : trimmed === `${name} ${canonical}` ? trimmed : `${name} ${canonical}`;
  return { name, range, text, when };
}

/**
 * Range texts already read, and their canonical form: problems and indexes
 * repeat a few ranges thousands of times (a range is never changed after it
 * is read). Bounded: a problem of many distinct ranges clears it now and then.
 */
const RANGES = new Map<string, { range: VersionRange; canonical: string }>();
const MAX_RANGES = 10_000;

function readRange(rangeText: string, value: string, where: Where): VersionRange {
  const range = tryParseRange(rangeText);
  if (range !== undefined) return range;
  try {
    parseRange(rangeText);
  } catch (error) {
    if (error instanceof KilnError)
      fail(where, `${JSON.stringify(value)} has a bad range: ${error.message.replace(/^cannot parse range /, '')}`);
    throw error;
  }
  throw new Error('Assertion failed: tryParseRange and parseRange disagree');
}

/** Option settings as people write them, sorted: `+a,-b`. */
export function formatSettings(settings: Readonly<Record<string, boolean>>): string {
  return Object.keys(settings)
    .sort()
    .map((key) => (settings[key] ? '+' : '-') + key)
    .join(',');
}

/** Reads option settings written `+a`, `-b` or `a` (on), as a list or comma-separated. */
export function readOptionSettings(value: unknown, where: Where): Record<string, boolean> {
  const items =
    typeof value === 'string'
      ? value
          .split(',')
          .map((item) => item.trim())
          .filter((item) => item !== '')
      : expectList(value, where);
  const settings: Record<string, boolean> = dict();
  items.forEach((item, i) => {
    const at: Where = typeof value === 'string' ? where : () => `${whereText(where)}[${i}]`;
    if (typeof item !== 'string') fail(at, 'must be a string "+OPTION" or "-OPTION"');
    const on = !item.startsWith('-');
    const option = item.replace(/^[+-]/, '');
    if (!OPTION_NAME_PATTERN.test(option))
      fail(
        at,
        `${JSON.stringify(item)} is not "+OPTION" or "-OPTION" (option names: lower-case letters, digits, "_", "-")`,
      );
    settings[option] = on;
  });
  return settings;
}

/**
 * Reads a request: `NAME`, `NAME >=1.2 <2`, `NAME[+uwsgi,-ssl]`, or both
 * (`NAME[+uwsgi] >=1.22`).
 */
export function readInstallRequest(value: unknown, where: Where): InstallRequest {
  if (typeof value !== 'string') fail(where, 'must be a string "NAME[+OPTION,-OPTION] [RANGE]"');
  const match = /^\s*([^\s[]+)(?:\[([^\]]*)\])?(.*)$/.exec(value);
  if (match === null) fail(where, `${JSON.stringify(value)} is not "NAME[+OPTION,-OPTION] [RANGE]"`);
  const options = match[2] === undefined ? {} : readOptionSettings(match[2], where);
  const requirement = readRequirement(`${match[1] ?? ''} ${match[3] ?? ''}`, where);
  return { ...requirement, options };
}

function readProvide(value: unknown, where: Where): Provide {
  if (typeof value !== 'string') fail(where, 'must be a string "NAME" or "NAME =VERSION"');
  const words = value.trim().split(/\s+/);
  const name = expectName(words[0], where);
  if (words.length === 1) return { name, version: undefined, text: name };
  const spec = words[1] ?? '';
  if (words.length > 2 || !spec.startsWith('=') || spec.endsWith('*'))
    fail(where, `${JSON.stringify(value)} must be "NAME" or "NAME =VERSION"`);
  const version = tryParseVersion(spec.slice(1));
  if (version === undefined) fail(where, `${JSON.stringify(value)} has a bad version after "="`);
  return { name, version, text: `${name} =${formatVersion(version)}` };
}

function readStrings<T>(value: unknown, where: string, read: (item: unknown, at: Where) => T): T[] {
  if (value === undefined) return [];
  const items = expectList(value, where);
  const out = new Array<T>(items.length);
  for (let i = 0; i < items.length; i++) out[i] = read(items[i], () => `${where}[${i}]`);
  return out;
}

function readOptionObject(value: unknown, where: string): Record<string, boolean> {
  if (value === undefined) return {};
  if (!isRecord(value)) fail(where, 'must be an object such as {"ssl": true, "uwsgi": false}');
  const out: Record<string, boolean> = dict();
  for (const key of Object.keys(value).sort()) {
    if (!OPTION_NAME_PATTERN.test(key)) fail(`${where}.${key}`, 'is not an option name');
    const flag = value[key];
    if (typeof flag !== 'boolean') fail(`${where}.${key}`, 'must be true or false');
    out[key] = flag;
  }
  return out;
}

function optionalString(value: unknown, where: string): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || value === '') fail(where, 'must be a non-empty string');
  return value;
}

function expectBoolean(value: unknown, where: string, fallback: boolean): boolean {
  if (value === undefined) return fallback;
  if (typeof value !== 'boolean') fail(where, 'must be true or false');
  return value;
}

function expectPatterns(value: unknown, where: string): string[] {
  return readStrings(value, where, (item, at) => {
    if (typeof item !== 'string' || !/^[A-Za-z0-9+_.*?-]+$/.test(item))
      fail(at, 'must be a name pattern (a package name, "*" and "?" as wildcards)');
    return item;
  });
}

const BUILD_POLICIES: readonly BuildPolicy[] = ['never', 'missing', 'always'];

function expectPolicy(value: unknown, where: string): BuildPolicy {
  if (typeof value !== 'string' || !(BUILD_POLICIES as readonly string[]).includes(value))
    fail(where, `must be one of ${BUILD_POLICIES.join(', ')}`);
  return value as BuildPolicy;
}

function readConfig(value: unknown): SolverConfig {
  const record = expectObject(value ?? {}, 'config', [
    'options',
    'packageOptions',
    'respectOptions',
    'cpuLevels',
    'binaryAllow',
    'binaryDeny',
    'buildPolicy',
    'packageBuildPolicy',
    'acceptLicenses',
    'glibc',
    'protected',
    'allowAdvisories',
  ]);
  const perPackage = <T>(field: string, read: (item: unknown, at: string) => T): { pattern: string; value: T }[] => {
    const object = record[field];
    if (object === undefined) return [];
    if (!isRecord(object)) fail(`config.${field}`, 'must be an object keyed by name pattern');
    return Object.keys(object).map((pattern) => {
      expectPatterns([pattern], `config.${field}`);
      return { pattern, value: read(object[pattern], `config.${field}.${pattern}`) };
    });
  };
  return {
    options: record['options'] === undefined ? {} : readOptionSettings(record['options'], 'config.options'),
    packageOptions: perPackage('packageOptions', readOptionSettings).map(({ pattern, value: options }) => ({
      pattern,
      options,
    })),
    respectOptions: expectBoolean(record['respectOptions'], 'config.respectOptions', true),
    cpuLevels:
      record['cpuLevels'] === undefined
        ? undefined
        : readStrings(record['cpuLevels'], 'config.cpuLevels', (item, at) => {
            if (typeof item !== 'string' || item === '') fail(at, 'must be a CPU level such as "x86-64-v2"');
            return item;
          }),
    binaryAllow:
      record['binaryAllow'] === undefined ? undefined : expectPatterns(record['binaryAllow'], 'config.binaryAllow'),
    binaryDeny: expectPatterns(record['binaryDeny'], 'config.binaryDeny'),
    buildPolicy:
      record['buildPolicy'] === undefined ? 'missing' : expectPolicy(record['buildPolicy'], 'config.buildPolicy'),
    packageBuildPolicy: perPackage('packageBuildPolicy', expectPolicy).map(({ pattern, value: policy }) => ({
      pattern,
      policy,
    })),
    acceptLicenses:
      record['acceptLicenses'] === undefined
        ? undefined
        : readStrings(record['acceptLicenses'], 'config.acceptLicenses', (item, at) => {
            if (typeof item !== 'string' || item === '') fail(at, 'must be an SPDX license id');
            return item;
          }),
    glibc: record['glibc'] === undefined ? undefined : expectVersion(record['glibc'], 'config.glibc'),
    protected: readStrings(record['protected'], 'config.protected', expectName),
    allowAdvisories: readStrings(record['allowAdvisories'], 'config.allowAdvisories', (item, at) => {
      if (typeof item !== 'string' || item === '') fail(at, 'must be an advisory id');
      return item;
    }),
  };
}

/** `advisories` of a package: `[{"id": "CVE-2023-44487", "fixed": "1.25.3"}]`. */
function readAdvisoryRefs(
  value: unknown,
  where: string,
): { id: string; fixed?: string; when?: Record<string, boolean> }[] {
  return readStrings(value, where, (item, at) => {
    const place = whereText(at);
    const record = expectObject(item, place, ['id', 'fixed', 'when']);
    const id = optionalString(record['id'], `${place}.id`);
    if (id === undefined) return fail(`${place}.id`, 'must be an advisory id');
    const fixed = optionalString(record['fixed'], `${place}.fixed`);
    return {
      id,
      ...(fixed === undefined ? {} : { fixed }),
      ...(record['when'] === undefined ? {} : { when: readOptionObject(record['when'], `${place}.when`) }),
    };
  });
}

const PACKAGE_FIELDS = [
  'name',
  'version',
  'depends',
  'conflicts',
  'provides',
  'options',
  'defaults',
  'remote',
  'recipe',
  'cost',
  'cpu',
  'libc',
  'license',
  'role',
  'advisories',
] as const;

/** What tells two packages of the same name and version apart. */
function packageKey(pkg: ProblemPackage): string {
  const options = formatSettings(pkg.options);
  return `${pkg.recipe === undefined ? `binary ${pkg.remote ?? ''}` : `recipe ${pkg.recipe}`} ${pkg.cpu ?? ''} ${options}`;
}

/**
 * Reads and checks a problem from parsed JSON.
 *
 * @throws KilnError `E_USAGE` naming the bad field.
 * @example
 * readProblem({ packages: [{ name: 'a', version: '1.0' }], request: { install: ['a'] } });
 */
export function readProblem(json: unknown): SolverProblem {
  const root = expectObject(json, 'the problem', ['packages', 'installed', 'request', 'remotes', 'config']);
  const remotes: Remote[] = [];
  expectList(root['remotes'] ?? [], 'remotes').forEach((item, i) => {
    const where = `remotes[${i}]`;
    const record = expectObject(item, where, ['name', 'priority']);
    const name = expectName(record['name'], `${where}.name`);
    const priority = record['priority'] ?? 0;
    if (typeof priority !== 'number' || !Number.isInteger(priority)) fail(`${where}.priority`, 'must be an integer');
    if (remotes.some((remote) => remote.name === name)) fail(where, `repeats remote ${name}`);
    remotes.push({ name, priority });
  });
  const config = readConfig(root['config']);

  // And the same few version texts: each is parsed once (a Version is never changed).
  const versions = new Map<unknown, Version>();
  const versionOf = (value: unknown, at: string): Version => {
    let version = versions.get(value);
    if (version === undefined) {
      version = expectVersion(value, at);
      versions.set(value, version);
    }
    return version;
  };
  const packages: ProblemPackage[] = [];
  const versionsByName = new Map<string, { pkg: ProblemPackage; key: string; where: string }[]>();
  expectList(root['packages'] ?? [], 'packages').forEach((item, i) => {
    const where = `packages[${i}]`;
    const record = expectObject(item, where, PACKAGE_FIELDS);
    const name = expectName(record['name'], `${where}.name`);
    const version = versionOf(record['version'], `${where}.version`);
    const recipe = optionalString(record['recipe'], `${where}.recipe`);
    let remote = optionalString(record['remote'], `${where}.remote`);
    if (recipe !== undefined && remote !== undefined)
      fail(where, 'is a recipe and a binary at once: give "recipe" or "remote", not both');
    if (recipe === undefined) {
      if (remote === undefined && remotes.length > 0)
        fail(
          `${where}.remote`,
          `is missing: the problem lists remotes, so each binary names one (${remotes.map((r) => r.name).join(', ')})`,
        );
      if (remote !== undefined && !remotes.some((r) => r.name === remote))
        fail(`${where}.remote`, `names ${remote}, which is not in remotes`);
      remote ??= '';
    }
    const cost = record['cost'] ?? 1;
    if (typeof cost !== 'number' || !(cost >= 0)) fail(`${where}.cost`, 'must be a number, 0 or more');
    if (recipe === undefined && record['cost'] !== undefined)
      fail(`${where}.cost`, 'is for recipes only: binaries cost nothing to build');
    const cpu = optionalString(record['cpu'], `${where}.cpu`);
    if (recipe !== undefined && cpu !== undefined)
      fail(`${where}.cpu`, "is for binaries only: a recipe is built for the host's CPU level");
    const role = record['role'];
    if (role !== undefined && role !== 'libc' && role !== 'toolchain')
      fail(`${where}.role`, 'must be "libc" or "toolchain"');
    const pkg: ProblemPackage = {
      index: packages.length,
      name,
      version,
      depends: readStrings(record['depends'], `${where}.depends`, (value, at) =>
        readRequirement(value, at, recipe !== undefined),
      ),
      conflicts: readStrings(record['conflicts'], `${where}.conflicts`, (value, at) => readRequirement(value, at)),
      provides: readStrings(record['provides'], `${where}.provides`, readProvide),
      options: readOptionObject(record['options'], `${where}.options`),
      ...(record['defaults'] === undefined
        ? {}
        : { defaults: readOptionObject(record['defaults'], `${where}.defaults`) }),
      remote,
      recipe,
      cost,
      cpu,
      libc: record['libc'] === undefined ? undefined : expectVersion(record['libc'], `${where}.libc`),
      license: optionalString(record['license'], `${where}.license`),
      role,
      ...(record['advisories'] === undefined
        ? {}
        : { advisories: readAdvisoryRefs(record['advisories'], `${where}.advisories`) }),
    };
    const key = packageKey(pkg);
    const seen = versionsByName.get(name) ?? [];
    const twin = seen.find((other) => compareVersions(other.pkg.version, version) === 0 && other.key === key);
    if (twin !== undefined) fail(where, `repeats ${name} ${version.raw} (already at ${twin.where})`);
    seen.push({ pkg, key, where });
    versionsByName.set(name, seen);
    packages.push(pkg);
  });

  const installed: InstalledEntry[] = [];
  const installedNames = new Set<string>();
  expectList(root['installed'] ?? [], 'installed').forEach((item, i) => {
    const where = `installed[${i}]`;
    const record = expectObject(item, where, ['name', 'version', 'reason', 'protected', 'remote', 'cpu', 'options']);
    const name = expectName(record['name'], `${where}.name`);
    const version = expectVersion(record['version'], `${where}.version`);
    if (installedNames.has(name)) fail(where, `repeats ${name}: at most one version of a name is installed`);
    installedNames.add(name);
    const reason = record['reason'] ?? 'requested';
    if (reason !== 'requested' && reason !== 'dependency')
      fail(`${where}.reason`, 'must be "requested" or "dependency"');
    const remote = optionalString(record['remote'], `${where}.remote`);
    const cpu = optionalString(record['cpu'], `${where}.cpu`);
    const options =
      record['options'] === undefined ? undefined : readOptionObject(record['options'], `${where}.options`);
    const matches = (versionsByName.get(name) ?? []).filter(
      ({ pkg }) =>
        compareVersions(pkg.version, version) === 0 &&
        pkg.recipe === undefined &&
        (remote === undefined || pkg.remote === remote) &&
        (cpu === undefined || pkg.cpu === cpu) &&
        (options === undefined || JSON.stringify(pkg.options) === JSON.stringify(options)),
    );
    if (matches.length === 0)
      fail(
        where,
        `is ${name} ${version.raw}, which is not in packages (list the installed package there too, as a binary, with its dependencies)`,
      );
    if (matches.length > 1)
      fail(
        where,
        `matches ${matches.length} packages (${matches.map((m) => m.where).join(', ')}): add "remote", "cpu" or "options" to say which is installed`,
      );
    installed.push({
      name,
      version,
      pkg: (matches[0] as { pkg: ProblemPackage }).pkg,
      reason,
      protected: expectBoolean(record['protected'], `${where}.protected`, false),
    });
  });

  const request = expectObject(root['request'] ?? {}, 'request', [
    'install',
    'remove',
    'upgrade',
    'cascade',
    'autoremove',
    'reinstall',
  ]);
  const install = readStrings(request['install'], 'request.install', readInstallRequest);
  const remove = readStrings(request['remove'], 'request.remove', expectName);
  remove.forEach((name, i) => {
    if (install.some((r) => r.name === name))
      fail(`request.remove[${i}]`, `names ${name}, which request.install asks for`);
    if (remove.indexOf(name) !== i) fail(`request.remove[${i}]`, `repeats ${name}`);
  });
  const upgradeValue = request['upgrade'];
  const upgrade = upgradeValue === 'all' ? 'all' : readStrings(upgradeValue, 'request.upgrade', expectName);
  return {
    packages,
    installed,
    remotes,
    config,
    request: {
      install,
      remove,
      upgrade,
      cascade: expectBoolean(request['cascade'], 'request.cascade', false),
      autoremove: expectBoolean(request['autoremove'], 'request.autoremove', false),
      reinstall: readStrings(request['reinstall'], 'request.reinstall', expectName),
    },
  };
}

/**
 * Reads a problem from JSON text.
 *
 * @throws KilnError `E_USAGE` when the text is not JSON or the problem is malformed.
 */
export function parseProblem(text: string): SolverProblem {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    fail('the problem', `is not valid JSON (${(error as Error).message})`);
  }
  return readProblem(json);
}

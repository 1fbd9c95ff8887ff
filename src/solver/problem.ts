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
 * - Every `installed` entry must match a package of `packages` (name and
 *   equal version): the caller puts the installed package's own metadata there,
 *   so its dependencies are known. At most one installed version per name.
 * - `provides` entries are `NAME` or `NAME =VERSION`. An unversioned provide
 *   satisfies only a dependency with no range (as in Debian).
 * - A name may not be both in `request.install` and `request.remove`.
 */
import { KilnError } from '../errors/index.js';
import type { Version, VersionRange } from '../version/index.js';
import { formatRange, formatVersion, parseRange, tryParseRange, tryParseVersion, compareVersions } from '../version/index.js';

/** Package and virtual names: the same alphabet as package metadata names. */
export const PROBLEM_NAME_PATTERN = /^[A-Za-z0-9_][A-Za-z0-9+_.-]*$/;

/** `NAME [RANGE]` as in `depends`, `conflicts` and `request.install`. */
export interface Requirement {
  name: string;
  range: VersionRange;
  /** Canonical spelling: `b >=1.0 <2`, or `b` for any version. */
  text: string;
}

/** `NAME [=VERSION]` as in `provides`. */
export interface Provide {
  name: string;
  /** `undefined` for an unversioned provide. */
  version: Version | undefined;
  text: string;
}

export interface ProblemPackage {
  name: string;
  version: Version;
  depends: Requirement[];
  conflicts: Requirement[];
  provides: Provide[];
}

export interface InstalledEntry {
  name: string;
  version: Version;
}

/** A problem after reading: every string parsed, every cross-reference checked. */
export interface SolverProblem {
  packages: ProblemPackage[];
  installed: InstalledEntry[];
  request: { install: Requirement[]; remove: string[] };
}

/** One package version in a plan. */
export interface PlanEntry {
  name: string;
  version: string;
}

/**
 * The answer: a plain JSON-friendly object. `install` holds new or changed
 * versions, `remove` installed packages no longer present, `keep` installed
 * packages left as they are. Each list is sorted by name.
 */
export type SolveResult =
  | { solved: true; install: PlanEntry[]; remove: PlanEntry[]; keep: PlanEntry[] }
  | { solved: false; explanation: string[]; hint: string };

type Fail = (where: string, problem: string) => never;

const fail: Fail = (where, problem) => {
  throw new KilnError('E_USAGE', `cannot read solver problem: ${where} ${problem}`, {
    hint: 'see src/solver/problem.ts for the problem form: {"packages": [...], "installed": [...], "request": {"install": [...], "remove": [...]}}',
  });
};

function isRecord(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

function expectObject(value: unknown, where: string, allowed: readonly string[]): Record<string, unknown> {
  if (!isRecord(value)) fail(where, 'must be an object');
  for (const key of Object.keys(value)) {
    if (!allowed.includes(key)) fail(where === '' ? key : `${where}.${key}`, `is not a known field (known: ${allowed.join(', ')})`);
  }
  return value;
}

function expectList(value: unknown, where: string): unknown[] {
  if (!Array.isArray(value)) fail(where, 'must be a list');
  return value;
}

function expectName(value: unknown, where: string): string {
  if (typeof value !== 'string') fail(where, 'must be a string');
  if (!PROBLEM_NAME_PATTERN.test(value)) fail(where, `${JSON.stringify(value)} is not a package name (letters, digits, "+", "_", ".", "-")`);
  return value;
}

function expectVersion(value: unknown, where: string): Version {
  if (typeof value !== 'string') fail(where, 'must be a string');
  const version = tryParseVersion(value);
  if (version === undefined) fail(where, `${JSON.stringify(value)} is not a version (such as 1.2.3, 2.0_rc1, 1.0-r1)`);
  return version;
}

/** Reads `NAME [RANGE]`. */
export function readRequirement(value: unknown, where: string): Requirement {
  if (typeof value !== 'string') fail(where, 'must be a string "NAME [RANGE]"');
  const trimmed = value.trim();
  const space = trimmed.search(/\s/);
  const name = expectName(space === -1 ? trimmed : trimmed.slice(0, space), where);
  const rangeText = space === -1 ? '' : trimmed.slice(space + 1);
  const range = tryParseRange(rangeText);
  if (range === undefined) {
    try {
      parseRange(rangeText);
    } catch (error) {
      if (error instanceof KilnError) fail(where, `${JSON.stringify(value)} has a bad range: ${error.message.replace(/^cannot parse range /, '')}`);
      throw error;
    }
    throw new Error('Assertion failed: tryParseRange and parseRange disagree');
  }
  const canonical = formatRange(range);
  return { name, range, text: canonical === '' ? name : `${name} ${canonical}` };
}

function readProvide(value: unknown, where: string): Provide {
  if (typeof value !== 'string') fail(where, 'must be a string "NAME" or "NAME =VERSION"');
  const words = value.trim().split(/\s+/);
  const name = expectName(words[0], where);
  if (words.length === 1) return { name, version: undefined, text: name };
  const spec = words[1] ?? '';
  if (words.length > 2 || !spec.startsWith('=') || spec.endsWith('*')) fail(where, `${JSON.stringify(value)} must be "NAME" or "NAME =VERSION"`);
  const version = tryParseVersion(spec.slice(1));
  if (version === undefined) fail(where, `${JSON.stringify(value)} has a bad version after "="`);
  return { name, version, text: `${name} =${formatVersion(version)}` };
}

function readStrings<T>(value: unknown, where: string, read: (item: unknown, at: string) => T): T[] {
  if (value === undefined) return [];
  return expectList(value, where).map((item, i) => read(item, `${where}[${i}]`));
}

/**
 * Reads and checks a problem from parsed JSON.
 *
 * @throws KilnError `E_USAGE` naming the bad field.
 * @example
 * readProblem({ packages: [{ name: 'a', version: '1.0' }], request: { install: ['a'] } });
 */
export function readProblem(json: unknown): SolverProblem {
  const root = expectObject(json, 'the problem', ['packages', 'installed', 'request']);
  const packages: ProblemPackage[] = [];
  const versionsByName = new Map<string, { version: Version; where: string }[]>();
  expectList(root['packages'] ?? [], 'packages').forEach((item, i) => {
    const where = `packages[${i}]`;
    const record = expectObject(item, where, ['name', 'version', 'depends', 'conflicts', 'provides']);
    const name = expectName(record['name'], `${where}.name`);
    const version = expectVersion(record['version'], `${where}.version`);
    const seen = versionsByName.get(name) ?? [];
    const twin = seen.find((other) => compareVersions(other.version, version) === 0);
    if (twin !== undefined) fail(where, `repeats ${name} ${version.raw} (already at ${twin.where})`);
    seen.push({ version, where });
    versionsByName.set(name, seen);
    packages.push({
      name,
      version,
      depends: readStrings(record['depends'], `${where}.depends`, readRequirement),
      conflicts: readStrings(record['conflicts'], `${where}.conflicts`, readRequirement),
      provides: readStrings(record['provides'], `${where}.provides`, readProvide),
    });
  });

  const installed: InstalledEntry[] = [];
  const installedNames = new Set<string>();
  expectList(root['installed'] ?? [], 'installed').forEach((item, i) => {
    const where = `installed[${i}]`;
    const record = expectObject(item, where, ['name', 'version']);
    const name = expectName(record['name'], `${where}.name`);
    const version = expectVersion(record['version'], `${where}.version`);
    if (installedNames.has(name)) fail(where, `repeats ${name}: at most one version of a name is installed`);
    installedNames.add(name);
    if (!(versionsByName.get(name) ?? []).some((known) => compareVersions(known.version, version) === 0)) {
      fail(where, `is ${name} ${version.raw}, which is not in packages (list the installed package there too, with its dependencies)`);
    }
    installed.push({ name, version });
  });

  const request = expectObject(root['request'] ?? {}, 'request', ['install', 'remove']);
  const install = readStrings(request['install'], 'request.install', readRequirement);
  const remove = readStrings(request['remove'], 'request.remove', expectName);
  remove.forEach((name, i) => {
    if (install.some((r) => r.name === name)) fail(`request.remove[${i}]`, `names ${name}, which request.install asks for`);
    if (remove.indexOf(name) !== i) fail(`request.remove[${i}]`, `repeats ${name}`);
  });
  return { packages, installed, request: { install, remove } };
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

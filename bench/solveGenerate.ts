/**
 * Generated solver problems for `npm run bench:solve`, in the neutral JSON
 * form that `parseProblem` reads (see src/solver/problem.ts). The same seed
 * and sizes give the same problem, byte for byte.
 *
 * Shape: names `n0 … n{N-1}`, each with versions `1.0 … V.0`; every package
 * depends on 0–4 other names with random ranges (any, `>=`, `>`, `<`, `<=`,
 * `=`, `!=`, two-sided; about 1 % match no version), about 2 % carry a
 * conflict, about 5 % of the names are installed (one version each, with no
 * regard to their dependencies), and the request installs 20 names, each
 * with a range some version meets.
 *
 * @example
 * const json = generateProblem({ names: 1000, versions: 3, seed: 1 });
 * parseProblem(JSON.stringify(json)); // 3,000 packages
 */
import { seededRandom } from '../src/util/seededRandom.js';

export interface GenerateOptions {
  names: number;
  versions: number;
  seed: number;
}

export interface RawPackage {
  name: string;
  version: string;
  depends: string[];
  conflicts: string[];
  provides: string[];
}

export interface RawProblem {
  packages: RawPackage[];
  installed: { name: string; version: string }[];
  request: { install: string[]; remove: string[] };
}

type Random = () => number;

const integer = (random: Random, below: number): number => Math.floor(random() * below);

/** Whether a version (a number here: versions are `X.0`, bounds `X.0` or `X.5`) is in a range this file writes. */
function inRange(range: string, version: number): boolean {
  return range.split(' ').every((clause) => {
    const match = /^(<=|>=|!=|<|>|=)(.*)$/.exec(clause);
    if (match === null) return true;
    const bound = Number(match[2]);
    switch (match[1]) {
      case '<':
        return version < bound;
      case '<=':
        return version <= bound;
      case '>':
        return version > bound;
      case '>=':
        return version >= bound;
      case '=':
        return version === bound;
      default:
        return version !== bound;
    }
  });
}

/** A range over versions 1.0 … V.0; bounds may fall between versions (`<2.5`). */
function anyRange(random: Random, versions: number): string {
  const bound = (): string => (1 + integer(random, 2 * versions - 1) / 2).toFixed(1);
  const roll = random();
  if (roll < 0.35) return '';
  if (roll < 0.5) return `>=${bound()}`;
  if (roll < 0.6) return `>${bound()}`;
  if (roll < 0.7) return `<${bound()}`;
  if (roll < 0.78) return `<=${bound()}`;
  if (roll < 0.84) return `=${(1 + integer(random, versions)).toFixed(1)}`;
  if (roll < 0.9) return `!=${(1 + integer(random, versions)).toFixed(1)}`;
  const [low, high] = [Number(bound()), Number(bound())].sort((a, b) => a - b) as [number, number];
  const top = (high === low ? high + 1 : high).toFixed(1);
  return random() < 0.5 ? `>=${low.toFixed(1)} <${top}` : `>${low.toFixed(1)} <=${top}`;
}

/**
 * A range that some version satisfies, except with probability `emptyShare`:
 * real repositories hold a few broken dependencies, not many.
 */
function randomRange(random: Random, versions: number, emptyShare: number): string {
  const allowEmpty = random() < emptyShare;
  for (;;) {
    const range = anyRange(random, versions);
    if (allowEmpty) return range;
    for (let v = 1; v <= versions; v++) if (inRange(range, v)) return range;
  }
}

export function generateProblem(options: GenerateOptions): RawProblem {
  const { names, versions, seed } = options;
  const random = seededRandom(seed);
  const versionList = Array.from({ length: versions }, (_, i) => `${i + 1}.0`);
  const requirement = (self: number, emptyShare: number): string => {
    let target = integer(random, names);
    // No dependency on its own name: it is legal, but rare in real repositories.
    if (target === self && names > 1) target = (target + 1) % names;
    return `n${target} ${randomRange(random, versions, emptyShare)}`.trim();
  };
  const packages: RawPackage[] = [];
  for (let i = 0; i < names; i++) {
    for (const version of versionList) {
      const depends = Array.from({ length: integer(random, 5) }, () => requirement(i, 0.01));
      const conflicts = random() < 0.02 ? [requirement(i, 0)] : [];
      packages.push({ name: `n${i}`, version, depends, conflicts, provides: [] });
    }
  }
  const installed: RawProblem['installed'] = [];
  const installedNames = new Set<number>();
  for (let k = 0; k < Math.floor(names / 20); k++) {
    const name = integer(random, names);
    const version = versionList[integer(random, versions)] as string;
    if (installedNames.has(name)) continue;
    installedNames.add(name);
    installed.push({ name: `n${name}`, version });
  }
  const install = Array.from({ length: 20 }, () => requirement(-1, 0));
  return { packages, installed, request: { install, remove: [] } };
}

/**
 * A solver problem shaped like a real distribution's dependency graph, for
 * `npm run bench:solve -- --shape distro`: the uniform random graphs of
 * solveGenerate.ts have none of what makes real repositories hard.
 *
 * Shape (60,000 names by default: 71,189 packages, 271,952 dependencies,
 * 34,800 virtual names, 3,746 names of several versions, 3,516 packages with
 * conflicts at seed 1):
 * - **Layers and long chains**: names sit on 40 layers, from base libraries
 *   (low index) to applications (high index); a package depends on names of
 *   lower layers, one dependency in eight on the layer just below, so a
 *   closure runs down chains dozens of packages long. Lower names are more
 *   popular: other dependencies pick index `i * u^6`, so a few base names are
 *   needed by nearly everything.
 * - **Dependencies**: 0–11 per package (`12 * u^2`, about 4 on average), 2 %
 *   of packages are meta packages with 20–40; about 270,000 edges.
 * - **Versions**: 93.7 % of names have one version, 6 % two to four, 0.3 %
 *   (the compilers and runtimes of a real repository) ten to forty.
 *   Dependencies on a name with several versions carry ranges: mostly `>=`
 *   (in the lower half of its versions), on a runtime sometimes an upper
 *   bound `<` (above the lower half: an older version must be chosen, with
 *   its own dependencies), on a name of few versions sometimes an exact pin
 *   to its newest (a -dev package and its library); the older versions of a
 *   name depend on the same names without pins. No two ranges contradict
 *   each other, so that, as in a real archive, the closure can be installed.
 * - **Virtual names**: about 35,000 (0.58 per name), unversioned provides
 *   (so dependencies on them carry no range, as in Debian); most have one
 *   provider, a fifth two to five, 1 % twenty to a hundred (an MTA, a
 *   terminal emulator). 10 % of dependencies name a virtual name. The
 *   providers of a virtual name with several are alternatives, a band of
 *   names nothing depends on by name.
 * - **Conflicts**: an alternative conflicts with another provider of its
 *   virtual name 8 % of the time (two MTAs); 0.5 % of other packages
 *   conflict with the oldest versions of a name nearby.
 * - **Installed**: a consistent system, as on a real machine: what solving
 *   `baseRequest` (30 names from the middle layers) with nothing installed
 *   chose (the bench solves it first and fills `installed` with the plan;
 *   16,424 packages at 60,000 names, seed 1).
 * - **Request**: 20 application names from the top tenth of the layers.
 *
 * The same names and seed give the same problem, byte for byte. Versions are
 * plain (digits and dots), so that the libsolv testcase orders them as Kiln does.
 */
import { seededRandom } from '../src/util/seededRandom.js';
import type { RawPackage, RawProblem } from './solveGenerate.js';

export interface DistroOptions {
  names: number;
  seed: number;
}

const LAYERS = 40;

/** The k-th version of a name (increasing in k): 1.0 … 1.4, 2.0 … */
const versionText = (k: number): string => `${1 + Math.floor(k / 5)}.${k % 5}`;

export interface DistroProblem extends RawProblem {
  /** Names whose solution, with nothing installed, is the system the request meets as `installed`. */
  baseRequest: string[];
}

export function generateDistroProblem(options: DistroOptions): DistroProblem {
  const { names, seed } = options;
  const random = seededRandom(seed);
  const integer = (below: number): number => Math.floor(random() * below);
  const layerWidth = Math.max(1, Math.floor(names / LAYERS));

  const versionCounts = Array.from({ length: names }, () => {
    const roll = random();
    if (roll < 0.003) return 10 + integer(31);
    if (roll < 0.063) return 2 + integer(3);
    return 1;
  });
  /** The highest version index of the lower half: every `>=` bound is at most this, every `<` bound above it. */
  const lowerHalf = (count: number): number => Math.floor((count - 1) / 2);

  // Alternatives (an MTA, a terminal emulator) are names of one band that nothing depends on by name: they are met
  // through the virtual names they provide, and may conflict with each other.
  const poolStart = Math.floor(names * 0.75);
  const poolEnd = Math.floor(names * 0.9);
  const inPool = (name: number): boolean => name >= poolStart && name < poolEnd;
  const virtualCount = Math.floor(names * 0.58);
  const providersOf: number[][] = [];
  const provides = new Map<number, string[]>();
  for (let v = 0; v < virtualCount; v++) {
    const roll = random();
    const count = roll < 0.01 ? 20 + integer(81) : roll < 0.21 ? 2 + integer(4) : 1;
    const chosen = new Set<number>();
    // A virtual name of one provider (a library's ABI name) is as good as a dependency by name: never an alternative.
    const pick = () => {
      if (count > 1) return poolStart + integer(Math.max(1, poolEnd - poolStart));
      const name = Math.floor(names * random() ** 4);
      return inPool(name) ? Math.floor(name / 2) : name;
    };
    while (chosen.size < Math.min(count, names)) chosen.add(pick());
    providersOf.push([...chosen]);
    for (const provider of chosen) provides.set(provider, [...(provides.get(provider) ?? []), `virt${v}`]);
  }

  /**
   * A range on name `target`, the shape of real ones and never contradicting another: `>=` bounds in the lower half
   * of its versions; on a name of ten or more versions, sometimes an upper bound `<` above the lower half; on a
   * name of two to four, sometimes a pin to its newest version (a -dev package and its library) in the newest
   * version of the depending package.
   */
  const rangeOn = (target: number, newest: boolean): string => {
    const count = versionCounts[target]!;
    if (count === 1) return random() < 0.3 ? ` >=${versionText(0)}` : '';
    const roll = random();
    const half = lowerHalf(count);
    if (count >= 10 && roll < 0.2) return ` <${versionText(half + 1 + integer(count - 1 - half))}`;
    if (count < 10 && roll < 0.15 && newest) return ` =${versionText(count - 1)}`;
    return ` >=${versionText(integer(half + 1))}`;
  };

  interface Edge {
    target: number;
    virtual: boolean;
  }
  const edgesOf = (self: number): Edge[] => {
    const meta = random() < 0.02;
    const count = meta ? 20 + integer(21) : Math.floor(12 * random() ** 2);
    const edges: Edge[] = [];
    const seen = new Set<string>();
    for (let k = 0; k < count && self > 0; k++) {
      let edge: Edge;
      if (random() < 0.1) edge = { target: integer(virtualCount), virtual: true };
      else if (random() < 0.12 && self >= layerWidth) edge = { target: self - 1 - integer(layerWidth), virtual: false };
      else edge = { target: Math.floor(self * random() ** 6), virtual: false };
      if (!edge.virtual && inPool(edge.target)) edge.target = Math.floor(edge.target / 2);
      const key = `${edge.virtual ? 'v' : 'n'}${edge.target}`;
      if (seen.has(key) || (!edge.virtual && edge.target === self)) continue;
      seen.add(key);
      edges.push(edge);
    }
    return edges;
  };

  const packages: RawPackage[] = [];
  for (let i = 0; i < names; i++) {
    const edges = edgesOf(i);
    const count = versionCounts[i]!;
    const conflicts: string[] = [];
    const mine = provides.get(i) ?? [];
    for (const virtual of mine) {
      const others = providersOf[Number(virtual.slice(4))]!.filter((other) => other !== i);
      if (others.length > 0 && random() < 0.08) conflicts.push(`n${others[integer(others.length)]}`);
    }
    // Now and then, a conflict with the oldest versions of a name nearby (a file moved between packages).
    if (random() < 0.005 && i > 1) {
      const other = Math.max(0, i - 1 - integer(layerWidth));
      const half = lowerHalf(versionCounts[other]!);
      if (half > 0 && !inPool(other)) conflicts.push(`n${other} <${versionText(1 + integer(half))}`);
    }
    const newestDepends = edges.map((edge) =>
      edge.virtual ? `virt${edge.target}` : `n${edge.target}${rangeOn(edge.target, true)}`,
    );
    const olderDepends = edges.map((edge) =>
      edge.virtual ? `virt${edge.target}` : `n${edge.target}${rangeOn(edge.target, false)}`,
    );
    for (let k = 0; k < count; k++)
      packages.push({
        name: `n${i}`,
        version: versionText(k),
        depends: k === count - 1 ? newestDepends : olderDepends,
        conflicts,
        provides: mine,
      });
  }

  const top = Math.max(1, Math.floor(names / 10));
  const install = Array.from({ length: 20 }, () => `n${names - 1 - integer(top)}`);
  // What is installed already: a consistent system, the plan of a first request (see DistroProblem).
  const base = Array.from({ length: 30 }, () => `n${Math.floor(names * 0.3) + integer(Math.floor(names * 0.4))}`);
  return {
    packages,
    installed: [],
    request: { install: [...new Set(install)], remove: [] },
    baseRequest: [...new Set(base)],
  };
}

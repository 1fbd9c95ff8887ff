/**
 * The host check before writing: after a change, every shared library
 * (soname) that a package of the prefix needs must be found — provided by a
 * package the prefix will hold (those installed, minus the ones the change
 * removes or replaces, plus the ones it places), or, for the sonames the
 * package may take from the host (systemLibraries.ts), in the host's library
 * directories. Otherwise the program would fail to start with "cannot open
 * shared object file".
 *
 * Checked: every need of every package placed, and the needs of packages that
 * stay installed which only a removed or replaced package provided. Run
 * against the index entries when a dry run plans (the index has each entry's
 * needs and provides, not which files need what) and against each downloaded
 * package's own metadata before anything is written (docs/transactions.md).
 */
import { shellQuote } from '../util/shellQuote.js';
import type { InstalledPackage } from '../db/index.js';
import { KilnError } from '../errors/index.js';
import type { Needs, Target } from '../format/metadata.js';
import { compareText, fullVersion } from '../format/metadata.js';
import { hostSonames } from '../format/systemLibraries.js';
import type { Candidate, PlanAction } from '../solver/types.js';
import { isPlacing } from '../solver/types.js';
import { compareVersions } from '../version/index.js';

/** What the check reads of a package: an index entry or a package's metadata. */
export interface PackageLinks {
  name: string;
  version: string;
  revision: number;
  target: Target;
  provides: { sonames: readonly string[] };
  needs: Readonly<Needs>;
}

export interface LibraryCheck {
  actions: readonly PlanAction[];
  installed: readonly InstalledPackage[];
  /** What a package the change places needs and provides. */
  linksOf: (action: Exclude<PlanAction, { kind: 'remove' }>) => PackageLinks;
  /** Whether the host's loader finds `soname` for a program of `arch`. */
  hostHas: (soname: string, arch: string) => boolean;
}

export interface MissingLibrary {
  /** The package that needs it, and its `name-version`. */
  name: string;
  package: string;
  /** The package stays installed (the change takes its library away). */
  installed: boolean;
  soname: string;
  /** The package's files that need it; undefined when not known (an index entry, a package of an older Kiln). */
  files: readonly string[] | undefined;
  /** The package may take it from the host, but the host does not have it. */
  host: boolean;
  /** Packages the change removes or replaces that provided it (`name-version`). */
  takenAway: string[];
}

/**
 * Every needed library that would not be found after the change, sorted by package and soname.
 * @example findMissingLibraries({ actions: plan.actions, installed, linksOf: (a) => a.candidate.entry, hostHas: (s, arch) => host.find(s, arch) !== undefined })
 */
export function findMissingLibraries(check: LibraryCheck): MissingLibrary[] {
  const placing = check.actions.filter(isPlacing).map((action) => check.linksOf(action));
  // An upgrade, downgrade or reinstall replaces the installed package of its name.
  const leavingNames = new Set(
    check.actions.filter((action) => action.kind !== 'install').map((action) => action.name),
  );
  const kept = check.installed.filter((pkg) => !leavingNames.has(pkg.name)).map((pkg) => pkg.metadata);
  const leaving = check.installed.filter((pkg) => leavingNames.has(pkg.name));
  const provided = new Set([...kept, ...placing].flatMap((pkg) => pkg.provides.sonames));
  const missing: MissingLibrary[] = [];
  const need = (
    pkg: PackageLinks,
    installed: boolean,
    sonames: Iterable<string>,
    takenAway: (soname: string) => string[],
  ): void => {
    const fromHost = hostSonames(pkg.needs);
    for (const soname of sonames) {
      if (provided.has(soname)) continue;
      const host = fromHost.has(soname);
      if (host && check.hostHas(soname, pkg.target.arch)) continue;
      missing.push({
        name: pkg.name,
        package: label(pkg),
        installed,
        soname,
        files: pkg.needs.files?.[soname],
        host,
        takenAway: takenAway(soname),
      });
    }
  };
  const lost = new Map<string, string[]>();
  for (const pkg of leaving) {
    for (const soname of pkg.metadata.provides.sonames)
      if (!provided.has(soname)) lost.set(soname, [...(lost.get(soname) ?? []), label(pkg)]);
  }
  const takenAway = (soname: string): string[] => lost.get(soname) ?? [];
  for (const pkg of placing) need(pkg, false, pkg.needs.sonames, takenAway);
  // Packages that stay: only what the change takes away is theirs to check (the rest was checked when they came).
  for (const pkg of kept)
    need(
      pkg,
      true,
      pkg.needs.sonames.filter((soname) => lost.has(soname)),
      takenAway,
    );
  return missing.sort((a, b) => compareText(a.package, b.package) || compareText(a.soname, b.soname));
}

const MAX_LISTED = 20;
const MAX_FILES = 3;

/**
 * The E_MISSING_LIBRARY error for `missing` (not empty): one line per library,
 * naming the files, the soname, and what the synced remotes offer that
 * provides it (`available`).
 */
export function missingLibrariesError(
  root: string,
  missing: readonly MissingLibrary[],
  available: readonly Candidate[],
): KilnError {
  const solvable = new Set<string>();
  const lines = missing.slice(0, MAX_LISTED).map((item) => {
    const files =
      item.files === undefined || item.files.length === 0
        ? ''
        : `${item.files.slice(0, MAX_FILES).join(', ')}${item.files.length > MAX_FILES ? ` and ${item.files.length - MAX_FILES} more` : ''} of `;
    const who = `${files}${item.package}${item.installed ? ' (installed)' : ''}`;
    const state =
      item.takenAway.length > 0
        ? `${item.takenAway.join(' and ')} provided it, and this change takes it away`
        : item.host
          ? "no package of the prefix provides it, and the host's library directories do not have it"
          : 'no package of the prefix provides it';
    const providers = providersOf(item.soname, available);
    if (providers.length > 0 && !item.installed && item.takenAway.length === 0) {
      // Installing the provider with the package that needs it would do.
      solvable.add(item.name);
      for (const provider of providers) solvable.add(provider.entry.name);
    }
    const offer =
      providers.length === 0
        ? 'no package of the synced remotes provides it'
        : `${providers.map((c) => `${c.entry.name} ${fullVersion(c.entry)} (remote ${c.remote})`).join(', ')} ${providers.length === 1 ? 'provides' : 'provide'} it`;
    return `${who} needs ${item.soname}: ${state}; ${offer}`;
  });
  if (missing.length > MAX_LISTED) lines.push(`and ${missing.length - MAX_LISTED} more`);
  const hints: string[] = [];
  if (solvable.size > 0)
    hints.push(
      `install what provides the library along with what needs it ("kiln install ${[...solvable].sort(compareText).map(shellQuote).join(' ')}")`,
    );
  const takenAway = [...new Set(missing.flatMap((item) => item.takenAway))];
  if (takenAway.length > 0) hints.push(`keep ${takenAway.join(', ')}, or remove what needs it too`);
  if (missing.some((item) => item.host))
    hints.push(
      'a system library comes from the host: install it with the host\'s package manager ("ldconfig -p" lists what the host has)',
    );
  if (missing.some((item) => !item.host && item.takenAway.length === 0))
    hints.push('a package that does not declare the package it needs a library from is incomplete: tell its packager');
  const count =
    missing.length === 1 ? 'a library that a package needs' : `${missing.length} libraries that packages need`;
  return new KilnError(
    'E_MISSING_LIBRARY',
    `cannot change prefix ${root}: ${count} would not be found, so programs would not start; nothing was written:\n  ${lines.join('\n  ')}`,
    {
      hint: `${hints.join('; ')}; nothing was changed`,
    },
  );
}

/** Of each package name, the newest candidate that provides `soname`. */
function providersOf(soname: string, available: readonly Candidate[]): Candidate[] {
  const newest = new Map<string, Candidate>();
  for (const candidate of available) {
    if (!candidate.entry.provides.sonames.includes(soname)) continue;
    const have = newest.get(candidate.entry.name);
    if (have === undefined || compareVersions(fullVersion(candidate.entry), fullVersion(have.entry)) > 0)
      newest.set(candidate.entry.name, candidate);
  }
  return [...newest.values()].sort((a, b) => compareText(a.entry.name, b.entry.name));
}

function label(pkg: Pick<PackageLinks, 'name' | 'version' | 'revision'>): string {
  return `${pkg.name}-${fullVersion(pkg)}`;
}

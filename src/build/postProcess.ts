/**
 * Post-processing of a finished staging tree, before it is packed: every ELF
 * file's run path is made `$ORIGIN`-relative (and written as DT_RPATH, see
 * docs/recipes.md), every needed library is accounted for — inside the
 * package, from a dependency (which becomes an automatic dependency with the
 * version built against), or from the allowed system set — and the newest
 * glibc symbol version needed becomes the package's libc floor.
 *
 * A needed library that none of those provide fails the build, naming the
 * file and the library: the "cannot open shared object file" failure caught
 * at build time instead of on the target.
 */
import { existsSync } from 'node:fs';
import { open, readFile, writeFile } from 'node:fs/promises';
import { dirname, join, posix } from 'node:path';
import { isElf, isLinkedElf, linkFacts, readElf, rewriteRunpath } from '../elf/index.js';
import type { ElfFile } from '../elf/index.js';
import { KilnError } from '../errors/index.js';
import type { Dependency } from '../format/index.js';
import { walkStage } from '../format/walkStage.js';
import { findOnHost, HOST_LIBRARY_DIRS } from './hostFiles.js';

/** A library a dependency installed in the build prefix provides. */
export interface LibraryProvider {
  name: string;
  version: string;
}

export interface PostProcessInput {
  /** The package tree: the staging directory's copy of the prefix. */
  root: string;
  /** The placeholder prefix; also where the dependencies are installed during the build. */
  placeholder: string;
  /** soname → the dependency (installed in the placeholder prefix) that provides it. */
  providers: ReadonlyMap<string, LibraryProvider>;
  /** sonames that may come from the host. */
  systemLibraries: ReadonlySet<string>;
  /** Names the package in messages (`net/nginx`). */
  where: string;
}

export interface ElfReport {
  path: string;
  needed: string[];
  runpathBefore: string[];
  runpathAfter: string[];
}

export interface PostProcessResult {
  elfFiles: ElfReport[];
  /** sonames of the shared libraries in the package. */
  provides: string[];
  /** sonames needed from outside the package (dependencies and system). */
  needs: string[];
  /** Of `needs`, those taken from the host (allowed system libraries). */
  system: string[];
  /** One per dependency whose libraries are needed: `>=` the version built against. */
  depends: Dependency[];
  /** The newest glibc symbol version any file needs ('0' when none does). */
  libcVersion: string;
  /** Notes for the build log (run-path entries dropped, …). */
  notes: string[];
}

/**
 * Rewrite run paths in place under `input.root` and account for every needed
 * library. Throws E_HOST_LIBRARY (listing every such library) or E_BUILD.
 * @example const result = await postProcess({ root: join(stage, placeholder), placeholder, providers, systemLibraries: new Set(DEFAULT_SYSTEM_LIBRARIES), where: 'net/nginx' })
 */
export async function postProcess(input: PostProcessInput): Promise<PostProcessResult> {
  const elves: ElfFile[] = [];
  for (const entry of await walkStage(input.root)) {
    if (entry.type !== 'file' || entry.stats.size < 64 || !(await startsLikeElf(entry.absolute))) continue;
    const content = await readFile(entry.absolute);
    if (!isElf(content)) continue;
    const info = readElf(content, `${input.where}: ${entry.path}`);
    if (isLinkedElf(info)) elves.push({ path: entry.path, info });
  }

  const facts = linkFacts(elves);
  const inPackage = facts.provides;

  const notes: string[] = [];
  const reports: ElfReport[] = [];
  const hostProblems: string[] = [];
  const pathProblems: string[] = [];
  const used = new Map<string, LibraryProvider>();
  const needs = new Set<string>();
  const system = new Set<string>();

  for (const elf of elves) {
    const before = elf.info.rpath ?? elf.info.runpath ?? [];
    const after = relativeRunpath(before, elf.path, input.placeholder, (entry) =>
      notes.push(`${elf.path}: dropped run-path entry ${entry} (outside the prefix)`),
    );
    const searchDirs = after.map((entry) =>
      posix.normalize(posix.join(posix.dirname(elf.path), entry.replace(/^\$ORIGIN/, '.'))),
    );
    for (const soname of elf.info.needed) {
      if (input.systemLibraries.has(soname)) {
        needs.add(soname);
        system.add(soname);
        continue;
      }
      const own = inPackage.get(soname);
      const provider = own === undefined ? input.providers.get(soname) : undefined;
      if (own === undefined && provider === undefined) {
        hostProblems.push(`${elf.path} needs ${soname}${hostLocation(soname)}`);
        continue;
      }
      const reachable = searchDirs.some(
        (dir) => existsSync(join(input.root, dir, soname)) || existsSync(join(input.placeholder, dir, soname)),
      );
      if (!reachable) {
        const from = own === undefined ? `${provider!.name} (a dependency)` : `this package (${own})`;
        pathProblems.push(
          `${elf.path} needs ${soname}, which ${from} provides, but its run path (${after.length === 0 ? 'none' : after.join(':')}) does not lead there`,
        );
        continue;
      }
      if (provider !== undefined) {
        needs.add(soname);
        used.set(provider.name, provider);
      }
    }
    if (before.length > 0 && (before.join(':') !== after.join(':') || elf.info.runpath !== undefined)) {
      const absolute = join(input.root, elf.path);
      const written = rewriteRunpath(
        await readFile(absolute),
        after.length === 0 ? ['$ORIGIN'] : after,
        'rpath',
        `${input.where}: ${elf.path}`,
      );
      await writeFile(absolute, written);
    }
    reports.push({ path: elf.path, needed: [...elf.info.needed], runpathBefore: before, runpathAfter: after });
  }

  if (hostProblems.length > 0) {
    throw new KilnError(
      'E_HOST_LIBRARY',
      `cannot package ${input.where}: ${hostProblems.length === 1 ? 'a built file needs a library' : 'built files need libraries'} that no dependency provides and that is not an allowed system library:\n  ${hostProblems.join('\n  ')}`,
      {
        hint: "add a build dependency whose package provides the library (a recipe in the ports tree), or, if every target system has it, list it under [build] system-libraries in the recipe or in the ports tree's ports.toml",
      },
    );
  }
  if (pathProblems.length > 0) {
    throw new KilnError(
      'E_BUILD',
      `cannot package ${input.where}: ${pathProblems.length} built file(s) would not find their libraries at run time:\n  ${pathProblems.join('\n  ')}`,
      {
        hint: "link with the $LDFLAGS the build environment sets (it holds -Wl,-rpath,$KILN_PREFIX/lib), or pass them to the project's own configure options",
      },
    );
  }
  return {
    elfFiles: reports,
    provides: [...inPackage.keys()].sort(),
    needs: [...needs].sort(),
    system: [...system].sort(),
    depends: [...used.values()]
      .map((provider) => ({ name: provider.name, range: `>=${provider.version}` }))
      .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0)),
    libcVersion: facts.libcVersion,
    notes,
  };
}

/**
 * A run path with every entry under the placeholder made relative to the
 * file's own directory (`$ORIGIN/../lib`); `$ORIGIN` entries are kept, any
 * other absolute entry (a host or build directory) is dropped.
 * @example relativeRunpath(['/ph/lib'], 'bin/nginx', '/ph', () => {}) // ['$ORIGIN/../lib']
 */
export function relativeRunpath(
  entries: readonly string[],
  filePath: string,
  placeholder: string,
  dropped: (entry: string) => void,
): string[] {
  const result: string[] = [];
  for (const entry of entries) {
    let rewritten: string | undefined;
    if (entry.startsWith('$ORIGIN') || entry.startsWith('${ORIGIN}')) rewritten = entry.replace('${ORIGIN}', '$ORIGIN');
    else if (entry === placeholder || entry.startsWith(`${placeholder}/`)) {
      const target = posix.normalize(entry.slice(placeholder.length + 1) || '.');
      const relative = posix.relative(posix.dirname(filePath), target);
      rewritten = relative === '' ? '$ORIGIN' : `$ORIGIN/${relative}`;
    }
    if (rewritten === undefined) dropped(entry);
    else if (!result.includes(rewritten)) result.push(rewritten);
  }
  return result;
}

async function startsLikeElf(path: string): Promise<boolean> {
  const handle = await open(path, 'r');
  try {
    const head = Buffer.alloc(4);
    await handle.read(head, 0, 4, 0);
    return head.equals(Buffer.from([0x7f, 0x45, 0x4c, 0x46]));
  } finally {
    await handle.close();
  }
}

/** Where the host has a library, for the message: " (the host has it in /usr/lib/x86_64-linux-gnu)". */
function hostLocation(soname: string): string {
  const found = findOnHost(soname, HOST_LIBRARY_DIRS);
  return found === undefined
    ? ' (not found on the build host either)'
    : ` (the host has it in ${dirname(found)}, but the target may not)`;
}

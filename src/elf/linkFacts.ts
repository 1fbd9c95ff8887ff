/**
 * What a package's ELF files say about dynamic linking, taken together: the
 * sonames of the shared libraries among them (what the package provides), the
 * sonames they need from outside the package and which files need each, and
 * the newest glibc symbol version any of them needs (the oldest C library the
 * package runs on). `kiln build` (postProcess) and `kiln pack` derive package
 * metadata from it, so the two agree.
 */
import { compareVersions, parseVersion } from '../version/index.js';
import type { ElfInfo } from './readElf.js';

/** One ELF file of a package tree, by its path in the package. */
export interface ElfFile {
  path: string;
  info: ElfInfo;
}

export interface LinkFacts {
  /** soname → the file of the package that is that library. */
  provides: Map<string, string>;
  /** soname → the files that need it (sorted), for every soname needed that the package does not provide. */
  needs: Map<string, string[]>;
  /** The newest `GLIBC_x.y` symbol version any file needs; '0' when none needs one. */
  libcVersion: string;
}

const GLIBC_VERSION = /^GLIBC_([0-9]+(?:\.[0-9]+)*)$/;

/**
 * True for the files the loader maps with their libraries: executables and
 * shared objects (position-independent executables included), not object
 * files or core dumps.
 */
export function isLinkedElf(info: ElfInfo): boolean {
  return info.type === 'executable' || info.type === 'shared';
}

/**
 * The newest glibc symbol version one file needs, '0' when it needs none.
 * @example glibcFloor(readElf(readFileSync('/usr/bin/ls'), 'ls')) // '2.34'
 */
export function glibcFloor(info: ElfInfo): string {
  let floor = '0';
  for (const need of info.versionNeeds) {
    for (const version of need.versions) {
      const match = GLIBC_VERSION.exec(version);
      if (match !== null && compareVersions(parseVersion(match[1]!), parseVersion(floor)) > 0) floor = match[1]!;
    }
  }
  return floor;
}

/**
 * The link facts of a package's linked ELF files (see `isLinkedElf`).
 * @example linkFacts([{ path: 'bin/app', info }]).needs.get('libfoo.so.1') // ['bin/app']
 */
export function linkFacts(files: readonly ElfFile[]): LinkFacts {
  const provides = new Map<string, string>();
  for (const file of files) if (file.info.soname !== undefined) provides.set(file.info.soname, file.path);
  const needs = new Map<string, string[]>();
  let libcVersion = '0';
  for (const file of files) {
    for (const soname of new Set(file.info.needed)) {
      if (provides.has(soname)) continue;
      needs.set(soname, [...(needs.get(soname) ?? []), file.path]);
    }
    const floor = glibcFloor(file.info);
    if (compareVersions(parseVersion(floor), parseVersion(libcVersion)) > 0) libcVersion = floor;
  }
  for (const paths of needs.values()) paths.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  return { provides, needs, libcVersion };
}

/**
 * Debian's package database, read only: which packages are installed, what
 * each depends on, and which paths each installed (`/var/lib/dpkg/status`,
 * `/var/lib/dpkg/info/NAME[:ARCH].list`). The build sandbox is made of the
 * files of the packages that form the toolchain (toolchainPackages.ts).
 */
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { isErrno } from '../errors/index.js';

/** Where dpkg keeps its database on every Debian system. */
export const DPKG_DIR = '/var/lib/dpkg';

/** One installed package, as far as the sandbox needs it. */
export interface DpkgPackage {
  name: string;
  /** `amd64`, `all` … */
  architecture: string;
  /** `Essential: yes`: every package may use it without saying so. */
  essential: boolean;
  /** Depends and Pre-Depends: one list per comma-separated group, its `|` alternatives by name. */
  depends: string[][];
  /** Virtual package names it provides. */
  provides: string[];
}

/**
 * The installed packages of a dpkg status file (stanzas whose Status ends in
 * `installed`; removed and half-installed packages are left out).
 * @example parseDpkgStatus('Package: make\nStatus: install ok installed\nArchitecture: amd64\nDepends: libc6 (>= 2.27)\n')[0]!.depends // [['libc6']]
 */
export function parseDpkgStatus(text: string): DpkgPackage[] {
  const packages: DpkgPackage[] = [];
  for (const stanza of text.split(/\n\s*\n/)) {
    const fields = new Map<string, string>();
    let last: string | undefined;
    for (const line of stanza.split('\n')) {
      if (/^\s/.test(line) && last !== undefined) {
        fields.set(last, `${fields.get(last) ?? ''}\n${line.trim()}`);
        continue;
      }
      const match = /^([A-Za-z0-9-]+):\s*(.*)$/.exec(line);
      if (match === null) continue;
      last = match[1]!.toLowerCase();
      fields.set(last, match[2]!);
    }
    const name = fields.get('package');
    const status = (fields.get('status') ?? '').split(/\s+/);
    if (name === undefined || status[2] !== 'installed') continue;
    packages.push({
      name,
      architecture: fields.get('architecture') ?? 'all',
      essential: fields.get('essential') === 'yes',
      depends: [...parseRelations(fields.get('pre-depends')), ...parseRelations(fields.get('depends'))],
      provides: parseRelations(fields.get('provides')).flat(),
    });
  }
  return packages;
}

/** `a (>= 1), b:any | c [amd64]` → [['a'], ['b', 'c']]: names only, versions and qualifiers dropped. */
function parseRelations(value: string | undefined): string[][] {
  if (value === undefined || value.trim() === '') return [];
  return value
    .split(',')
    .map((group) =>
      group
        .split('|')
        .map((alternative) => alternative.trim().split(/[\s(:[<]/)[0]!)
        .filter((name) => name !== ''),
    )
    .filter((group) => group.length > 0);
}

/** The installed packages of this system; an empty list where there is no dpkg database. */
export async function readInstalledPackages(dpkgDir: string = DPKG_DIR): Promise<DpkgPackage[]> {
  try {
    return parseDpkgStatus(await readFile(join(dpkgDir, 'status'), 'utf8'));
  } catch (error) {
    if (isErrno(error, 'ENOENT')) return [];
    throw error;
  }
}

/** The paths a package installed, as dpkg recorded them (`/bin/bash`, not resolved through a merged /usr). */
export async function readPackageFiles(pkg: DpkgPackage, dpkgDir: string = DPKG_DIR): Promise<string[]> {
  // Multi-Arch: same packages keep their list under NAME:ARCH, the others under NAME.
  for (const file of [`${pkg.name}:${pkg.architecture}.list`, `${pkg.name}.list`]) {
    try {
      return (await readFile(join(dpkgDir, 'info', file), 'utf8')).split('\n').filter((line) => line.startsWith('/'));
    } catch (error) {
      if (!isErrno(error, 'ENOENT')) throw error;
    }
  }
  return [];
}

/**
 * The links that dpkg's alternatives system made (`/usr/bin/cc` →
 * `/etc/alternatives/cc` → `/usr/bin/gcc`): no package lists them. One entry
 * per master and slave link: the link and its `/etc/alternatives` name.
 */
export async function readAlternativeLinks(dpkgDir: string = DPKG_DIR): Promise<{ link: string; name: string }[]> {
  let names: string[];
  try {
    names = await readdir(join(dpkgDir, 'alternatives'));
  } catch (error) {
    if (isErrno(error, 'ENOENT')) return [];
    throw error;
  }
  const links: { link: string; name: string }[] = [];
  for (const name of names) {
    // Line 1: auto|manual; line 2: the master link; then slave name and link pairs up to an empty line.
    const lines = (await readFile(join(dpkgDir, 'alternatives', name), 'utf8')).split('\n');
    if (lines[1] === undefined || !lines[1].startsWith('/')) continue;
    links.push({ link: lines[1], name });
    for (let i = 2; i + 1 < lines.length && lines[i] !== ''; i += 2)
      links.push({ name: lines[i]!, link: lines[i + 1]! });
  }
  return links;
}

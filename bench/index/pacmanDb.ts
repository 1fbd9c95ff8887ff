/**
 * A pacman sync database as `repo-add` makes it: a gzip-compressed tar of
 * `NAME-VERSION-REL/` directories, each with the `desc` file pacman reads
 * (%FILENAME%, %NAME%, %BASE%, %VERSION%, %DESC%, %CSIZE%, %ISIZE%,
 * %SHA256SUM%, %URL%, %LICENSE%, %ARCH%, %BUILDDATE%, %PACKAGER%, %DEPENDS%).
 * Sizes and hashes are those of the Kiln package files of the same plan; the
 * package files themselves are not offered (only the index is benchmarked).
 * No %PROVIDES% and no %GROUPS%: `pacman -Ss` searches those too, `kiln search`
 * does not.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { TAR_END, encodeTarHeader, tarPadding } from '../../src/format/index.js';
import type { IndexEntry } from '../../src/repo/index.js';
import type { PlannedPackage } from './generate.js';

export const PACMAN_ARCH = 'x86_64';

/** `pkgver-pkgrel` of a planned package. */
export const pacmanVersion = (pkg: PlannedPackage) => `${pkg.version}-1`;

function descFile(pkg: PlannedPackage, entry: IndexEntry, buildDate: number): string {
  const fields: [string, string[]][] = [
    ['FILENAME', [`${pkg.name}-${pacmanVersion(pkg)}-${PACMAN_ARCH}.pkg.tar.zst`]],
    ['NAME', [pkg.name]],
    ['BASE', [pkg.name]],
    ['VERSION', [pacmanVersion(pkg)]],
    ['DESC', [pkg.summary]],
    ['CSIZE', [String(entry.size)]],
    ['ISIZE', [String(entry.installedSize)]],
    ['SHA256SUM', [String(entry.sha256)]],
    ['URL', [pkg.homepage]],
    ['LICENSE', [pkg.license]],
    ['ARCH', [PACMAN_ARCH]],
    ['BUILDDATE', [String(buildDate)]],
    ['PACKAGER', ['Kiln Bench <bench@example.org>']],
    ['DEPENDS', pkg.depends.map((dep) => `${dep.name}>=${dep.min}`)],
  ];
  return fields
    .filter(([, values]) => values.length > 0)
    .map(([key, values]) => `%${key}%\n${values.join('\n')}\n\n`)
    .join('');
}

/** Writes DIR/bench.db; returns its compressed and uncompressed (tar) sizes. */
export function writePacmanDb(
  dir: string,
  plan: readonly PlannedPackage[],
  entries: ReadonlyMap<string, IndexEntry>,
  created: Date,
): { compressed: number; uncompressed: number } {
  const buildDate = Math.floor(created.getTime() / 1000);
  const parts: Buffer[] = [];
  for (const pkg of [...plan].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
    const entry = entries.get(pkg.name);
    if (entry === undefined) throw new Error(`bench: ${pkg.name} is not in the Kiln index`);
    const base = `${pkg.name}-${pacmanVersion(pkg)}`;
    const desc = Buffer.from(descFile(pkg, entry, buildDate), 'utf8');
    parts.push(
      encodeTarHeader({ path: base, type: 'dir', mode: 0o755, uname: 'root', gname: 'root', size: 0, linkTarget: '' }),
    );
    parts.push(
      encodeTarHeader({
        path: `${base}/desc`,
        type: 'file',
        mode: 0o644,
        uname: 'root',
        gname: 'root',
        size: desc.length,
        linkTarget: '',
      }),
    );
    parts.push(desc, Buffer.alloc(tarPadding(desc.length)));
  }
  parts.push(TAR_END);
  const tar = Buffer.concat(parts);
  const gz = gzipSync(tar, { level: 6 });
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'bench.db'), gz);
  return { compressed: gz.length, uncompressed: tar.length };
}

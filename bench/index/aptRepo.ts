/**
 * An apt flat repository (`deb [trusted=yes] URL/apt ./`): `Packages`,
 * `Packages.gz`, `Packages.xz` and a `Release` listing their sizes and hashes
 * (unsigned; the source is marked trusted). One stanza per package with the
 * fields of a real archive; the description is the one-line summary alone
 * (Kiln has no long description). No `Provides:`: `apt-cache search` also
 * lists the providers of a matching name, `kiln search` does not.
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import type { IndexEntry } from '../../src/repo/index.js';
import type { PlannedPackage } from './generate.js';

function stanza(pkg: PlannedPackage, entry: IndexEntry, arch: string): string {
  const version = `${pkg.version}-1`;
  const lines = [
    `Package: ${pkg.name}`,
    `Version: ${version}`,
    `Architecture: ${arch}`,
    'Maintainer: Kiln Bench <bench@example.org>',
    `Installed-Size: ${Math.ceil(entry.installedSize / 1024)}`,
    ...(pkg.depends.length > 0
      ? [`Depends: ${pkg.depends.map((dep) => `${dep.name} (>= ${dep.min})`).join(', ')}`]
      : []),
    `Filename: pool/${pkg.category}/${pkg.name}_${version}_${arch}.deb`,
    `Size: ${entry.size}`,
    `SHA256: ${String(entry.sha256)}`,
    `Section: ${pkg.category}`,
    'Priority: optional',
    `Homepage: ${pkg.homepage}`,
    `Description: ${pkg.summary}`,
  ];
  return `${lines.join('\n')}\n\n`;
}

/** RFC 2822 date as apt wants it in Release (always UTC). */
function releaseDate(date: Date): string {
  return date.toUTCString().replace('GMT', 'UTC');
}

export function writeAptRepository(
  dir: string,
  plan: readonly PlannedPackage[],
  entries: ReadonlyMap<string, IndexEntry>,
  created: Date,
  arch: string,
): { packages: number; gz: number; xz: number; release: number } {
  const text = [...plan]
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
    .map((pkg) => {
      const entry = entries.get(pkg.name);
      if (entry === undefined) throw new Error(`bench: ${pkg.name} is not in the Kiln index`);
      return stanza(pkg, entry, arch);
    })
    .join('');
  const packages = Buffer.from(text, 'utf8');
  const gz = gzipSync(packages, { level: 9 });
  const xzRun = spawnSync('xz', ['-6', '-c'], { input: packages, maxBuffer: 1 << 30 });
  if (xzRun.status !== 0) throw new Error(`bench: xz failed: ${String(xzRun.stderr)}`);
  const xz = xzRun.stdout;
  const files: [string, Buffer][] = [
    ['Packages', packages],
    ['Packages.gz', gz],
    ['Packages.xz', xz],
  ];
  const hashes = (algorithm: string) =>
    files
      .map(
        ([name, data]) =>
          ` ${createHash(algorithm).update(data).digest('hex')} ${String(data.length).padStart(10)} ${name}`,
      )
      .join('\n');
  const release = Buffer.from(
    [
      'Origin: Kiln bench',
      'Label: bench',
      'Suite: bench',
      'Codename: bench',
      `Date: ${releaseDate(created)}`,
      `Architectures: ${arch}`,
      'Description: generated packages of the Kiln index benchmark',
      'MD5Sum:',
      hashes('md5'),
      'SHA256:',
      hashes('sha256'),
      '',
    ].join('\n'),
    'utf8',
  );
  mkdirSync(dir, { recursive: true });
  for (const [name, data] of files) writeFileSync(join(dir, name), data);
  writeFileSync(join(dir, 'Release'), release);
  return { packages: packages.length, gz: gz.length, xz: xz.length, release: release.length };
}

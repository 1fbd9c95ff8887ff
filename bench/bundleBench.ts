/**
 * `npm run bench:bundle [-- --prefix DIR] [--package NAME] [--runs N]`: what
 * a bundle of an installed stack costs. By default it bundles nginx from the
 * demo's prefix (`npm run demo` makes it). For each form (trimmed .tar.gz and
 * .tar.zst, untrimmed .tar.gz) it prints the time to bundle, the tarball's
 * size and the bytes of files in it, then the time to unpack and fix up into
 * a fresh directory with a blank in its path, and to fix up again after a
 * move; medians of N runs. Figures go to bench-out/bundle.json.
 */
import { mkdirSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';
import { median, removeScratch, scratchDir, wall } from './measure.js';

const PROJECT = resolve(fileURLToPath(new URL('../..', import.meta.url)));
const KILN = join(PROJECT, 'dist/src/cli/kiln.cjs');
const { values } = parseArgs({
  options: {
    prefix: { type: 'string', default: join(PROJECT, 'demo-out/home/my stack') },
    package: { type: 'string', default: 'nginx' },
    runs: { type: 'string', default: '5' },
  },
});
const prefix = values.prefix!;
const name = values.package!;
const runs = Number(values.runs);

/** Milliseconds of one run, in the clean environment a target host would give. */
function timed(command: string, args: string[]): number {
  return wall(command, args, { env: { PATH: '/usr/bin:/bin', HOME: process.env['HOME'] ?? '/' } }).seconds * 1000;
}

const work = scratchDir('kiln-bundle-bench-', '/tmp');
const forms = [
  { label: 'trimmed, .tar.gz', file: 'b.tar.gz', extra: [] as string[] },
  { label: 'trimmed, .tar.zst', file: 'b.tar.zst', extra: [] },
  { label: 'untrimmed (--with dev,docs), .tar.gz', file: 'full.tar.gz', extra: ['--with', 'dev,docs'] },
];
const rows = [];
try {
  for (const form of forms) {
    const out = join(work, form.file);
    const bundleMs = median(
      Array.from({ length: runs }, () =>
        timed(process.execPath, [KILN, '--prefix', prefix, 'bundle', name, '--out', out, ...form.extra]),
      ),
    );
    const json = spawnSync(
      process.execPath,
      [KILN, '--prefix', prefix, 'bundle', name, '--out', out, ...form.extra, '--json'],
      { encoding: 'utf8' },
    );
    const data = (JSON.parse(json.stdout) as { data: { bytes: number; entries: number; archiveBytes: number } }).data;
    const unpack: number[] = [];
    const again: number[] = [];
    for (let i = 0; i < runs; i++) {
      const dir = join(work, `run ${i}`, 'stack');
      mkdirSync(dir, { recursive: true });
      unpack.push(timed('sh', ['-c', 'tar -xf "$1" -C "$2" && "$2/bin/kiln-relocate" >/dev/null', 'sh', out, dir]));
      const moved = join(work, `moved ${i}`);
      renameSync(dir, moved);
      again.push(timed(join(moved, 'bin/kiln-relocate'), []));
      rmSync(join(work, `run ${i}`), { recursive: true, force: true });
      rmSync(moved, { recursive: true, force: true });
    }
    rows.push({
      form: form.label,
      bundleMs: Math.round(bundleMs),
      archiveBytes: statSync(out).size,
      fileBytes: data.bytes,
      entries: data.entries,
      unpackAndFixMs: Math.round(median(unpack)),
      fixAfterMoveMs: Math.round(median(again)),
    });
  }
} finally {
  removeScratch(work);
}

const kib = (n: number): string => `${(n / 1024).toFixed(1)} KiB`;
console.log(`kiln bundle ${name} from ${prefix}; medians of ${runs} runs`);
console.log(['form', 'bundle', 'tarball', 'files', 'entries', 'unpack + fix-up', 'fix-up after a move'].join(' | '));
for (const row of rows)
  console.log(
    [
      row.form,
      `${row.bundleMs} ms`,
      kib(row.archiveBytes),
      kib(row.fileBytes),
      row.entries,
      `${row.unpackAndFixMs} ms`,
      `${row.fixAfterMoveMs} ms`,
    ].join(' | '),
  );
mkdirSync(join(PROJECT, 'bench-out'), { recursive: true });
writeFileSync(
  join(PROJECT, 'bench-out/bundle.json'),
  `${JSON.stringify({ at: new Date().toISOString(), package: name, prefix, runs, rows }, null, 2)}\n`,
);

/**
 * `npm run bench:shards`: index format v2 at sizes no real package set here
 * reaches. Generates repositories of 100,000 and 1,000,000 index entries
 * from a seed (names with many versions each, a dependency DAG), publishes
 * them in format v2 only (no package files: a plan needs none), and times,
 * through the real CLI over loopback HTTP:
 *   - `kiln sync` of each (cold: root + name table), and `kiln install TOP
 *     --dry-run` of a name whose closure is about 50 names (shards fetched
 *     lazily), with peak RSS and the bytes the server sent;
 *   - on 20,000 names, a re-sync after 100 names changed, against the cold
 *     sync's bytes and time.
 * Options: --sizes 100000,1000000 (entries), --runs R (3), --json.
 * Prints a table and writes bench-out/shards.json.
 */
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { computeVariantId } from '../src/format/metadata.js';
import type { IndexEntry, RepositoryIndex } from '../src/repo/index.js';
import { publishIndexV2 } from '../src/repo/publishIndex.js';
import { isoTime } from '../src/util/isoTime.js';
import { readSecretKeyFile, writeKeyPair } from '../src/sign/index.js';
import type { Sha256 } from '../src/util/hash.js';
import { seededRandom } from '../src/util/seededRandom.js';
import { haveTime, median, runWithRss } from './index/measure.js';
import { startServer } from './index/server.js';

const KILN = join(import.meta.dirname, '../src/cli/kiln.cjs');
const OUT = 'bench-out';
const TARGET = { arch: 'x86_64', cpu: 'x86-64', libc: 'glibc', libcVersion: '2.17' } as const;

function option(name: string, fallback: string): string {
  const at = process.argv.indexOf(`--${name}`);
  return at === -1 ? fallback : (process.argv[at + 1] ?? fallback);
}

interface Generated {
  entries: IndexEntry[];
  names: string[];
  depends: number[][];
}

/** `count` entries over count / versions names; name i depends on up to 3 of the 40 names before it. */
function generate(count: number, versions: number, seed: number): Generated {
  const random = seededRandom(seed);
  const nameCount = Math.max(1, Math.floor(count / versions));
  const names = Array.from(
    { length: nameCount },
    (_, i) => `pkg${i.toString(36)}x${Math.floor(random() * 1e6).toString(36)}`,
  );
  const depends: number[][] = names.map((_, i) => {
    const picks = new Set<number>();
    const wanted = i === 0 ? 0 : Math.floor(random() * 4);
    for (let k = 0; k < wanted; k++) picks.add(Math.max(0, i - 1 - Math.floor(random() * Math.min(i, 40))));
    return [...picks];
  });
  const variant = computeVariantId({}, TARGET);
  const entries: IndexEntry[] = [];
  for (let i = 0; i < nameCount; i++) {
    const deps = depends[i]!.map((d) => ({ name: names[d]!, range: '' }));
    for (let v = 0; v < versions; v++) {
      const version = `${1 + Math.floor(v / 10)}.${v % 10}`;
      const hex = (random().toString(16).slice(2) + random().toString(16).slice(2)).padEnd(16, '0').slice(0, 16);
      entries.push({
        name: names[i]!,
        category: 'app-misc',
        version,
        revision: 0,
        variant,
        options: {},
        target: TARGET,
        summary: `generated package ${i} version ${version}`,
        homepage: '',
        license: 'MIT',
        depends: deps,
        provides: { sonames: [] },
        needs: { sonames: [] },
        installedSize: 1000,
        path: `packages/app-misc/${names[i]}/${names[i]}-${version}-${variant}.kpkg`,
        size: 500,
        sha256: hex.repeat(4) as Sha256,
      });
    }
  }
  return { entries, names, depends };
}

/** The name whose dependency closure is closest to `size` names. */
function topWithClosure(generated: Generated, size: number): { name: string; closure: number } {
  let best = { name: generated.names[0]!, closure: 1 };
  for (let i = generated.names.length - 1; i >= 0 && i > generated.names.length - 2000; i--) {
    const seen = new Set<number>([i]);
    const queue = [i];
    while (queue.length > 0)
      for (const d of generated.depends[queue.pop()!]!) {
        if (seen.has(d)) continue;
        seen.add(d);
        queue.push(d);
      }
    if (Math.abs(seen.size - size) < Math.abs(best.closure - size))
      best = { name: generated.names[i]!, closure: seen.size };
  }
  return best;
}

function index(entries: IndexEntry[], serial: number): RepositoryIndex {
  const now = new Date();
  return {
    format: 'kiln-index',
    formatVersion: 1,
    name: 'bench',
    serial,
    created: isoTime(now),
    expires: isoTime(new Date(now.getTime() + 30 * 86_400_000)),
    keys: [],
    packages: entries,
  };
}

interface Row {
  what: string;
  entries: number;
  names: number;
  ms: number;
  minMs: number;
  maxMs: number;
  rssMiB: number | undefined;
  bytes: number;
}

async function main(): Promise<void> {
  const sizes = option('sizes', '100000,1000000').split(',').map(Number);
  const runs = Number(option('runs', '3'));
  const dir = join(OUT, 'shards');
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const written = await writeKeyPair(join(dir, 'keys'), { basename: 'bench' });
  const key = await readSecretKeyFile(written.secretKeyPath);
  const pub = written.publicKeyPath;
  const roots: Record<string, string> = {};
  const plans: { size: number; versions: number; generated: Generated }[] = [];
  // 20,000 is always measured (the re-sync); a size given twice would publish its repository twice.
  for (const size of new Set([20_000, ...sizes])) {
    const versions = size === 20_000 ? 1 : size >= 1_000_000 ? 40 : 10;
    const started = Date.now();
    const generated = generate(size, versions, 20261204 + size);
    const published = join(dir, `e${size}`, 'public');
    await publishIndexV2(published, { ...index(generated.entries, 1), keys: [key.keyId] }, key);
    console.error(
      `shards: published ${size} entries (${generated.names.length} names) in ${((Date.now() - started) / 1000).toFixed(1)} s`,
    );
    roots[`e${size}`] = published;
    plans.push({ size, versions, generated });
  }
  const server = await startServer(roots);
  const rows: Row[] = [];
  const kiln = (prefix: string, args: string[]) => ({
    command: process.execPath,
    args: [KILN, '--prefix', prefix, ...args],
  });
  const measure = async (
    what: string,
    size: number,
    names: number,
    once: () => Promise<{ ms: number; rssKiB: number | undefined; bytes: number }>,
  ) => {
    const results = [];
    for (let r = 0; r < runs; r++) results.push(await once());
    const ms = results.map((result) => result.ms);
    const rss = results.map((result) => result.rssKiB).filter((v): v is number => v !== undefined);
    rows.push({
      what,
      entries: size,
      names,
      ms: median(ms),
      minMs: Math.min(...ms),
      maxMs: Math.max(...ms),
      rssMiB: rss.length === 0 ? undefined : median(rss) / 1024,
      bytes: median(results.map((result) => result.bytes)),
    });
  };
  const freshPrefix = async (size: number, run: number): Promise<string> => {
    const prefix = join(dir, `client-${size}-${run}-${Math.random().toString(36).slice(2)}`);
    const must = async (args: string[]) => {
      const result = await runWithRss(kiln(prefix, args));
      if (result.status !== 0) throw new Error(`kiln ${args.join(' ')}: ${result.stderr}`);
      return result;
    };
    await must(['init']);
    await must(['remote', 'add', 'main', server.url(`e${size}`), '--key', pub]);
    return prefix;
  };
  const timedKiln = async (size: number, prefix: string, args: string[]) => {
    server.reset();
    const result = await runWithRss(kiln(prefix, args));
    if (result.status !== 0) throw new Error(`kiln ${args.join(' ')}: ${result.stderr}`);
    return { ms: result.ms, rssKiB: result.rssKiB, bytes: server.traffic(`e${size}`).bytes };
  };
  for (const { size, generated } of plans) {
    const names = generated.names.length;
    const prefixes: string[] = [];
    await measure(`cold sync`, size, names, async () => {
      const prefix = await freshPrefix(size, prefixes.length);
      prefixes.push(prefix);
      return timedKiln(size, prefix, ['sync']);
    });
    if (size === 20_000) {
      // 100 names change (a new version each), serial 2 with a delta from 1; each client re-syncs from serial 1.
      const changed = new Set(generated.names.slice(0, 100));
      const next = generated.entries.map((entry) =>
        changed.has(entry.name) ? { ...entry, version: '9.9', path: entry.path.replace(/-1\.0-/, '-9.9-') } : entry,
      );
      await publishIndexV2(roots['e20000']!, { ...index(next, 2), keys: [key.keyId] }, key);
      let run = 0;
      await measure('re-sync after 100 names changed', size, names, async () =>
        timedKiln(size, prefixes[run++]!, ['sync']),
      );
      continue;
    }
    const top = topWithClosure(generated, 50);
    let run = 0;
    await measure(`sync + plan of an install of ${top.closure} names (dry run)`, size, names, async () => {
      const prefix = prefixes[run++]!;
      rmSync(join(prefix, 'var/cache/kiln/shards'), { recursive: true, force: true });
      const sync = await timedKiln(size, prefix, ['sync']);
      const plan = await timedKiln(size, prefix, ['install', top.name, '--dry-run']);
      return {
        ms: sync.ms + plan.ms,
        rssKiB: Math.max(sync.rssKiB ?? 0, plan.rssKiB ?? 0) || undefined,
        bytes: sync.bytes + plan.bytes,
      };
    });
    run = 0;
    await measure(`  of which the plan alone (shards fetched)`, size, names, async () => {
      const prefix = prefixes[run++]!;
      rmSync(join(prefix, 'var/cache/kiln/shards'), { recursive: true, force: true });
      return timedKiln(size, prefix, ['install', top.name, '--dry-run']);
    });
  }
  await server.close();
  const lines = [
    '| what | entries | names | median | min–max | peak RSS | bytes fetched |',
    '|---|---|---|---|---|---|---|',
    ...rows.map(
      (row) =>
        `| ${row.what} | ${row.entries.toLocaleString('en')} | ${row.names.toLocaleString('en')} | ${(row.ms / 1000).toFixed(3)} s | ${(row.minMs / 1000).toFixed(3)}–${(row.maxMs / 1000).toFixed(3)} s | ${row.rssMiB === undefined ? '-' : `${row.rssMiB.toFixed(0)} MiB`} | ${row.bytes.toLocaleString('en')} |`,
    ),
  ];
  console.log(lines.join('\n'));
  if (!haveTime()) console.log('(no /usr/bin/time: peak RSS not measured)');
  writeFileSync(
    join(OUT, 'shards.json'),
    `${JSON.stringify({ date: new Date().toISOString(), runs, rows }, null, 2)}\n`,
  );
}

await main();

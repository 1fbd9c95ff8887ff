/**
 * Servers that are slow on purpose: one that drips a byte now and then, one
 * that sends headers and stalls, one that stalls before its headers, one
 * that stays just above the minimum rate (which must succeed unless it runs
 * past the deadline). Real HTTP on loopback; the limits configured small so
 * that each case takes seconds.
 */
import * as assert from 'node:assert/strict';
import { readFile, readdir, writeFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { test } from 'node:test';
import type { TestContext } from 'node:test';
import { ok, packAll, publish } from './helpers/client.js';
import { kiln, tempDir } from './helpers/kiln.js';

type Mode = 'normal' | 'drip' | 'stall-headers' | 'stall-body' | { rate: number };

/** Serves `root` on loopback; `modeOf(path)` says how each file is sent. */
async function serve(t: TestContext, root: string, modeOf: (path: string) => Mode): Promise<string> {
  const timers = new Set<NodeJS.Timeout>();
  const server: Server = createServer((request, response: ServerResponse) => {
    const path = decodeURIComponent(new URL(request.url ?? '/', 'http://x').pathname);
    if (path.startsWith('/redirect/')) {
      response.writeHead(302, { location: path.slice('/redirect'.length) });
      response.end();
      return;
    }
    void readFile(join(root, path)).then(
      (body) => {
        const mode = modeOf(path);
        if (mode === 'stall-headers') return;
        response.writeHead(200, { 'content-length': body.length });
        if (mode === 'normal') return response.end(body);
        if (mode === 'stall-body') return response.write(body.subarray(0, 10));
        // drip: one byte every 500 ms; { rate }: rate bytes per second, in tenths.
        const step = mode === 'drip' ? 1 : Math.max(1, Math.round(mode.rate / 10));
        let at = 0;
        const tick = setInterval(
          () => {
            if (response.destroyed) return clearInterval(tick);
            response.write(body.subarray(at, at + step));
            at += step;
            if (at >= body.length) {
              clearInterval(tick);
              response.end();
            }
          },
          mode === 'drip' ? 500 : 100,
        );
        timers.add(tick);
      },
      () => {
        response.writeHead(404);
        response.end();
      },
    );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(() => {
    for (const timer of timers) clearInterval(timer);
    server.closeAllConnections();
    server.close();
  });
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

/** A repository with one small package, a prefix whose limits are small, and a mode per path the test changes. */
async function setUp(t: TestContext): Promise<{
  dir: string;
  prefix: string;
  base: string;
  setMode: (pattern: RegExp, mode: Mode) => void;
  limits: (lines: string) => Promise<void>;
}> {
  const dir = await tempDir(t);
  await publish(
    dir,
    await packAll(dir, [{ name: 'hello', version: '1.0', tree: { 'share/hello.txt': 'hello\n'.repeat(50) } }]),
  );
  const modes: [RegExp, Mode][] = [];
  const base = await serve(
    t,
    join(dir, 'repo/public'),
    (path) => modes.find(([pattern]) => pattern.test(path))?.[1] ?? 'normal',
  );
  const prefix = join(dir, 'prefix');
  await ok(['--prefix', prefix, 'init'], { cwd: dir });
  await ok(['--prefix', prefix, 'remote', 'add', 'main', base, '--key', 'keys/kiln.pub'], { cwd: dir });
  const config = join(prefix, 'etc/kiln/config.toml');
  const original = await readFile(config, 'utf8');
  const limits = async (lines: string): Promise<void> => {
    const [first, ...rest] = original.split('\n');
    await writeFile(config, [first, lines, ...rest].join('\n'));
  };
  await limits('min-rate = 100\nmin-rate-window = 1\nfetch-deadline = 3');
  return { dir, prefix, base, setMode: (pattern, mode) => modes.unshift([pattern, mode]), limits };
}

/** Runs kiln, expecting E_FETCH_SLOW naming the remote and a URL matching `url`, within `withinSeconds`. */
async function slow(dir: string, args: string[], url: RegExp, reason: RegExp, withinSeconds: number): Promise<void> {
  // Monotonic: a stepped wall clock once made this test fail (9.5 s by the wall, 5 s by the test runner).
  const started = performance.now();
  const result = await kiln(args, { cwd: dir });
  const took = (performance.now() - started) / 1000;
  assert.equal(result.code, 1, result.stderr);
  assert.match(result.stderr, /error\[E_FETCH_SLOW\]: cannot (fetch|download) /);
  assert.match(result.stderr, /\(remote main\)/);
  assert.match(result.stderr, url);
  assert.match(result.stderr, reason);
  assert.match(result.stderr, /hint: .*min-rate, min-rate-window and fetch-deadline/);
  assert.ok(took < withinSeconds, `dropped after ${took.toFixed(1)} s, expected within ${withinSeconds} s`);
}

test('sync drops a server that drips the index or its signature, stalls before its headers or in the body, or drips behind a redirect; the last accepted index stays', async (t) => {
  const { dir, prefix, base, setMode } = await setUp(t);
  await ok(['--prefix', prefix, 'sync'], { cwd: dir });
  const before = await readdir(join(prefix, 'var/lib/kiln/indexes/main'));
  const cases: [RegExp, Mode, RegExp][] = [
    [/^\/indexes\/\d+\.v2\.json$/, 'drip', /indexes\/\d+\.v2\.json/],
    [/^\/index\.v2\.json\.minisig$/, 'drip', /index\.v2\.json\.minisig/],
    [/^\/indexes\/\d+\.v2\.json$/, 'stall-headers', /indexes\/\d+\.v2\.json/],
    [/^\/indexes\/\d+\.v2\.json$/, 'stall-body', /indexes\/\d+\.v2\.json/],
  ];
  for (const [pattern, mode, url] of cases) {
    setMode(pattern, mode);
    await slow(dir, ['--prefix', prefix, 'sync'], url, /bytes in 1 s, below the minimum of 100 bytes\/s/, 1 + 5);
    setMode(pattern, 'normal');
  }
  // Behind a redirect, the same.
  const config = join(prefix, 'etc/kiln/config.toml');
  await writeFile(config, (await readFile(config, 'utf8')).replace(base, `${base}/redirect`));
  setMode(/^\/indexes\/\d+\.v2\.json$/, 'drip');
  await slow(dir, ['--prefix', prefix, 'sync'], /redirect\/indexes\/\d+\.v2\.json/, /below the minimum/, 1 + 5);
  assert.deepEqual(await readdir(join(prefix, 'var/lib/kiln/indexes/main')), before);
});

test('a server just above the minimum rate is dropped at the deadline for the index, and finishes a package whose pinned size gives it longer', async (t) => {
  const { dir, prefix, setMode, limits } = await setUp(t);
  // The index root (about 450 bytes; clients fetch the signed snapshot indexes/SERIAL.v2.json) at 130 bytes/s: above the rate, past the 3 s deadline.
  setMode(/^\/indexes\/\d+\.v2\.json$/, { rate: 130 });
  await slow(
    dir,
    ['--prefix', prefix, 'sync'],
    /indexes\/\d+\.v2\.json/,
    /did not finish within its deadline of 3 s/,
    3 + 5,
  );
  setMode(/^\/indexes\/\d+\.v2\.json$/, 'normal');
  await ok(['--prefix', prefix, 'sync'], { cwd: dir });
  // A package at 300 bytes/s: its deadline is 3 s plus its size at 100 bytes/s, so it arrives.
  setMode(/\.kpkg$/, { rate: 300 });
  await ok(['--prefix', prefix, 'install', 'hello', '-y'], { cwd: dir });
  assert.equal(await readFile(join(prefix, 'share/hello.txt'), 'utf8'), 'hello\n'.repeat(50));
  // With the rate check off (min-rate = 0) and a long deadline, a slow index is waited for.
  await limits('min-rate = 0\nfetch-deadline = 60');
  setMode(/^\/indexes\/\d+\.v2\.json$/, { rate: 2000 });
  await ok(['--prefix', prefix, 'sync'], { cwd: dir });
});

test('install drops a package server that drips, and writes nothing', async (t) => {
  const { dir, prefix, setMode } = await setUp(t);
  await ok(['--prefix', prefix, 'sync'], { cwd: dir });
  setMode(/\.kpkg$/, 'drip');
  await slow(
    dir,
    ['--prefix', prefix, 'install', 'hello', '-y'],
    /\/packages\/.*\.kpkg/,
    /below the minimum of 100 bytes\/s/,
    1 + 5,
  );
  assert.equal((await kiln(['--prefix', prefix, 'list', '-q'], { cwd: dir })).stdout, '');
  assert.deepEqual(await readdir(join(prefix, 'share')).catch(() => []), []);
});

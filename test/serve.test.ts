/**
 * `kiln serve`, the real CLI on loopback: the published tree served as a
 * careful static server serves it (types, cache lifetimes, validators,
 * conditional requests, byte ranges, precompressed variants, a new serial at
 * once), no path leading outside the tree, hostile clients bounded (huge
 * headers, slow headers, idle sockets, 10,000 connections), and a graceful
 * stop that lets a download in progress finish.
 */
import * as assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readFile, readdir, stat, symlink, writeFile } from 'node:fs/promises';
import { request } from 'node:http';
import { connect } from 'node:net';
import type { Socket } from 'node:net';
import { join } from 'node:path';
import { test } from 'node:test';
import { gzipSync, gunzipSync } from 'node:zlib';
import { ok, packAll, publish } from './helpers/client.js';
import { tempDir } from './helpers/kiln.js';
import { get, serve } from './helpers/serve.js';

/** A request written byte for byte (no client normalizes its path); the whole answer as text. */
function raw(port: number, text: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () => socket.write(text));
    const chunks: Buffer[] = [];
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.on('end', () => resolve(Buffer.concat(chunks).toString('latin1')));
    socket.on('error', reject);
  });
}

/** A repository with two packages, published; returns its directory. */
async function repository(dir: string): Promise<string> {
  const packages = await packAll(dir, [
    { name: 'alpha', version: '1.0', tree: { 'bin/alpha': { content: '#!/bin/sh\necho alpha\n', mode: 0o755 } } },
    { name: 'beta', version: '2.0', tree: { 'share/beta/data': randomBytes(300_000) } },
  ]);
  await publish(dir, packages);
  return join(dir, 'repo');
}

async function packagePaths(published: string): Promise<string[]> {
  const found: string[] = [];
  for (const category of await readdir(join(published, 'packages')))
    for (const name of await readdir(join(published, 'packages', category)))
      for (const file of await readdir(join(published, 'packages', category, name)))
        found.push(`packages/${category}/${name}/${file}`);
  return found.sort();
}

test('kiln serve: the published tree with types, cache lifetimes, validators, conditions and byte ranges', async (t) => {
  const dir = await tempDir(t);
  const repo = await repository(dir);
  const published = join(repo, 'public');
  const server = await serve(t, [repo]);

  const index = await get(server.url, '/index.json');
  assert.equal(index.status, 200);
  assert.deepEqual(index.body, await readFile(join(published, 'index.json')));
  assert.equal(index.headers['content-type'], 'application/json');
  assert.match(index.headers['cache-control']!, /max-age=30, must-revalidate/);
  assert.ok(index.headers.etag !== undefined && index.headers['last-modified'] !== undefined);
  assert.equal(index.headers['content-length'], String(index.body.length));

  const head = await get(server.url, '/index.json', {}, 'HEAD');
  assert.equal(head.status, 200);
  assert.equal(head.body.length, 0);
  assert.equal(head.headers['content-length'], String(index.body.length));
  assert.equal((await get(server.url, '/index.json', { 'if-none-match': index.headers.etag! })).status, 304);
  assert.equal(
    (await get(server.url, '/index.json', { 'if-none-match': `"other", ${index.headers.etag!}` })).status,
    304,
  );
  assert.equal(
    (await get(server.url, '/index.json', { 'if-modified-since': index.headers['last-modified']! })).status,
    304,
  );
  assert.equal((await get(server.url, '/index.json', { 'if-none-match': '"other"' })).status, 200);

  const [, beta] = await packagePaths(published);
  const whole = await readFile(join(published, beta!));
  const pkg = await get(server.url, `/${beta}`);
  assert.equal(pkg.status, 200);
  assert.deepEqual(pkg.body, whole);
  assert.equal(pkg.headers['cache-control'], 'public, max-age=31536000, immutable');
  assert.equal(pkg.headers['content-type'], 'application/vnd.kiln.package');
  assert.equal(pkg.headers['accept-ranges'], 'bytes');
  for (const [range, start, end] of [
    ['bytes=0-99', 0, 99],
    ['bytes=1000-', 1000, whole.length - 1],
    ['bytes=-512', whole.length - 512, whole.length - 1],
    [`bytes=10-${whole.length + 5000}`, 10, whole.length - 1],
  ] as const) {
    const part = await get(server.url, `/${beta}`, { range });
    assert.equal(part.status, 206, range);
    assert.equal(part.headers['content-range'], `bytes ${start}-${end}/${whole.length}`, range);
    assert.deepEqual(part.body, whole.subarray(start, end + 1), range);
  }
  const beyond = await get(server.url, `/${beta}`, { range: `bytes=${whole.length}-` });
  assert.equal(beyond.status, 416);
  assert.equal(beyond.headers['content-range'], `bytes */${whole.length}`);
  // Not one well-formed byte range: the whole file, never a multipart amplification.
  for (const range of ['bytes=0-0,1-1', `bytes=${'0-0,'.repeat(2000)}0-0`, 'bytes=5-2', 'items=0-5', 'bytes=abc'])
    assert.equal((await get(server.url, `/${beta}`, { range })).status, 200, range.slice(0, 30));
  // If-Range naming another version: the whole (new) file.
  assert.equal((await get(server.url, `/${beta}`, { range: 'bytes=0-9', 'if-range': '"old"' })).status, 200);
  assert.equal((await get(server.url, `/${beta}`, { range: 'bytes=0-9', 'if-range': pkg.headers.etag! })).status, 206);

  const post = await get(server.url, '/index.json', {}, 'POST');
  assert.equal(post.status, 405);
  assert.equal(post.headers.allow, 'GET, HEAD');
  // `/` is the web catalog's home (test/serve-catalog.test.ts); directories of the tree have no page.
  assert.match((await get(server.url, '/')).headers['content-type']!, /^text\/html/);
  assert.equal((await get(server.url, '/packages/')).status, 404);
  assert.equal((await get(server.url, '/nothing-here.json')).status, 404);
  await writeFile(join(published, '.index.json.tmp'), 'a commit in progress');
  assert.equal((await get(server.url, '/.index.json.tmp')).status, 404);

  // A new serial is served at once, without a restart.
  const more = await packAll(dir, [{ name: 'gamma', version: '1.0', tree: { 'share/gamma/x': 'x\n' } }]);
  await ok(['repo', 'add', 'repo', ...more], { cwd: dir });
  await ok(['repo', 'commit', 'repo'], { cwd: dir });
  const next = await get(server.url, '/index.json');
  assert.deepEqual(next.body, await readFile(join(published, 'index.json')));
  assert.notEqual(next.headers.etag, index.headers.etag);
  assert.equal((await get(server.url, '/index.json', { 'if-none-match': index.headers.etag! })).status, 200);

  // The access log: one Combined Log Format line per response.
  const lines = server.stdout().trim().split('\n');
  assert.ok(lines.length >= 20, `${lines.length} access log lines`);
  assert.match(
    lines[0]!,
    /^127\.0\.0\.1 - - \[\d{2}\/[A-Z][a-z]{2}\/\d{4}:\d{2}:\d{2}:\d{2} \+0000\] "GET \/index\.json HTTP\/1\.1" 200 \d+ "-" "-"$/,
  );
  assert.ok(lines.some((line) => / "POST \/index\.json HTTP\/1\.1" 405 /.test(line)));
});

test('kiln serve: precompressed variants by Accept-Encoding, never for compressed files', async (t) => {
  const dir = await tempDir(t);
  const repo = await repository(dir);
  const published = join(repo, 'public');
  const original = await readFile(join(published, 'index.json'));
  await writeFile(join(published, 'index.json.gz'), gzipSync(original));
  const server = await serve(t, [repo]);
  const zipped = await get(server.url, '/index.json', { 'accept-encoding': 'br;q=0, gzip' });
  assert.equal(zipped.headers['content-encoding'], 'gzip');
  assert.equal(zipped.headers.vary, 'Accept-Encoding');
  assert.equal(zipped.headers['content-type'], 'application/json');
  assert.deepEqual(gunzipSync(zipped.body), original);
  for (const refusing of [undefined, 'identity', 'gzip;q=0', 'br']) {
    const plain = await get(server.url, '/index.json', refusing === undefined ? {} : { 'accept-encoding': refusing });
    assert.equal(plain.headers['content-encoding'], undefined, String(refusing));
    assert.equal(plain.headers.vary, 'Accept-Encoding');
    assert.deepEqual(plain.body, original);
  }
  assert.notEqual(zipped.headers.etag, (await get(server.url, '/index.json')).headers.etag);
});

test('kiln serve: no path, however written, and no symbolic link leads outside the tree', async (t) => {
  const dir = await tempDir(t);
  const repo = await repository(dir);
  const published = join(repo, 'public');
  const secret = `secret-${randomBytes(8).toString('hex')}`;
  await writeFile(join(dir, 'secret.txt'), secret);
  await writeFile(join(repo, '.kiln', 'secret.txt'), secret);
  await symlink(join(dir, 'secret.txt'), join(published, 'leak.txt'));
  await symlink('../.kiln', join(published, 'state'));
  await symlink('index.json', join(published, 'alias.json'));
  const server = await serve(t, [repo]);
  const attempts = [
    '/../secret.txt',
    '/../../secret.txt',
    '/%2e%2e/secret.txt',
    '/%2E%2E/%2e%2e/secret.txt',
    '/packages/..%2f..%2fsecret.txt',
    '/%2e%2e%2f.kiln/secret.txt',
    '/..%5c..%5csecret.txt',
    '/packages\\..\\..\\secret.txt',
    '/./index.json',
    '//secret.txt',
    '/index.json%00.txt',
    '/%c0%ae%c0%ae/secret.txt',
    '/leak.txt',
    '/state/secret.txt',
    '/.kiln/secret.txt',
  ];
  for (const path of attempts) {
    const answer = await raw(server.port, `GET ${path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`);
    assert.match(answer, /^HTTP\/1\.1 (400|404) /, path);
    assert.ok(!answer.includes(secret), `${path} served the secret`);
  }
  // A link that stays inside the tree is followed.
  const alias = await get(server.url, '/alias.json');
  assert.equal(alias.status, 200);
  assert.deepEqual(alias.body, await readFile(join(published, 'index.json')));
});

test('kiln serve: huge headers, slow headers, idle sockets and 10,000 connections are bounded', async (t) => {
  const dir = await tempDir(t);
  const repo = await repository(dir);
  const server = await serve(t, [repo, '--header-timeout', '2', '--idle-timeout', '3', '--max-connections', '500']);

  const big = await raw(server.port, `GET /index.json HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(64 * 1024)}\r\n\r\n`);
  assert.match(big, /^HTTP\/1\.1 431 /);

  /** How long until the server closes a socket that behaves as `behave` says. */
  const closedAfter = (behave: (socket: Socket) => void): Promise<number> =>
    new Promise((resolve, reject) => {
      const started = performance.now();
      const socket = connect(server.port, '127.0.0.1', () => behave(socket));
      socket.on('data', () => undefined);
      socket.on('error', () => undefined);
      socket.on('close', () => resolve((performance.now() - started) / 1000));
      setTimeout(() => reject(new Error('the server kept a slow client for 30 s')), 30_000).unref();
    });
  // Slowloris: a header line, then a byte every 200 ms, never the blank line.
  const slow = await closedAfter((socket) => {
    socket.write('GET /index.json HTTP/1.1\r\nHost: x\r\nX-Slow: ');
    const timer = setInterval(() => socket.writable && socket.write('a'), 200);
    socket.on('close', () => clearInterval(timer));
  });
  assert.ok(slow < 8, `a client that never finished its headers was kept ${slow.toFixed(1)} s`);
  const idle = await closedAfter(() => undefined);
  assert.ok(idle < 8, `a client that sent nothing was kept ${idle.toFixed(1)} s`);

  // 10,000 connections that send nothing: at most 500 are held, the memory stays bounded, and the server answers.
  const rss = async () => {
    const status = await readFile(`/proc/${server.child.pid}/status`, 'utf8');
    return Number(/^VmRSS:\s+(\d+) kB/m.exec(status)![1]);
  };
  const before = await rss();
  const sockets: Socket[] = [];
  let refused = 0;
  for (let batch = 0; batch < 20; batch++) {
    await Promise.all(
      Array.from(
        { length: 500 },
        () =>
          new Promise<void>((resolve) => {
            const socket = connect(server.port, '127.0.0.1', () => resolve());
            socket.on('error', () => {
              refused++;
              resolve();
            });
            socket.on('close', () => undefined);
            sockets.push(socket);
          }),
      ),
    );
  }
  await new Promise((resolve) => setTimeout(resolve, 500));
  const open = sockets.filter((socket) => !socket.destroyed && socket.readyState === 'open').length;
  const during = await rss();
  for (const socket of sockets) socket.destroy();
  // The server closes what is over its limit at once (a little slack for connections not yet accepted).
  assert.ok(open <= 550, `${open} of 10,000 connections still open (${refused} refused); the limit is 500`);
  assert.ok(during - before < 64 * 1024, `RSS ${before} kB before, ${during} kB with 10,000 connections`);
  await new Promise((resolve) => setTimeout(resolve, 500));
  assert.equal((await get(server.url, '/index.json')).status, 200);
});

test('kiln serve: SIGTERM lets a download in progress finish, refuses new connections, exits 0', async (t) => {
  const dir = await tempDir(t);
  const repo = await repository(dir);
  const content = randomBytes(24 * 1024 * 1024);
  await writeFile(join(repo, 'public', 'big.bin'), content);
  const server = await serve(t, [repo]);
  const received = await new Promise<Buffer>((resolve, reject) => {
    const req = request(`${server.url}/big.bin`, { agent: false }, (res) => {
      const chunks: Buffer[] = [];
      let stopped = false;
      res.on('data', (chunk: Buffer) => {
        chunks.push(chunk);
        if (!stopped) {
          // After the first bytes: stop the server, and read the rest slowly.
          stopped = true;
          res.pause();
          server.child.kill('SIGTERM');
          setTimeout(() => res.resume(), 1000);
        }
      });
      res.on('end', () => resolve(Buffer.concat(chunks)));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
  assert.equal(received.length, content.length);
  assert.ok(received.equals(content));
  const exit = await server.exited;
  assert.deepEqual(exit, { code: 0, signal: null }, server.stderr());
  assert.match(server.stderr(), /SIGTERM: stopping/);
  await assert.rejects(get(server.url, '/index.json'), /ECONNREFUSED/);
  assert.ok((await stat(join(repo, 'public', 'index.json'))).isFile());
});

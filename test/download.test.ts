/**
 * Fetching index files and downloading packages from remotes, over real HTTP
 * on loopback (servers started and stopped by each test, on a port the OS
 * picks) and over file: URLs: resume, servers that cannot resume, servers
 * that misbehave, and what is left on disk after each failure.
 */
import * as assert from 'node:assert/strict';
import { mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { test } from 'node:test';
import { pathToFileURL } from 'node:url';
import type { DownloadProgress, DownloadRequest } from '../src/remote/index.js';
import { download, downloadAll, remoteFetcher } from '../src/remote/index.js';
import type { DownloadAllProgress } from '../src/remote/download.js';
import { seededRandom } from '../src/util/seededRandom.js';
import { sha256 } from '../src/util/hash.js';
import { tempDir } from './helpers/kiln.js';
import { serveDirectory } from './helpers/staticServer.js';

/** Reproducible bytes that do not compress or repeat. */
function payload(size: number, seed = 1): Buffer {
  const random = seededRandom(seed);
  return Buffer.from(Array.from({ length: size }, () => Math.floor(random() * 256)));
}

const PAYLOAD = payload(300_000);

function pin(data: Buffer): { size: number; sha256: ReturnType<typeof sha256> } {
  return { size: data.length, sha256: sha256(data) };
}

async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}

/** A repository directory holding `files`, and an empty cache directory to download into. */
async function setup(
  t: TestContext,
  files: Record<string, Buffer> = { 'pkg.kpkg': PAYLOAD },
): Promise<{ repo: string; cache: string }> {
  const dir = await tempDir(t);
  const repo = join(dir, 'repo');
  for (const [path, data] of Object.entries(files)) {
    await mkdir(join(repo, path, '..'), { recursive: true });
    await writeFile(join(repo, path), data);
  }
  return { repo, cache: join(dir, 'cache') };
}

async function serveRepo(
  t: TestContext,
  repo: string,
  options: { ranges?: boolean } = {},
): ReturnType<typeof serveDirectory> {
  const server = await serveDirectory(repo, options);
  t.after(() => server.close());
  return server;
}

/** A loopback server with a hand-written handler, for servers that misbehave. */
async function serve(
  t: TestContext,
  handler: (request: IncomingMessage, response: ServerResponse) => void,
): Promise<string> {
  const server = createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(() => {
    // Stalled responses would keep close() waiting forever.
    server.closeAllConnections();
    return new Promise<void>((resolve) => server.close(() => resolve()));
  });
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

test('downloads a package over HTTP into place, with progress, and skips it once there', async (t) => {
  const { repo, cache } = await setup(t);
  const server = await serveRepo(t, repo);
  const destination = join(cache, 'app', 'pkg.kpkg');
  const seen: DownloadProgress[] = [];
  const request: DownloadRequest = { url: new URL(`${server.url}/pkg.kpkg`), destination, ...pin(PAYLOAD) };

  assert.deepEqual(await download(request, { onProgress: (progress) => seen.push(progress) }), {
    resumedFrom: 0,
    fetched: PAYLOAD.length,
  });
  assert.deepEqual(await readFile(destination), PAYLOAD);
  assert.equal(await exists(`${destination}.part`), false);
  assert.deepEqual(seen.at(-1), { url: request.url, received: PAYLOAD.length, total: PAYLOAD.length });
  assert.ok(seen.every((progress, i) => i === 0 || progress.received >= seen[i - 1]!.received));
  // A local transfer takes well under 100 ms: one update while it runs, one at the end.
  assert.ok(seen.length <= 3, `${seen.length} progress calls`);

  assert.deepEqual(await download(request), { resumedFrom: 0, fetched: 0 });
  assert.equal(server.requests, 1);
});

test('resumes a truncated .part with a Range request for the rest', async (t) => {
  const { repo, cache } = await setup(t);
  const server = await serveRepo(t, repo);
  const destination = join(cache, 'pkg.kpkg');
  const cut = 123_457;
  await mkdir(cache, { recursive: true });
  await writeFile(`${destination}.part`, PAYLOAD.subarray(0, cut));

  const result = await download({ url: new URL(`${server.url}/pkg.kpkg`), destination, ...pin(PAYLOAD) });
  assert.deepEqual(result, { resumedFrom: cut, fetched: PAYLOAD.length - cut });
  assert.deepEqual(await readFile(destination), PAYLOAD);
  assert.deepEqual(
    server.log.map(({ range, status, bytes }) => ({ range, status, bytes })),
    [{ range: `bytes=${cut}-`, status: 206, bytes: PAYLOAD.length - cut }],
  );
});

test('starts over when the server ignores Range, or the .part is larger than pinned', async (t) => {
  const { repo, cache } = await setup(t);
  const server = await serveRepo(t, repo, { ranges: false });
  const destination = join(cache, 'pkg.kpkg');
  const request = { url: new URL(`${server.url}/pkg.kpkg`), destination, ...pin(PAYLOAD) };
  await mkdir(cache, { recursive: true });
  // A foreign prefix: had it been kept, the hash would not match.
  await writeFile(`${destination}.part`, payload(5000, 99));

  assert.deepEqual(await download(request), { resumedFrom: 0, fetched: PAYLOAD.length });
  assert.deepEqual(await readFile(destination), PAYLOAD);
  assert.deepEqual(
    server.log.map(({ range, status }) => ({ range, status })),
    [{ range: 'bytes=5000-', status: 200 }],
  );

  const other = join(cache, 'other.kpkg');
  await writeFile(`${other}.part`, Buffer.concat([PAYLOAD, Buffer.from('tail')]));
  assert.deepEqual(await download({ ...request, destination: other }), { resumedFrom: 0, fetched: PAYLOAD.length });
  assert.equal(server.log[1]?.range, undefined, 'no Range for a .part larger than the file');
  assert.deepEqual(await readFile(other), PAYLOAD);
});

test('a .part past the end of the file (416) starts over, and a short file is an index mismatch', async (t) => {
  const { repo, cache } = await setup(t, { 'pkg.kpkg': PAYLOAD.subarray(0, 1000) });
  const server = await serveRepo(t, repo);
  const destination = join(cache, 'pkg.kpkg');
  await mkdir(cache, { recursive: true });
  await writeFile(`${destination}.part`, PAYLOAD.subarray(0, 5000));
  const url = new URL(`${server.url}/pkg.kpkg`);

  await assert.rejects(download({ url, destination, ...pin(PAYLOAD) }), {
    code: 'E_INDEX_MISMATCH',
    message: `cannot download ${url.href}: it is 1000 bytes, but the index pins size ${PAYLOAD.length}`,
  });
  assert.deepEqual(
    server.log.map(({ range, status }) => ({ range, status })),
    [
      { range: 'bytes=5000-', status: 416 },
      { range: undefined, status: 200 },
    ],
  );
  assert.equal(await exists(`${destination}.part`), false);
  assert.equal(await exists(destination), false);
});

test('HTTP 404 and 500 are E_FETCH naming the URL and the status', async (t) => {
  const { repo, cache } = await setup(t);
  const server = await serveRepo(t, repo);
  const destination = join(cache, 'pkg.kpkg');
  const missing = new URL(`${server.url}/missing.kpkg`);
  await assert.rejects(download({ url: missing, destination, ...pin(PAYLOAD) }), {
    code: 'E_FETCH',
    message: `cannot download ${missing.href}: HTTP 404 Not Found`,
  });

  const failing = await serve(t, (_request, response) => response.writeHead(500).end('boom'));
  const url = new URL(`${failing}/pkg.kpkg`);
  await assert.rejects(download({ url, destination, ...pin(PAYLOAD) }), {
    code: 'E_FETCH',
    message: `cannot download ${url.href}: HTTP 500 Internal Server Error`,
  });
  assert.equal(await exists(destination), false);
  assert.equal(await exists(`${destination}.part`), false);
});

test('a server that sends more than the index pins is cut off, and nothing is kept', async (t) => {
  const longer = Buffer.concat([PAYLOAD, Buffer.from('0123456789')]);
  const { repo, cache } = await setup(t, { 'pkg.kpkg': longer });
  const server = await serveRepo(t, repo);
  const destination = join(cache, 'pkg.kpkg');
  const url = new URL(`${server.url}/pkg.kpkg`);
  // Announced by Content-Length: refused before a byte is written.
  await assert.rejects(download({ url, destination, ...pin(PAYLOAD) }), {
    code: 'E_FETCH',
    message: `cannot download ${url.href}: the server offers ${longer.length} bytes, more than the ${PAYLOAD.length} bytes the index pins`,
  });
  assert.equal(await exists(destination), false);
  assert.equal(await exists(`${destination}.part`), false);

  // Not announced (chunked, endless): cut off at the pinned size.
  let sent = 0;
  const endless = await serve(t, (_request, response) => {
    response.writeHead(200);
    const more = (): void => {
      sent += PAYLOAD.length;
      if (response.write(PAYLOAD)) setImmediate(more);
      else response.once('drain', more);
    };
    response.on('close', () => response.removeAllListeners('drain'));
    more();
  });
  const endlessUrl = new URL(`${endless}/pkg.kpkg`);
  await assert.rejects(download({ url: endlessUrl, destination, ...pin(PAYLOAD) }), {
    code: 'E_FETCH',
    message: `cannot download ${endlessUrl.href}: the server sent more than the ${PAYLOAD.length} bytes the index pins`,
  });
  assert.equal(await exists(destination), false);
  assert.equal(await exists(`${destination}.part`), false);
  assert.ok(sent < 100 * PAYLOAD.length, `server got to send ${sent} bytes`);
});

test('content that differs from the pinned sha256 is E_INDEX_MISMATCH and the .part is removed', async (t) => {
  const altered = Buffer.from(PAYLOAD);
  altered[200_000] = altered[200_000]! ^ 1;
  const { repo, cache } = await setup(t, { 'pkg.kpkg': altered });
  const server = await serveRepo(t, repo);
  const destination = join(cache, 'pkg.kpkg');
  const url = new URL(`${server.url}/pkg.kpkg`);

  await assert.rejects(download({ url, destination, ...pin(PAYLOAD) }), {
    code: 'E_INDEX_MISMATCH',
    message: `cannot download ${url.href}: its sha256 is ${sha256(altered)}, but the index pins ${sha256(PAYLOAD)}`,
  });
  assert.equal(await exists(destination), false);
  assert.equal(await exists(`${destination}.part`), false);

  // The resumed part is hashed too: a correct tail after a wrong prefix does not pass.
  await mkdir(cache, { recursive: true });
  await writeFile(`${destination}.part`, altered.subarray(0, 250_000));
  const good = await setup(t);
  const goodServer = await serveRepo(t, good.repo);
  await assert.rejects(download({ url: new URL(`${goodServer.url}/pkg.kpkg`), destination, ...pin(PAYLOAD) }), {
    code: 'E_INDEX_MISMATCH',
  });
  assert.equal(goodServer.log[0]?.range, 'bytes=250000-');
  assert.equal(await exists(`${destination}.part`), false);
});

test('a connection cut mid-transfer keeps the .part, and the next download resumes it', async (t) => {
  const { repo, cache } = await setup(t);
  const cutting = await serve(t, (_request, response) => {
    response.writeHead(200, { 'content-length': PAYLOAD.length });
    response.write(PAYLOAD.subarray(0, 100_000), () => setTimeout(() => response.destroy(), 20));
  });
  const destination = join(cache, 'pkg.kpkg');
  const url = new URL(`${cutting}/pkg.kpkg`);
  await assert.rejects(download({ url, destination, ...pin(PAYLOAD) }), {
    code: 'E_FETCH',
    message: `cannot download ${url.href}: the connection was reset or closed early`,
  });
  assert.equal(await exists(destination), false);
  assert.deepEqual(await readFile(`${destination}.part`), PAYLOAD.subarray(0, 100_000));

  const server = await serveRepo(t, repo);
  assert.deepEqual(await download({ url: new URL(`${server.url}/pkg.kpkg`), destination, ...pin(PAYLOAD) }), {
    resumedFrom: 100_000,
    fetched: PAYLOAD.length - 100_000,
  });
  assert.deepEqual(await readFile(destination), PAYLOAD);
});

/** A server that sends the first `count` bytes of PAYLOAD and then nothing more. */
function stalling(count: number): (request: IncomingMessage, response: ServerResponse) => void {
  return (_request, response) => {
    response.writeHead(200, { 'content-length': PAYLOAD.length });
    response.write(PAYLOAD.subarray(0, count));
  };
}

test('an aborted download is "interrupted", keeps its .part, and resumes later', async (t) => {
  const { repo, cache } = await setup(t);
  const url = new URL(`${await serve(t, stalling(50_000))}/pkg.kpkg`);
  const destination = join(cache, 'pkg.kpkg');
  const controller = new AbortController();
  const pending = download(
    { url, destination, ...pin(PAYLOAD) },
    { signal: controller.signal, onProgress: () => setTimeout(() => controller.abort(), 50) },
  );
  await assert.rejects(pending, { code: 'E_FETCH', message: `download of ${url.href} interrupted` });
  assert.deepEqual(await readFile(`${destination}.part`), PAYLOAD.subarray(0, 50_000));

  await assert.rejects(download({ url, destination, ...pin(PAYLOAD) }, { signal: AbortSignal.abort() }), {
    code: 'E_FETCH',
    message: `download of ${url.href} interrupted`,
  });

  const server = await serveRepo(t, repo);
  assert.deepEqual(await download({ url: new URL(`${server.url}/pkg.kpkg`), destination, ...pin(PAYLOAD) }), {
    resumedFrom: 50_000,
    fetched: PAYLOAD.length - 50_000,
  });
});

test('a stalled server times out with E_FETCH', async (t) => {
  const { cache } = await setup(t);
  const base = await serve(t, stalling(10_000));
  const url = new URL(`${base}/pkg.kpkg`);
  const destination = join(cache, 'pkg.kpkg');
  await assert.rejects(download({ url, destination, ...pin(PAYLOAD) }, { timeoutMs: 200 }), {
    code: 'E_FETCH',
    message: `cannot download ${url.href}: no data received for 0.2 s`,
  });
  assert.equal((await stat(`${destination}.part`)).size, 10_000);

  const silent = await serve(t, () => undefined);
  await assert.rejects(remoteFetcher(new URL(silent), { timeoutMs: 200 })('index.json'), {
    code: 'E_FETCH',
    message: `cannot fetch ${silent}/index.json: no data received for 0.2 s`,
  });
});

test('file: URLs download, resume, and report a missing file', async (t) => {
  const { repo, cache } = await setup(t);
  const url = pathToFileURL(join(repo, 'pkg.kpkg'));
  const destination = join(cache, 'pkg.kpkg');
  const seen: DownloadProgress[] = [];
  assert.deepEqual(
    await download({ url, destination, ...pin(PAYLOAD) }, { onProgress: (progress) => seen.push(progress) }),
    { resumedFrom: 0, fetched: PAYLOAD.length },
  );
  assert.deepEqual(await readFile(destination), PAYLOAD);
  assert.equal(seen.at(-1)?.received, PAYLOAD.length);

  const resumed = join(cache, 'resumed.kpkg');
  await writeFile(`${resumed}.part`, PAYLOAD.subarray(0, 77_777));
  assert.deepEqual(await download({ url, destination: resumed, ...pin(PAYLOAD) }), {
    resumedFrom: 77_777,
    fetched: PAYLOAD.length - 77_777,
  });
  assert.deepEqual(await readFile(resumed), PAYLOAD);

  const missing = pathToFileURL(join(repo, 'missing.kpkg'));
  await assert.rejects(download({ url: missing, destination: join(cache, 'missing.kpkg'), ...pin(PAYLOAD) }), {
    code: 'E_FETCH',
    message: `cannot download ${missing.href}: no such file`,
  });

  const wrong = join(cache, 'wrong.kpkg');
  await assert.rejects(download({ url, destination: wrong, size: PAYLOAD.length, sha256: sha256('other') }), {
    code: 'E_INDEX_MISMATCH',
  });
  assert.equal(await exists(`${wrong}.part`), false);
});

test('remoteFetcher reads existing and missing files over HTTP and file:', async (t) => {
  const index = Buffer.from('{"format":1}\n');
  const { repo } = await setup(t, { 'index.json': index, 'packages/app/zlib/zlib 1.3.kpkg': PAYLOAD });
  const server = await serveRepo(t, repo);
  for (const base of [new URL(server.url), new URL(`${server.url}/`), pathToFileURL(repo)]) {
    const fetch = remoteFetcher(base);
    assert.deepEqual(await fetch('index.json'), index, base.href);
    assert.deepEqual(await fetch('packages/app/zlib/zlib 1.3.kpkg'), PAYLOAD, base.href);
    assert.equal(await fetch('index.json.minisig'), undefined, base.href);
    assert.equal(await fetch('packages/none/index.json'), undefined, base.href);
    await assert.rejects(remoteFetcher(base, { maxBytes: 1000 })('packages/app/zlib/zlib 1.3.kpkg'), {
      code: 'E_FETCH',
      message: /^cannot fetch .*zlib%201\.3\.kpkg: it is larger than the limit of 1000 bytes$/,
    });
  }

  const gone = await serve(t, (request, response) => response.writeHead(request.url === '/gone' ? 410 : 503).end());
  assert.equal(await remoteFetcher(new URL(gone))('gone'), undefined);
  await assert.rejects(remoteFetcher(new URL(gone))('index.json'), {
    code: 'E_FETCH',
    message: `cannot fetch ${gone}/index.json: HTTP 503 Service Unavailable`,
    hint: 'the server has a problem; try again later',
  });
});

test('redirects are followed, up to five', async (t) => {
  const index = Buffer.from('{"format":1}\n');
  const { repo, cache } = await setup(t, { 'index.json': index, 'pkg.kpkg': PAYLOAD });
  const server = await serveRepo(t, repo);
  // /hops/N/... redirects to /hops/N-1/... (relative), /hops/0/... to the static server (absolute).
  const redirector = await serve(t, (request, response) => {
    const match = /^\/hops\/(\d+)\/(.*)$/.exec(request.url ?? '');
    if (match === null) return void response.writeHead(404).end();
    const hops = Number(match[1]);
    response
      .writeHead(hops === 0 ? 302 : 301, {
        location: hops === 0 ? `${server.url}/${match[2]}` : `/hops/${hops - 1}/${match[2]}`,
      })
      .end();
  });

  assert.deepEqual(await remoteFetcher(new URL(`${redirector}/hops/2`))('index.json'), index);
  const destination = join(cache, 'pkg.kpkg');
  assert.deepEqual(await download({ url: new URL(`${redirector}/hops/4/pkg.kpkg`), destination, ...pin(PAYLOAD) }), {
    resumedFrom: 0,
    fetched: PAYLOAD.length,
  });
  assert.deepEqual(await readFile(destination), PAYLOAD);
  await assert.rejects(remoteFetcher(new URL(`${redirector}/hops/5`))('index.json'), {
    code: 'E_FETCH',
    message: `cannot fetch ${redirector}/hops/5/index.json: more than 5 redirects`,
  });
});

test('credentials reach the server but never an error message', async (t) => {
  const { cache } = await setup(t);
  const authorizations: (string | undefined)[] = [];
  const base = await serve(t, (request, response) => {
    authorizations.push(request.headers.authorization);
    if (request.url === '/moved') return void response.writeHead(307, { location: '/broken' }).end();
    response.writeHead(500).end();
  });
  const secretBase = base.replace('http://', 'http://alice:s3cret@');
  const expected = `Basic ${Buffer.from('alice:s3cret').toString('base64')}`;

  await assert.rejects(remoteFetcher(new URL(secretBase))('index.json'), {
    code: 'E_FETCH',
    message: `cannot fetch ${base}/index.json: HTTP 500 Internal Server Error`,
  });
  await assert.rejects(
    download({ url: new URL(`${secretBase}/moved`), destination: join(cache, 'x'), ...pin(PAYLOAD) }),
    {
      code: 'E_FETCH',
      message: `cannot download ${base}/moved: HTTP 500 Internal Server Error`,
    },
  );
  assert.deepEqual(
    authorizations,
    [expected, expected, expected],
    'credentials follow a redirect within the same server',
  );

  // A port nobody listens on: the server above is closed at the end, so open and close one now.
  const closed = createServer();
  await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
  const port = (closed.address() as AddressInfo).port;
  await new Promise<void>((resolve) => closed.close(() => resolve()));
  const refused = remoteFetcher(new URL(`http://alice:s3cret@127.0.0.1:${port}/repo`))('index.json');
  await assert.rejects(refused, (error: Error & { code?: string; cause?: unknown }) => {
    assert.equal(error.code, 'E_FETCH');
    assert.equal(error.message, `cannot fetch http://127.0.0.1:${port}/repo/index.json: connection refused`);
    assert.ok(error.cause instanceof Error);
    return true;
  });
});

test('downloadAll fetches several files in parallel, with combined progress', async (t) => {
  const files = Object.fromEntries(
    Array.from({ length: 6 }, (_, i) => [`p${i}.kpkg`, payload(50_000 + i * 1000, i + 10)]),
  );
  const { repo, cache } = await setup(t, files);
  const server = await serveRepo(t, repo);
  const requests = Object.entries(files).map(([name, data]) => ({
    url: new URL(`${server.url}/${name}`),
    destination: join(cache, name),
    ...pin(data),
  }));
  const states: DownloadAllProgress[] = [];
  await downloadAll(requests, { concurrency: 2, onProgress: (state) => states.push(state) });
  for (const [name, data] of Object.entries(files)) assert.deepEqual(await readFile(join(cache, name)), data);
  const totalBytes = requests.reduce((sum, { size }) => sum + size, 0);
  const last = states.at(-1)!;
  assert.deepEqual(
    { ...last, finished: undefined },
    { done: 6, total: 6, receivedBytes: totalBytes, totalBytes, cached: 0, finished: undefined },
  );
  // Each finished download is reported once, with its name and size.
  const finished = states.flatMap((state) => (state.finished === undefined ? [] : [state.finished.label])).sort();
  assert.deepEqual(finished, Object.keys(files).sort());
  // Again, from the cache: nothing is counted as a download.
  const again: DownloadAllProgress[] = [];
  await downloadAll(requests, { concurrency: 2, cachedUnchecked: true, onProgress: (state) => again.push(state) });
  assert.ok(again.every((state) => state.total === 0 && state.totalBytes === 0 && state.cached === 6));
  assert.ok(again.every((state) => state.finished === undefined));
  assert.ok(
    states.every(
      (state, i) =>
        i === 0 || (state.done >= states[i - 1]!.done && state.receivedBytes >= states[i - 1]!.receivedBytes),
    ),
  );
});

test('downloadAll stops the others at the first failure, keeping their .part files', async (t) => {
  const files = Object.fromEntries(Array.from({ length: 3 }, (_, i) => [`p${i}.kpkg`, payload(200_000, i + 20)]));
  const { repo, cache } = await setup(t, files);
  // Sends each file 10 kB at a time, 20 ms apart; "missing.kpkg" is a 404 after 150 ms.
  const slow = await serve(t, (request, response) => {
    const data = files[(request.url ?? '').slice(1)];
    if (data === undefined) return void setTimeout(() => response.writeHead(404).end(), 150);
    response.writeHead(200, { 'content-length': data.length });
    let offset = 0;
    const timer = setInterval(() => {
      response.write(data.subarray(offset, offset + 10_000));
      offset += 10_000;
      if (offset >= data.length) {
        clearInterval(timer);
        response.end();
      }
    }, 20);
    response.on('close', () => clearInterval(timer));
  });
  const requests = Object.entries(files).map(([name, data]) => ({
    url: new URL(`${slow}/${name}`),
    destination: join(cache, name),
    ...pin(data),
  }));
  const missing = new URL(`${slow}/missing.kpkg`);
  await assert.rejects(
    downloadAll([...requests, { url: missing, destination: join(cache, 'missing.kpkg'), ...pin(PAYLOAD) }], {
      concurrency: 4,
    }),
    {
      code: 'E_FETCH',
      message: `cannot download ${missing.href}: HTTP 404 Not Found`,
    },
  );
  for (const { destination, size } of requests) {
    assert.equal(await exists(destination), false);
    const kept = (await stat(`${destination}.part`)).size;
    assert.ok(kept > 0 && kept < size, `${destination}.part holds ${kept} bytes`);
  }

  // Their .part files are resumed by the next run.
  const server = await serveRepo(t, repo);
  await downloadAll(requests.map((request) => ({ ...request, url: new URL(`${server.url}${request.url.pathname}`) })));
  for (const [name, data] of Object.entries(files)) assert.deepEqual(await readFile(join(cache, name)), data);
  assert.ok(server.log.every(({ status }) => status === 206));
});

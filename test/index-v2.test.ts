/**
 * Index format v2 end to end: a repository publishes v1 and v2 side by side;
 * a client syncs the root and name table, fetches over loopback HTTP only the
 * shards a plan visits, plans exactly as it would over the whole v1 index,
 * re-syncs with a delta, and refuses every file the signed root does not pin
 * (with its error code), as well as an older, expired or untrusted root.
 */
import * as assert from 'node:assert/strict';
import { cp, mkdir, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import type { TestContext } from 'node:test';
import { parseIndex } from '../src/repo/indexFormat.js';
import type { IndexRoot } from '../src/repo/indexV2.js';
import {
  ROOT_FILE,
  encodeNameTable,
  openPinned,
  parseNameTable,
  parseRoot,
  pinned,
  pinnedPath,
  rootTrustedComment,
  serializeRoot,
} from '../src/repo/indexV2.js';
import { publishIndexV2 } from '../src/repo/publishIndex.js';
import { formatSignature, readSecretKeyFile, signData } from '../src/sign/index.js';
import type { PackageSpec } from './helpers/client.js';
import { fails, ok, packAll, publish, stripIndexV2 } from './helpers/client.js';
import { parseJson, tempDir } from './helpers/kiln.js';
import type { StaticServer } from './helpers/staticServer.js';
import { serveDirectory } from './helpers/staticServer.js';

const tree = (name: string) => ({ [`share/${name}.txt`]: `${name}\n` });
const spec = (name: string, version: string, depends: string[] = []): PackageSpec => ({
  name,
  version,
  depends,
  tree: tree(name),
});

/** app needs lib1 and lib2, lib1 needs base; five other names nothing needs. */
const GRAPH: PackageSpec[] = [
  spec('app', '1.0', ['lib1', 'lib2 >=1.0']),
  spec('lib1', '1.0', ['base']),
  spec('lib1', '1.1', ['base']),
  spec('lib2', '1.0'),
  spec('base', '3.0'),
  ...['x1', 'x2', 'x3', 'x4', 'x5'].map((name) => spec(name, '1.0')),
];

interface Setup {
  dir: string;
  published: string;
  server: StaticServer;
  /** Requests for paths under v2/KIND/ since `since`. */
  fetched: (kind: 'shards' | 'names' | 'deltas', since?: number) => string[];
}

async function setUp(t: TestContext): Promise<Setup> {
  const dir = await tempDir(t);
  await publish(dir, await packAll(dir, GRAPH));
  const published = join(dir, 'repo/public');
  const server = await serveDirectory(published);
  t.after(() => server.close());
  const fetched = (kind: string, since = 0) =>
    server.log
      .slice(since)
      .filter((entry) => entry.status === 200 && entry.path.startsWith(`/v2/${kind}/`))
      .map((entry) => entry.path);
  return { dir, published, server, fetched };
}

async function prefixOn(dir: string, name: string, url: string): Promise<string> {
  const prefix = join(dir, name);
  await ok(['--prefix', prefix, 'init'], { cwd: dir });
  await ok(['--prefix', prefix, 'remote', 'add', 'main', url, '--key', 'keys/kiln.pub'], { cwd: dir });
  return prefix;
}

interface SyncJson {
  remote: string;
  serial: number;
  format: number;
  fetchedBytes: number;
  packages: number;
}

async function sync(dir: string, prefix: string, env: Record<string, string> = {}): Promise<SyncJson> {
  return (parseJson(await ok(['--prefix', prefix, 'sync', '--json'], { cwd: dir, env })) as SyncJson[])[0]!;
}

/** The published v1-only copy of the repository: what a repository committed before format v2 serves. */
async function v1Copy(published: string, to: string): Promise<string> {
  await cp(published, to, { recursive: true });
  await stripIndexV2(to);
  return to;
}

test('a v2 client fetches only the shards a plan visits, and plans as a v1 client over the whole index', async (t) => {
  const { dir, published, server, fetched } = await setUp(t);
  const lazy = await prefixOn(dir, 'lazy', server.url);
  const synced = await sync(dir, lazy);
  assert.equal(synced.format, 2);
  assert.equal(synced.packages, GRAPH.length);
  assert.deepEqual(fetched('shards'), [], 'sync fetches no shard');
  assert.equal(fetched('names').length, 1);

  // Listing and searching come from the name table: still no shard.
  const available = parseJson(await ok(['--prefix', lazy, 'list', '--available', '--json'], { cwd: dir })) as {
    name: string;
    version: string;
  }[];
  assert.equal(available.length, 9);
  assert.equal(available.find((row) => row.name === 'lib1')?.version, '1.1');
  assert.match(await ok(['--prefix', lazy, 'search', 'x3'], { cwd: dir }), /x3/);
  assert.deepEqual(fetched('shards'), []);

  const plan = await ok(['--prefix', lazy, 'install', 'app', '--dry-run', '--json'], { cwd: dir });
  assert.equal(fetched('shards').length, 4, 'app, lib1, lib2 and base; none of x1..x5');

  const whole = await prefixOn(dir, 'whole', await v1Copy(published, join(dir, 'v1only')));
  assert.equal((await sync(dir, whole)).format, 1);
  const wholePlan = await ok(['--prefix', whole, 'install', 'app', '--dry-run', '--json'], { cwd: dir });
  const actions = (text: string) =>
    (
      parseJson(text) as { plan: { actions: { kind: string; name: string; to: string; variant: string }[] } }
    ).plan.actions.map((action) => `${action.kind} ${action.name} ${action.to} ${action.variant}`);
  assert.deepEqual(actions(plan), actions(wholePlan));
  assert.equal(actions(plan).length, 4);

  // Installing reuses the shards kept; info of another name fetches just its shard.
  const before = server.log.length;
  await ok(['--prefix', lazy, 'install', 'app', '-y'], { cwd: dir });
  assert.deepEqual(fetched('shards', before), []);
  assert.equal(await readFile(join(lazy, 'share/base.txt'), 'utf8'), 'base\n');
  const info = parseJson(await ok(['--prefix', lazy, 'info', 'x2', '--json'], { cwd: dir })) as {
    available: { version: string }[];
  };
  assert.equal(info.available[0]?.version, '1.0');
  assert.equal(fetched('shards', before).length, 1);
  assert.match(await ok(['--prefix', lazy, 'verify'], { cwd: dir }), /^ok:/m);
});

test('a re-sync after one name changed fetches a delta, not the name table', async (t) => {
  const { dir, published, server, fetched } = await setUp(t);
  const prefix = await prefixOn(dir, 'p', server.url);
  const cold = await sync(dir, prefix);
  await ok(['--prefix', prefix, 'install', 'app', '-y'], { cwd: dir });
  await publish(dir, await packAll(dir, [spec('lib2', '1.1')]));
  const since = server.log.length;
  const warm = await sync(dir, prefix);
  assert.equal(warm.serial, cold.serial + 1);
  assert.equal(fetched('deltas', since).length, 1);
  assert.deepEqual(fetched('names', since), []);
  assert.ok(warm.fetchedBytes < cold.fetchedBytes, `${warm.fetchedBytes} < ${cold.fetchedBytes}`);
  const upgrade = parseJson(await ok(['--prefix', prefix, 'upgrade', '-y', '--json'], { cwd: dir })) as {
    plan: { actions: { name: string; to: string }[] };
  };
  assert.deepEqual(
    upgrade.plan.actions.map((action) => `${action.name} ${action.to}`),
    ['lib2 1.1'],
  );
  // A damaged delta is not used: the whole table is fetched instead.
  await publish(dir, await packAll(dir, [spec('x2', '1.1')]));
  const root = parseRoot(await readFile(join(published, ROOT_FILE)), ROOT_FILE);
  await writeFile(join(published, pinnedPath('deltas', root.deltas[0]!)), pinned(Buffer.from('+evil\n')).compressed);
  const since1 = server.log.length;
  await sync(dir, prefix);
  assert.equal(fetched('deltas', since1).length, 1);
  assert.equal(fetched('names', since1).length, 1);
  assert.match(await ok(['--prefix', prefix, 'search', 'x2', '--json'], { cwd: dir }), /"1\.1"/);
  // A client two commits behind, or with its table lost, still syncs (a delta from its serial, or the whole table).
  await rm(join(prefix, 'var/lib/kiln/indexes/main/names.txt'));
  await publish(dir, await packAll(dir, [spec('x1', '1.1')]));
  const since2 = server.log.length;
  await sync(dir, prefix);
  assert.equal(fetched('names', since2).length, 1);
  assert.match(await ok(['--prefix', prefix, 'search', 'x1', '--json'], { cwd: dir }), /"1\.1"/);
});

/** Re-sign the current root after `edit` (a stolen key: valid signature, hostile content), as serial + 1. */
async function resignRoot(
  published: string,
  keyPath: string,
  edit: (root: IndexRoot, table: string) => Promise<string> | string,
): Promise<void> {
  const root = parseRoot(await readFile(join(published, ROOT_FILE)), ROOT_FILE);
  const tablePath = join(published, pinnedPath('names', root.names));
  const table = openPinned(await readFile(tablePath), root.names, tablePath).toString('utf8');
  const text = await edit(root, table);
  const { pin, compressed } = pinned(Buffer.from(text));
  await mkdir(dirname(join(published, pinnedPath('names', pin))), { recursive: true });
  await writeFile(join(published, pinnedPath('names', pin)), compressed);
  const next: IndexRoot = {
    ...root,
    serial: root.serial + 1,
    names: { ...pin, count: parseNameTable(text, 't').size },
    deltas: [],
  };
  const bytes = serializeRoot(next);
  const key = await readSecretKeyFile(keyPath);
  const signature = formatSignature(signData(bytes, key, { trustedComment: rootTrustedComment(next) }));
  for (const path of [join(published, 'indexes', `${next.serial}.v2.json`), join(published, ROOT_FILE)]) {
    await writeFile(path, bytes);
    await writeFile(`${path}.minisig`, signature);
  }
}

/** Publish `bytes` as the shard of `name` under a re-signed root. */
async function hostileShard(published: string, keyPath: string, name: string, bytes: Buffer): Promise<void> {
  await resignRoot(published, keyPath, async (_root, table) => {
    const { pin, compressed } = pinned(bytes);
    await mkdir(dirname(join(published, pinnedPath('shards', pin))), { recursive: true });
    await writeFile(join(published, pinnedPath('shards', pin)), compressed);
    const rows = [...parseNameTable(table, 't').values()].map((row) =>
      row.name === name ? { ...row, shard: pin } : row,
    );
    return encodeNameTable(rows);
  });
}

test('a v2 client refuses what the signed root does not pin, and an older, expired or untrusted root', async (t) => {
  const { dir, published, server } = await setUp(t);
  const keyPath = join(dir, 'keys/kiln.key');
  const prefix = await prefixOn(dir, 'p', server.url);
  await sync(dir, prefix);
  const root = parseRoot(await readFile(join(published, ROOT_FILE)), ROOT_FILE);
  const table = parseNameTable(
    openPinned(await readFile(join(published, pinnedPath('names', root.names))), root.names, 'names').toString('utf8'),
    'names',
  );

  // A shard replaced on the server: its bytes are not what the table pins.
  const shardPath = join(published, pinnedPath('shards', table.get('lib2')!.shard));
  const original = await readFile(shardPath);
  await writeFile(shardPath, pinned(Buffer.from('{"format":"kiln-shard"}')).compressed);
  await fails(['--prefix', prefix, 'install', 'app', '-y'], 'E_INDEX_MISMATCH', /lib2|sha256|bytes/, { cwd: dir });
  await writeFile(shardPath, original);
  await ok(['--prefix', prefix, 'install', 'app', '--dry-run'], { cwd: dir });

  // A name table replaced on the server: a fresh client refuses it at sync.
  const tablePath = join(published, pinnedPath('names', root.names));
  const tableBytes = await readFile(tablePath);
  await writeFile(tablePath, pinned(Buffer.from('evil\tx\t1\t1\tv\ts\n')).compressed);
  const fresh = await prefixOn(dir, 'fresh', server.url);
  await fails(['--prefix', fresh, 'sync'], 'E_INDEX_MISMATCH', /names/, { cwd: dir });
  await writeFile(tablePath, tableBytes);

  // Expired, then signed by a key the remote does not trust.
  await fails(['--prefix', prefix, 'sync'], 'E_INDEX_EXPIRED', /expired at/, {
    cwd: dir,
    env: { KILN_NOW: '2099-01-01T00:00:00Z' },
  });
  const saved = {
    root: await readFile(join(published, ROOT_FILE)),
    signature: await readFile(join(published, `${ROOT_FILE}.minisig`)),
  };
  await ok(['key', 'generate', '--out', 'other'], { cwd: dir });
  const index = parseIndex(await readFile(join(published, 'index.json')), 'index.json');
  await publishIndexV2(
    published,
    { ...index, serial: index.serial + 1 },
    await readSecretKeyFile(join(dir, 'other/kiln.key')),
  );
  await fails(['--prefix', prefix, 'sync'], 'E_SIGNATURE_UNTRUSTED', /made by key/, { cwd: dir });

  // A newer root synced, then the old one served again: a rollback.
  await publish(dir, await packAll(dir, [spec('x4', '2.0')]));
  await sync(dir, prefix);
  await writeFile(join(published, ROOT_FILE), saved.root);
  await writeFile(join(published, `${ROOT_FILE}.minisig`), saved.signature);
  await fails(['--prefix', prefix, 'sync'], 'E_INDEX_ROLLBACK', /older than serial/, { cwd: dir });
  await publish(dir, await packAll(dir, [spec('x5', '2.0')]));
  await sync(dir, prefix);

  // A stolen key: shards that are signed (through the root) but hostile.
  const shardOf = (name: string, entries: unknown[]) =>
    Buffer.from(JSON.stringify({ format: 'kiln-shard', formatVersion: 2, name, packages: entries }));
  const current = parseIndex(await readFile(join(published, 'index.json')), 'index.json');
  const lib2 = current.packages.find((entry) => entry.name === 'lib2')!;
  const x1 = current.packages.find((entry) => entry.name === 'x1')!;
  for (const [name, bytes, pattern] of [
    ['lib2', shardOf('lib2', [{ ...lib2, path: 'packages/../../../etc/passwd' }]), /path/],
    ['lib2', shardOf('lib2', [lib2, x1]), /holds x1/],
    ['lib2', shardOf('lib2', [lib2, lib2]), /listed twice/],
    ['lib2', shardOf('lib2', []), /must not be empty/],
    ['lib2', shardOf('x1', [x1]), /name must be lib2/],
    ['lib2', Buffer.from('not json'), /not JSON/],
  ] as const) {
    await hostileShard(published, keyPath, name, bytes);
    await sync(dir, prefix);
    const code = pattern.source === 'listed twice' ? 'E_INDEX_DUPLICATE' : 'E_INDEX_FORMAT';
    await fails(['--prefix', prefix, 'install', 'lib2', '--dry-run'], code, pattern, { cwd: dir });
  }
});

test('publishV1 = false: the repository serves v2 only, and still verifies, prunes and syncs', async (t) => {
  const { dir, published, server } = await setUp(t);
  const config = join(dir, 'repo/.kiln/config.toml');
  await writeFile(config, (await readFile(config, 'utf8')).replace('publishV1 = true', 'publishV1 = false'));
  await publish(dir, await packAll(dir, [spec('x2', '2.0')]));
  const files = await readdir(published);
  assert.ok(!files.includes('index.json') && !files.includes('index.json.minisig'), files.join(' '));
  assert.ok(files.includes(ROOT_FILE));
  await ok(['repo', 'verify', 'repo'], { cwd: dir });
  const status = parseJson(await ok(['repo', 'status', 'repo', '--json'], { cwd: dir })) as {
    published: { serial: number };
  };
  assert.equal(status.published.serial, 3);
  const prefix = await prefixOn(dir, 'p', server.url);
  assert.equal((await sync(dir, prefix)).format, 2);
  await ok(['--prefix', prefix, 'install', 'x2', '-y'], { cwd: dir });
  assert.equal(await readFile(join(prefix, 'share/x2.txt'), 'utf8'), 'x2\n');
  await ok(['repo', 'prune', 'repo', '--keep', '1'], { cwd: dir });
  await ok(['repo', 'verify', 'repo'], { cwd: dir });
  const fresh = await prefixOn(dir, 'fresh', server.url);
  await sync(dir, fresh);
  await ok(['--prefix', fresh, 'install', 'app', '-y'], { cwd: dir });
});

test('a v2 root one serial behind v1, as a commit killed after v1 was published leaves it, verifies and is caught up by the next commit', async (t) => {
  const { dir, published, server } = await setUp(t);
  const before = {
    root: await readFile(join(published, ROOT_FILE)),
    signature: await readFile(join(published, `${ROOT_FILE}.minisig`)),
  };
  await publish(dir, await packAll(dir, [spec('x3', '2.0')]));
  // The v2 root of the commit before, as if the commit died between the two formats.
  await writeFile(join(published, ROOT_FILE), before.root);
  await writeFile(join(published, `${ROOT_FILE}.minisig`), before.signature);
  await ok(['repo', 'verify', 'repo'], { cwd: dir });
  const prefix = await prefixOn(dir, 'p', server.url);
  assert.equal((await sync(dir, prefix)).serial, 2);
  await ok(['repo', 'commit', 'repo', '--allow-empty'], { cwd: dir });
  assert.equal((await sync(dir, prefix)).serial, 4);
  assert.match(await ok(['--prefix', prefix, 'search', 'x3', '--json'], { cwd: dir }), /"2\.0"/);
});

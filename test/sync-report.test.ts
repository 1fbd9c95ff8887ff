/** kiln sync names every remote with how it went: one that cannot be reached, or whose key is not trusted, does not hide the others. */
import * as assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { ok, packAll, publish } from './helpers/client.js';
import { kiln, tempDir, parseJson } from './helpers/kiln.js';

test('sync with an unreachable remote and an untrusted one: every remote named with its outcome, each failure with its own hint, exit 1', async (t) => {
  const dir = await tempDir(t);
  await publish(dir, await packAll(dir, [{ name: 'hello', version: '1.0', tree: { 'share/h.txt': 'h\n' } }]));
  const prefix = join(dir, 'prefix');
  await ok(['--prefix', prefix, 'init'], { cwd: dir });
  await ok(['key', 'generate', '--out', 'other'], { cwd: dir });
  await ok(['--prefix', prefix, 'remote', 'add', 'good', join(dir, 'repo/public'), '--key', 'keys/kiln.pub'], {
    cwd: dir,
  });
  // Port 9 on loopback: nothing listens there.
  await ok(['--prefix', prefix, 'remote', 'add', 'down', 'http://127.0.0.1:9/repo', '--key', 'keys/kiln.pub'], {
    cwd: dir,
  });
  await ok(['--prefix', prefix, 'remote', 'add', 'stranger', join(dir, 'repo/public'), '--key', 'other/kiln.pub'], {
    cwd: dir,
  });
  const result = await kiln(['--prefix', prefix, 'sync'], { cwd: dir });
  assert.equal(result.code, 1, result.stderr);
  assert.match(result.stdout, /^good\s+updated\s+serial 2\s+1 package/m);
  assert.match(result.stdout, /^down\s+FAILED\s+E_FETCH$/m);
  assert.match(result.stdout, /^stranger\s+FAILED\s+E_SIGNATURE_UNTRUSTED$/m);
  assert.match(
    result.stderr,
    // The first request of a sync asks whether the repository rotated its keys (roots/1.json).
    /error\[E_FETCH\]: cannot fetch http:\/\/127\.0\.0\.1:9\/repo\/roots\/1\.json: connection refused\nhint: check the network/,
  );
  assert.match(result.stderr, /error\[E_SIGNATURE_UNTRUSTED\]: .*\nhint: (?!check the network)/);
  const json = await kiln(['--prefix', prefix, 'sync', '--json'], { cwd: dir });
  assert.equal(json.code, 1);
  const outcomes = parseJson(json.stdout) as { remote: string; status: string; code?: string; hint?: string }[];
  assert.deepEqual(outcomes.map((o) => [o.remote, o.status, o.code ?? '']).sort(), [
    ['down', 'failed', 'E_FETCH'],
    ['good', 'unchanged', ''],
    ['stranger', 'failed', 'E_SIGNATURE_UNTRUSTED'],
  ]);
  // The good remote's packages are usable.
  await ok(['--prefix', prefix, 'install', 'hello', '-y'], { cwd: dir });
});

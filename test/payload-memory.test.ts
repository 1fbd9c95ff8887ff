/**
 * Bounded memory when reading payloads: a payload bigger than the whole-read
 * limit is hashed in a first pass and read again in slices, with the same
 * checks and the same result as a whole read; a corrupt byte is refused before
 * the visitor sees anything; a file cut short is refused. Installing a package
 * whose payload is far bigger than the limit costs far less memory than the
 * payload.
 */
import * as assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { readFile, truncate, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { isKilnError } from '../src/errors/index.js';
import { openPackage } from '../src/format/openPackage.js';
import { WHOLE_PAYLOAD_LIMIT, readPayloadFileSync } from '../src/format/readPayload.js';
import type { PayloadVisitor } from '../src/format/readPayload.js';
import { craftPackage, dirEntry, fileEntry } from './helpers/craft.js';
import { packAll, publish, syncedPrefix } from './helpers/client.js';
import { KILN_BIN, run, tempDir } from './helpers/kiln.js';

const MiB = 1 << 20;

/** What a visitor sees: each entry's path, and a hash over every data chunk in order. */
function recorder(): { visitor: PayloadVisitor; seen: string[]; digest: () => string } {
  const seen: string[] = [];
  const hash = createHash('sha256');
  return {
    seen,
    digest: () => hash.digest('hex'),
    visitor: {
      entry: (entry) => seen.push(`entry ${entry.path}`),
      data: (_entry, chunk) => hash.update(chunk),
      end: (entry) => seen.push(`end ${entry.path}`),
    },
  };
}

function packageWith(sizes: number[]): Buffer {
  // Incompressible content, so that the payload is about as big as the files.
  return craftPackage({
    entries: [
      dirEntry('share'),
      ...sizes.map((size, at) => fileEntry(`share/file${at}`, randomBytes(size))),
      fileEntry('share/small', 'a small file after the big ones\n'),
    ],
  });
}

test('a payload over the whole-read limit is read in two passes, with the same result', async (t) => {
  const dir = await tempDir(t);
  const path = join(dir, 'big.kpkg');
  await writeFile(path, packageWith([3 * MiB + 17, 1 * MiB, 700_001]));
  const pkg = await openPackage(path);
  assert.ok(pkg.payloadSize > 4 * MiB, `the payload is ${pkg.payloadSize} bytes`);
  const whole = recorder();
  readPayloadFileSync(pkg, whole.visitor);
  const sliced = recorder();
  readPayloadFileSync(pkg, sliced.visitor, MiB);
  assert.deepEqual(sliced.seen, whole.seen);
  assert.equal(sliced.seen.length, 10);
  // Again, one after the other in this thread (the buffers are used again): still the same.
  const expected = whole.digest();
  assert.equal(sliced.digest(), expected);
  const again = recorder();
  readPayloadFileSync(pkg, again.visitor, MiB);
  assert.equal(again.digest(), expected);
});

test('two-pass read: a corrupt byte is refused before the visitor sees anything; a cut file is refused', async (t) => {
  const dir = await tempDir(t);
  const path = join(dir, 'big.kpkg');
  await writeFile(path, packageWith([2 * MiB]));
  const pkg = await openPackage(path);
  const bytes = await readFile(path);
  // The last byte of the payload: only the hash of the whole payload sees it before the end.
  bytes[pkg.payloadOffset + pkg.payloadSize - 1]! ^= 0xff;
  await writeFile(path, bytes);
  for (const limit of [MiB / 2, WHOLE_PAYLOAD_LIMIT]) {
    const seen = recorder();
    assert.throws(
      () => readPayloadFileSync(pkg, seen.visitor, limit),
      (error: unknown) => isKilnError(error) && error.code === 'E_PACKAGE_HASH',
    );
    assert.deepEqual(seen.seen, [], `limit ${limit}`);
  }
  await truncate(path, pkg.payloadOffset + MiB);
  for (const limit of [MiB / 2, WHOLE_PAYLOAD_LIMIT]) {
    const seen = recorder();
    assert.throws(
      () => readPayloadFileSync(pkg, seen.visitor, limit),
      (error: unknown) => isKilnError(error) && error.code === 'E_PACKAGE_TRUNCATED',
    );
    assert.deepEqual(seen.seen, [], `limit ${limit}`);
  }
});

test('installing a 64 MiB payload from a repository costs far less memory than the payload', async (t) => {
  const dir = await tempDir(t);
  const packages = await packAll(dir, [
    { name: 'small', version: '1.0', tree: { 'share/small/a': 'x\n' } },
    { name: 'big', version: '1.0', tree: { 'share/big/blob': randomBytes(64 * MiB), 'share/big/a': 'x\n' } },
  ]);
  await publish(dir, packages);
  const peak = async (name: string): Promise<number> => {
    const prefix = await syncedPrefix(dir, join(dir, `p-${name}`));
    const report = join(dir, `${name}.time`);
    const result = await run(
      '/usr/bin/time',
      ['-f', '%M', '-o', report, process.execPath, KILN_BIN, '--prefix', prefix, 'install', name, '-y'],
      { cwd: dir },
    );
    assert.equal(result.code, 0, result.stderr);
    return Number((await readFile(report, 'utf8')).trim().split('\n').pop());
  };
  const small = await peak('small');
  const large = await peak('big');
  assert.equal((await readFile(join(dir, 'p-big', 'share/big/blob'))).length, 64 * MiB);
  // A whole read would hold the 64 MiB payload; two passes hold a slice of it and the decoder's window.
  assert.ok(large - small < 40 * 1024, `peak ${large} KiB for the 64 MiB payload, ${small} KiB for a small one`);
});

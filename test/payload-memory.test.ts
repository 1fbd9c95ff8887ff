/**
 * Bounded memory when reading payloads: a payload bigger than the whole-read
 * limit is hashed in a first pass and read again in slices, with the same
 * checks and the same result as a whole read; a corrupt byte is refused before
 * the visitor sees anything; a file cut short is refused. A pinned read (an
 * install's) checks the whole file against its pin in one pass instead, and
 * an installer downloads a cached copy that fails it again. Installing a
 * package whose payload is far bigger than the limit costs far less memory
 * than the payload.
 */
import * as assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { readFile, readdir, rm, truncate, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { isKilnError } from '../src/errors/index.js';
import { serializeMetadata } from '../src/format/metadata.js';
import { openPackage } from '../src/format/openPackage.js';
import { WHOLE_PAYLOAD_LIMIT, readPayloadFileSync } from '../src/format/readPayload.js';
import type { FilePin, PayloadVisitor } from '../src/format/readPayload.js';
import { generateKeyPair } from '../src/sign/index.js';
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

function packageWith(sizes: number[], signed = false): Buffer {
  // Incompressible content, so that the payload is about as big as the files.
  return craftPackage({
    ...(signed ? { key: generateKeyPair() } : {}),
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
  readPayloadFileSync(pkg, sliced.visitor, { wholeLimit: MiB });
  assert.deepEqual(sliced.seen, whole.seen);
  assert.equal(sliced.seen.length, 10);
  // Again, one after the other in this thread (the buffers are used again): still the same.
  const expected = whole.digest();
  assert.equal(sliced.digest(), expected);
  const again = recorder();
  readPayloadFileSync(pkg, again.visitor, { wholeLimit: MiB });
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
      () => readPayloadFileSync(pkg, seen.visitor, { wholeLimit: limit }),
      (error: unknown) => isKilnError(error) && error.code === 'E_PACKAGE_HASH',
    );
    assert.deepEqual(seen.seen, [], `limit ${limit}`);
  }
  await truncate(path, pkg.payloadOffset + MiB);
  for (const limit of [MiB / 2, WHOLE_PAYLOAD_LIMIT]) {
    const seen = recorder();
    assert.throws(
      () => readPayloadFileSync(pkg, seen.visitor, { wholeLimit: limit }),
      (error: unknown) => isKilnError(error) && error.code === 'E_PACKAGE_TRUNCATED',
    );
    assert.deepEqual(seen.seen, [], `limit ${limit}`);
  }
});

/** The pin of a package file as an installer makes it: the file's sha256, the metadata and signature it opened. */
async function pinOf(path: string, pkg: Awaited<ReturnType<typeof openPackage>>): Promise<FilePin> {
  return {
    sha256: createHash('sha256')
      .update(await readFile(path))
      .digest('hex'),
    metadata: pkg.metadataBytes,
    signature: pkg.signatureBytes,
  };
}

test('a pinned read checks the whole file in one pass, with the same result as an unpinned one', async (t) => {
  const dir = await tempDir(t);
  const path = join(dir, 'big.kpkg');
  await writeFile(path, packageWith([3 * MiB + 17, 1 * MiB, 700_001]));
  const pkg = await openPackage(path);
  const pin = await pinOf(path, pkg);
  const unpinned = recorder();
  readPayloadFileSync(pkg, unpinned.visitor);
  const expected = unpinned.digest();
  for (const wholeLimit of [MiB, WHOLE_PAYLOAD_LIMIT, 8 * MiB]) {
    const pinned = recorder();
    readPayloadFileSync(pkg, pinned.visitor, { wholeLimit, pin });
    assert.deepEqual(pinned.seen, unpinned.seen, `limit ${wholeLimit}`);
    assert.equal(pinned.digest(), expected, `limit ${wholeLimit}`);
  }
});

test('a pinned read refuses a file that is not the pinned one: read whole, before the visitor sees anything', async (t) => {
  const dir = await tempDir(t);
  const path = join(dir, 'big.kpkg');
  await writeFile(path, packageWith([2 * MiB, 1000], true));
  const pkg = await openPackage(path);
  const pin = await pinOf(path, pkg);
  assert.ok(pin.signature !== undefined, 'a signed package');
  const isPinMismatch = (error: unknown): boolean =>
    isKilnError(error) && error.code === 'E_INDEX_MISMATCH' && error.message.includes(path);
  // What the installer opened is not what the file held when it was pinned: its signature, or its metadata, changed
  // meanwhile (a copy replaced between the two reads).
  const otherSignature = Buffer.from(pin.signature!);
  otherSignature[otherSignature.length - 2]! ^= 0x01;
  const otherMetadata = { ...pkg.metadata, summary: `${pkg.metadata.summary}!` };
  for (const [source, used] of [
    [pkg, { ...pin, signature: otherSignature }],
    [
      { ...pkg, metadata: otherMetadata },
      { ...pin, metadata: serializeMetadata(otherMetadata) },
    ],
  ] as const) {
    for (const wholeLimit of [MiB / 2, WHOLE_PAYLOAD_LIMIT]) {
      const seen = recorder();
      assert.throws(() => readPayloadFileSync(source, seen.visitor, { wholeLimit, pin: used }), isPinMismatch);
      if (wholeLimit === WHOLE_PAYLOAD_LIMIT) assert.deepEqual(seen.seen, [], 'read whole: nothing seen');
    }
  }
  // A byte of the payload changed: in the first file (which then fails its own sha256 too) or in the last slice.
  const bytes = await readFile(path);
  for (const at of [pkg.payloadOffset + 1000, pkg.payloadOffset + pkg.payloadSize - 1]) {
    const altered = Buffer.from(bytes);
    altered[at]! ^= 0xff;
    await writeFile(path, altered);
    for (const wholeLimit of [MiB / 2, WHOLE_PAYLOAD_LIMIT]) {
      const seen = recorder();
      assert.throws(() => readPayloadFileSync(pkg, seen.visitor, { wholeLimit, pin }), isPinMismatch, `byte ${at}`);
      if (wholeLimit === WHOLE_PAYLOAD_LIMIT) assert.deepEqual(seen.seen, [], 'read whole: nothing seen');
    }
  }
  await writeFile(path, bytes);
  await truncate(path, pkg.payloadOffset + MiB);
  assert.throws(
    () => readPayloadFileSync(pkg, recorder().visitor, { wholeLimit: MiB / 2, pin }),
    (error: unknown) => isKilnError(error) && error.code === 'E_PACKAGE_TRUNCATED',
  );
});

test('a cached package over the whole-read limit that changed after its download is rolled back and downloaded again', async (t) => {
  const dir = await tempDir(t);
  const blob = randomBytes(6 * MiB);
  const packages = await packAll(dir, [
    { name: 'big', version: '1.0', tree: { 'share/big/blob': blob, 'share/big/z-last': 'the last file\n' } },
  ]);
  await publish(dir, packages);
  const prefix = await syncedPrefix(dir);
  const install = ['--prefix', prefix, 'install', 'big', '-y'];
  const first = await run(process.execPath, [KILN_BIN, ...install], { cwd: dir });
  assert.equal(first.code, 0, first.stderr);
  const remove = await run(process.execPath, [KILN_BIN, '--prefix', prefix, 'remove', 'big', '-y'], { cwd: dir });
  assert.equal(remove.code, 0, remove.stderr);
  const cache = join(prefix, 'var/cache/kiln/packages');
  const [name] = await readdir(cache);
  const cached = join(cache, name!);
  const bytes = await readFile(cached);
  const pkg = await openPackage(cached);
  // The last byte of the payload: every file but the last is written before the pin check can fail.
  bytes[pkg.payloadOffset + pkg.payloadSize - 1]! ^= 0xff;
  await writeFile(cached, bytes);
  const again = await run(process.execPath, [KILN_BIN, ...install, '--json'], { cwd: dir });
  assert.equal(again.code, 0, again.stderr);
  assert.deepEqual(await readFile(join(prefix, 'share/big/blob')), blob);
  assert.notDeepEqual(await readFile(cached), bytes, 'the cached copy was downloaded again');
  const verify = await run(process.execPath, [KILN_BIN, '--prefix', prefix, 'verify'], { cwd: dir });
  assert.equal(verify.code, 0, verify.stdout + verify.stderr);
  // Altered again, with the repository's copy gone: refused, and nothing is left of it in the prefix.
  await run(process.execPath, [KILN_BIN, '--prefix', prefix, 'remove', 'big', '-y'], { cwd: dir });
  await writeFile(cached, bytes);
  await rm(join(dir, 'repo/public/packages'), { recursive: true });
  const refused = await run(process.execPath, [KILN_BIN, ...install], { cwd: dir });
  assert.equal(refused.code, 1, refused.stderr);
  // The altered copy was removed and the download it needs again fails.
  assert.match(refused.stderr, /error\[E_FETCH\]: cannot download .*big-1\.0/);
  assert.deepEqual(await readdir(cache), []);
  assert.deepEqual(await readdir(join(prefix, 'share')).catch(() => []), []);
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

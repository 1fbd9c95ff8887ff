/**
 * End to end: Kiln's keys and signatures against the real minisign (0.11), in
 * both directions. Encrypted keys use minisign's default scrypt (1 GiB, several
 * seconds each), so only two tests use them.
 */
import { strict as assert } from 'node:assert';
import { mkdtemp, open, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, before, beforeEach, describe, it } from 'node:test';

import {
  encodePublicKey,
  formatPublicKey,
  formatSecretKey,
  formatSignature,
  generateKeyPair,
  isSecretKeyEncrypted,
  parseSignature,
  publicKeyOf,
  readPublicKeyFile,
  readSecretKeyFile,
  signFile,
  verifyData,
  verifyFile,
  writeKeyPair,
} from '../src/sign/index.js';
import { openPackage } from '../src/format/index.js';
import { packAll, publish } from './helpers/client.js';
import { kiln, parseJson } from './helpers/kiln.js';
import { minisign, requireMinisign } from './helpers/minisign.js';

const SLOW = { timeout: 180_000 };
const VERIFIED = /^Signature and comment signature verified\nTrusted comment: (.*)\n$/;

let dir: string;

async function flipByte(path: string, offset: number): Promise<void> {
  const handle = await open(path, 'r+');
  try {
    const byte = Buffer.alloc(1);
    await handle.read(byte, 0, 1, offset);
    byte[0]! ^= 0x01;
    await handle.write(byte, 0, 1, offset);
  } finally {
    await handle.close();
  }
}

before(async () => {
  const scratch = await mkdtemp(join(tmpdir(), 'kiln-minisign-'));
  try {
    await requireMinisign(scratch);
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
});

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'kiln-minisign-'));
});

afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('minisign verifies what Kiln signs', () => {
  it('accepts a Kiln signature with a Kiln public key, and rejects a changed file or comment', async () => {
    const { publicKeyPath, secretKeyPath } = await writeKeyPair(dir);
    const sk = await readSecretKeyFile(secretKeyPath);
    const file = join(dir, 'hello.tar');
    await writeFile(file, Buffer.from('pretend this is a package\n'.repeat(5000)));
    await writeFile(
      `${file}.minisig`,
      formatSignature(await signFile(file, sk, { trustedComment: 'file:hello.tar\tkiln ✓' })),
    );

    const ok = await minisign(['-Vm', file, '-p', publicKeyPath], { cwd: dir });
    assert.equal(ok.code, 0, ok.stderr);
    assert.deepEqual(VERIFIED.exec(ok.stdout)?.[1], 'file:hello.tar\tkiln ✓');
    const inline = await minisign(['-Vm', file, '-P', encodePublicKey(sk)], { cwd: dir });
    assert.equal(inline.code, 0, inline.stderr);

    const text = await readFile(`${file}.minisig`, 'utf8');
    await writeFile(`${file}.minisig`, text.replace('kiln ✓', 'kiln !'));
    const comment = await minisign(['-Vm', file, '-p', publicKeyPath], { cwd: dir });
    assert.equal(comment.code, 1);
    assert.match(comment.stderr, /Comment signature verification failed/);

    await writeFile(`${file}.minisig`, text);
    await flipByte(file, 70_000);
    const changed = await minisign(['-Vm', file, '-p', publicKeyPath], { cwd: dir });
    assert.equal(changed.code, 1);
    assert.match(changed.stderr, /Signature verification failed/);
  });

  it("signs with a Kiln unencrypted secret key without -W, and recreates Kiln's public key file from it", async () => {
    const { publicKeyPath, secretKeyPath, keyId } = await writeKeyPair(dir, { basename: 'release' });
    const file = join(dir, 'data.bin');
    await writeFile(file, 'data\n');
    // -p makes minisign check the signature against the public key before writing it.
    const signed = await minisign(['-S', '-s', secretKeyPath, '-p', publicKeyPath, '-m', file, '-t', 'by minisign'], {
      cwd: dir,
    });
    assert.equal(signed.code, 0, signed.stderr);
    assert.doesNotMatch(signed.stderr, /Password/);
    const { signature, publicKey } = await verifyFile(file, `${file}.minisig`, [
      await readPublicKeyFile(publicKeyPath),
    ]);
    assert.equal(publicKey.keyId, keyId);
    assert.equal(signature.trustedComment, 'by minisign');
    assert.equal(signature.algorithm, 'ED');

    const recreated = await minisign(['-R', '-s', secretKeyPath, '-p', join(dir, 'recreated.pub')], { cwd: dir });
    assert.equal(recreated.code, 0, recreated.stderr);
    // minisign -R prints the key id in the comment without leading zeros (1 key in 16 has one),
    // so the key line must match exactly and the comment's id as a number.
    const [recreatedComment, recreatedKey] = (await readFile(join(dir, 'recreated.pub'), 'utf8')).split('\n');
    const [kilnComment, kilnKey] = (await readFile(publicKeyPath, 'utf8')).split('\n');
    assert.equal(recreatedKey, kilnKey);
    const idOf = (comment: string | undefined): bigint => BigInt(`0x${/([0-9A-F]+)$/.exec(comment ?? '')?.[1] ?? 'x'}`);
    assert.equal(idOf(recreatedComment), idOf(kilnComment));
    assert.equal((await readPublicKeyFile(join(dir, 'recreated.pub'))).keyId, keyId);
  });
});

describe('Kiln verifies what minisign signs', () => {
  it('accepts a prehashed minisign signature, rejects a changed file, and signs with the minisign key', async () => {
    const generated = await minisign(['-G', '-W', '-p', 'mini.pub', '-s', 'mini.key'], { cwd: dir });
    assert.equal(generated.code, 0, generated.stderr);
    const file = join(dir, 'payload.bin');
    await writeFile(file, Buffer.alloc(300_000, 0x61));
    const signed = await minisign(['-S', '-s', 'mini.key', '-m', file], { cwd: dir });
    assert.equal(signed.code, 0, signed.stderr);

    const trusted = [await readPublicKeyFile(join(dir, 'mini.pub'))];
    const { signature } = await verifyFile(file, `${file}.minisig`, trusted);
    assert.equal(signature.algorithm, 'ED');
    assert.match(signature.trustedComment, /^timestamp:\d+\tfile:payload\.bin\thashed$/);
    assert.equal(signature.untrustedComment, 'signature from minisign secret key');

    await flipByte(file, 299_999);
    await assert.rejects(verifyFile(file, `${file}.minisig`, trusted), { code: 'E_SIGNATURE_INVALID' });

    // minisign -W writes an all-zero checksum; Kiln still reads the key and minisign accepts its signatures.
    const miniKey = join(dir, 'mini.key');
    assert.equal(isSecretKeyEncrypted(await readFile(miniKey, 'utf8')), false);
    const sk = await readSecretKeyFile(miniKey);
    assert.deepEqual(publicKeyOf(sk), trusted[0]);
    await writeFile(
      `${file}.minisig`,
      formatSignature(await signFile(file, sk, { trustedComment: 'kiln with a minisign key' })),
    );
    const verified = await minisign(['-Vm', file, '-p', 'mini.pub'], { cwd: dir });
    assert.equal(verified.code, 0, verified.stderr);
  });

  it('accepts a legacy (-l) minisign signature of a file, and refuses it changed as it refuses a prehashed one', async () => {
    assert.equal((await minisign(['-G', '-W', '-p', 'mini.pub', '-s', 'mini.key'], { cwd: dir })).code, 0);
    assert.equal((await minisign(['-G', '-W', '-p', 'other.pub', '-s', 'other.key'], { cwd: dir })).code, 0);
    const file = join(dir, 'legacy.bin');
    // Several stream chunks, so a legacy signature is checked over all of them.
    await writeFile(file, Buffer.alloc(300_000, 0x6c));
    const signed = await minisign(['-S', '-l', '-s', 'mini.key', '-m', file, '-t', 'legacy ✓'], { cwd: dir });
    assert.equal(signed.code, 0, signed.stderr);
    const sigPath = `${file}.minisig`;

    const trusted = [await readPublicKeyFile(join(dir, 'mini.pub'))];
    const { signature, publicKey } = await verifyFile(file, sigPath, trusted);
    assert.equal(signature.algorithm, 'Ed');
    assert.equal(signature.trustedComment, 'legacy ✓');
    assert.deepEqual(publicKey, trusted[0]);
    assert.deepEqual(verifyData(await readFile(file), signature, trusted, { source: sigPath }), trusted[0]);

    await assert.rejects(verifyFile(file, sigPath, [await readPublicKeyFile(join(dir, 'other.pub'))]), {
      code: 'E_SIGNATURE_UNTRUSTED',
    });
    const text = await readFile(sigPath, 'utf8');
    await writeFile(sigPath, text.replace('legacy ✓', 'legacy !'));
    await assert.rejects(verifyFile(file, sigPath, trusted), {
      code: 'E_SIGNATURE_INVALID',
      message: /trusted comment does not match/,
    });
    await writeFile(sigPath, text);
    await flipByte(file, 299_999);
    await assert.rejects(verifyFile(file, sigPath, trusted), {
      code: 'E_SIGNATURE_INVALID',
      message: /does not match the data/,
    });
    // minisign agrees on the changed file.
    assert.equal((await minisign(['-Vm', file, '-p', 'mini.pub'], { cwd: dir })).code, 1);
  });
});

describe('kiln verify checks what minisign -l signs', () => {
  it('accepts a legacy signature, and refuses a changed file, a changed comment, another key and an unknown algorithm', async () => {
    assert.equal((await minisign(['-G', '-W', '-p', 'mini.pub', '-s', 'mini.key'], { cwd: dir })).code, 0);
    assert.equal((await minisign(['-G', '-W', '-p', 'other.pub', '-s', 'other.key'], { cwd: dir })).code, 0);
    await writeFile(join(dir, 'release.tar'), 'a release signed the old way\n');
    const signed = await minisign(['-S', '-l', '-s', 'mini.key', '-m', 'release.tar', '-t', 'release 1.0'], {
      cwd: dir,
    });
    assert.equal(signed.code, 0, signed.stderr);
    const keyId = (await readPublicKeyFile(join(dir, 'mini.pub'))).keyId;

    const ok = await kiln(['verify', 'release.tar', '--trust', 'other.pub', '--trust', 'mini.pub'], { cwd: dir });
    assert.equal(ok.code, 0, ok.stderr);
    assert.equal(ok.stdout, `signature valid: release.tar signed by key ${keyId}\ntrusted comment: release 1.0\n`);
    const json = await kiln(['verify', 'release.tar', '--trust', 'mini.pub', '--json'], { cwd: dir });
    assert.deepEqual(parseJson(json.stdout), {
      file: 'release.tar',
      signature: 'release.tar.minisig',
      keyId,
      trustedComment: 'release 1.0',
    });

    const refused = async (args: string[], code: string, message: RegExp): Promise<void> => {
      const result = await kiln(['verify', ...args], { cwd: dir });
      assert.equal(result.code, 1, `${result.stdout}${result.stderr}`);
      assert.ok(result.stderr.includes(`error[${code}]`), result.stderr);
      assert.match(result.stderr, message);
    };
    await refused(
      ['release.tar', '--trust', 'other.pub'],
      'E_SIGNATURE_UNTRUSTED',
      new RegExp(`release\\.tar\\.minisig for release\\.tar: it was made by key ${keyId}`),
    );
    const text = await readFile(join(dir, 'release.tar.minisig'), 'utf8');
    await writeFile(
      join(dir, 'tampered.minisig'),
      text.replace('trusted comment: release 1.0', 'trusted comment: release 9.9'),
    );
    await refused(
      ['release.tar', '--trust', 'mini.pub', '--sig', 'tampered.minisig'],
      'E_SIGNATURE_INVALID',
      /tampered\.minisig for release\.tar by key .*: its trusted comment does not match/,
    );
    // Algorithm bytes that are neither "ED" nor "Ed" ("EE"), in an otherwise intact signature.
    const [untrusted, head, ...rest] = text.split('\n');
    const unknown = Buffer.from(head!, 'base64');
    unknown.write('EE', 0, 'latin1');
    await writeFile(join(dir, 'unknown.minisig'), [untrusted, unknown.toString('base64'), ...rest].join('\n'));
    await refused(
      ['release.tar', '--trust', 'mini.pub', '--sig', 'unknown.minisig'],
      'E_SIGNATURE_FORMAT',
      /cannot read signature unknown\.minisig: unsupported signature algorithm "EE"/,
    );
    await writeFile(join(dir, 'release.tar'), 'a release signed the old way!\n');
    await refused(
      ['release.tar', '--trust', 'mini.pub'],
      'E_SIGNATURE_INVALID',
      /release\.tar\.minisig for release\.tar by key .*: it does not match the data/,
    );
  });
});

describe('a repository signed with minisign -l', () => {
  it('has its index and packages accepted by repo verify, sync and install, and a changed index refused', async () => {
    const run = async (args: string[], env: Record<string, string> = {}): Promise<string> => {
      const result = await kiln(args, { cwd: dir, env });
      assert.equal(result.code, 0, `kiln ${args.join(' ')}\n${result.stdout}${result.stderr}`);
      return result.stdout;
    };
    // minisign signs with Kiln's unencrypted key as it is, so the repository's own key makes the legacy signatures.
    const resign = async (data: string, sigPath: string, trustedComment: string): Promise<string> => {
      const signed = await minisign(
        [
          '-S',
          '-l',
          '-s',
          'keys/kiln.key',
          '-m',
          data,
          '-x',
          sigPath,
          '-c',
          'signature from kiln secret key',
          '-t',
          trustedComment,
        ],
        { cwd: dir },
      );
      assert.equal(signed.code, 0, signed.stderr);
      const text = await readFile(join(dir, sigPath), 'utf8');
      assert.equal(parseSignature(text, sigPath).algorithm, 'Ed');
      return text;
    };
    const [packed] = await packAll(dir, [
      { name: 'hello', version: '1.0', tree: { 'bin/hello': { content: '#!/bin/sh\necho hello\n', mode: 0o755 } } },
    ]);
    const pkgPath = join(dir, packed!);

    // The package's own signature, of its metadata.json, made again with -l: it has the same length, so it is replaced in place.
    const pkg = await openPackage(pkgPath);
    const kilnSignature = pkg.signatureText!;
    await writeFile(join(dir, 'metadata.json'), pkg.metadataBytes);
    const legacy = await resign(
      'metadata.json',
      'metadata.json.minisig',
      parseSignature(kilnSignature, 'package').trustedComment,
    );
    const bytes = await readFile(pkgPath);
    const at = bytes.indexOf(kilnSignature);
    assert.ok(at > 0 && legacy.length === kilnSignature.length);
    bytes.write(legacy, at, 'utf8');
    await writeFile(pkgPath, bytes);
    const inspected = parseJson(await run(['inspect', packed!, '--trust', 'keys/kiln.pub', '--json'])) as {
      signature: { status: string };
    };
    assert.equal(inspected.signature.status, 'valid');

    await publish(dir, [packed!]);
    const indexComment = parseSignature(
      await readFile(join(dir, 'repo/public/index.json.minisig'), 'utf8'),
      'index',
    ).trustedComment;
    assert.equal(indexComment, 'kiln index main serial 2');
    const indexSignature = await resign(
      'repo/public/indexes/2.json',
      'repo/public/indexes/2.json.minisig',
      indexComment,
    );
    await writeFile(join(dir, 'repo/public/index.json.minisig'), indexSignature);
    // The index in format v2, which clients read first: its root signed the same way.
    const rootSignature = await resign(
      'repo/public/indexes/2.v2.json',
      'repo/public/indexes/2.v2.json.minisig',
      'kiln index-v2 main serial 2',
    );
    await writeFile(join(dir, 'repo/public/index.v2.json.minisig'), rootSignature);
    assert.match(
      await run(['repo', 'verify', 'repo']),
      /repository main serial 2: index signed by key [0-9A-F]{16}, 1 package verified/,
    );

    const env = { KILN_PREFIX: join(dir, 'prefix') };
    await run(['init'], env);
    await run(['remote', 'add', 'main', `file://${join(dir, 'repo', 'public')}`, '--key', 'keys/kiln.pub'], env);
    assert.match(await run(['sync'], env), /main\s+updated\s+serial 2\s+1 package\b/);
    await run(['install', 'hello', '-y'], env);
    assert.equal(await readFile(join(dir, 'prefix/bin/hello'), 'utf8'), '#!/bin/sh\necho hello\n');

    await writeFile(
      join(dir, 'repo/public/index.v2.json.minisig'),
      rootSignature.replace('kiln index-v2 main serial 2', 'kiln index-v2 evil serial 2'),
    );
    const refused = await kiln(['sync'], { cwd: dir, env });
    assert.equal(refused.code, 1, refused.stdout);
    assert.match(
      refused.stderr,
      /error\[E_SIGNATURE_INVALID\].*indexes\/2\.v2\.json by key [0-9A-F]{16}: its trusted comment does not match/,
    );
  });
});

describe('encrypted secret keys', () => {
  it(
    'reads a key minisign encrypted (password fed twice on stdin), signs for minisign, and refuses a wrong password',
    SLOW,
    async () => {
      const generated = await minisign(['-G', '-p', 'enc.pub', '-s', 'enc.key'], { cwd: dir, input: 'pw\npw\n' });
      assert.equal(generated.code, 0, generated.stderr);
      assert.match(generated.stderr, /Password: \nPassword \(one more time\): \n/);
      const keyText = await readFile(join(dir, 'enc.key'), 'utf8');
      assert.equal(isSecretKeyEncrypted(keyText), true);

      const sk = await readSecretKeyFile(join(dir, 'enc.key'), { password: 'pw' });
      assert.deepEqual(publicKeyOf(sk), await readPublicKeyFile(join(dir, 'enc.pub')));
      const file = join(dir, 'file.txt');
      await writeFile(file, 'signed by kiln with a minisign key\n');
      await writeFile(`${file}.minisig`, formatSignature(await signFile(file, sk, { trustedComment: 'kiln' })));
      const verified = await minisign(['-Vm', file, '-p', 'enc.pub'], { cwd: dir });
      assert.equal(verified.code, 0, verified.stderr);
      assert.deepEqual(VERIFIED.exec(verified.stdout)?.[1], 'kiln');

      await assert.rejects(readSecretKeyFile(join(dir, 'enc.key'), { password: 'pw2' }), {
        name: 'KilnError',
        code: 'E_KEY_PASSWORD',
        message: `cannot decrypt secret key ${join(dir, 'enc.key')}: the password is wrong`,
      });
    },
  );

  it('writes an encrypted key that minisign signs with, given the password on stdin', SLOW, async () => {
    const { publicKeyPath, secretKeyPath } = await writeKeyPair(dir, { password: 'kiln password' });
    const keyText = await readFile(secretKeyPath, 'utf8');
    assert.equal(isSecretKeyEncrypted(keyText), true);
    // Minisign's default limits, so minisign spends what it would on its own keys.
    const bytes = Buffer.from(keyText.split('\n')[1]!, 'base64');
    assert.equal(bytes.readBigUInt64LE(38), 33554432n);
    assert.equal(bytes.readBigUInt64LE(46), 1073741824n);

    const file = join(dir, 'file.txt');
    await writeFile(file, 'signed by minisign with a kiln key\n');
    const signed = await minisign(['-S', '-s', secretKeyPath, '-m', file, '-t', 'minisign'], {
      cwd: dir,
      input: 'kiln password\n',
    });
    assert.equal(signed.code, 0, signed.stderr);
    const verified = await minisign(['-Vm', file, '-p', publicKeyPath], { cwd: dir });
    assert.equal(verified.code, 0, verified.stderr);
    const { signature } = await verifyFile(file, `${file}.minisig`, [await readPublicKeyFile(publicKeyPath)]);
    assert.equal(signature.trustedComment, 'minisign');
  });
});

describe('an in-memory key round trip minisign accepts', () => {
  it('uses formatSecretKey and formatPublicKey directly', async () => {
    const sk = generateKeyPair();
    await writeFile(join(dir, 'k.key'), await formatSecretKey(sk), { mode: 0o600 });
    await writeFile(join(dir, 'k.pub'), formatPublicKey(publicKeyOf(sk)));
    await writeFile(join(dir, 'f'), '');
    const signed = await minisign(['-S', '-s', 'k.key', '-p', 'k.pub', '-m', 'f'], { cwd: dir });
    assert.equal(signed.code, 0, signed.stderr);
    assert.deepEqual(
      verifyData(
        Buffer.alloc(0),
        parseSignature(await readFile(join(dir, 'f.minisig'), 'utf8'), 'f.minisig'),
        [publicKeyOf(sk)],
        { source: 'f.minisig' },
      ),
      publicKeyOf(sk),
    );
  });
});

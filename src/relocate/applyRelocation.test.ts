import * as assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { isKilnError } from '../errors/index.js';
import type { RelocationFile } from '../format/index.js';
import { PlaceholderScanner } from './PlaceholderScanner.js';
import { applyRelocation } from './applyRelocation.js';

const PH = '/opt/kiln-placeholder-0123456789';

/** The relocation row the packer would write for `content`. */
function rowFor(content: Buffer): RelocationFile {
  const scanner = new PlaceholderScanner(PH);
  scanner.push(content);
  const result = scanner.result();
  assert.ok(result !== undefined, 'the fixture holds no placeholder');
  return { path: 'f', ...result };
}

function slashes(count: number): string {
  return '/'.repeat(count);
}

describe('applyRelocation: text', () => {
  const text = Buffer.from(`prefix=${PH}\nconf=${PH}/etc/x.conf:${PH}/lib\n`);

  it('replaces every occurrence with a shorter prefix', () => {
    const row = rowFor(text);
    assert.equal(row.kind, 'text');
    const out = applyRelocation(text, row, PH, '/usr/local', 'share/x.pc');
    assert.equal(out.toString(), 'prefix=/usr/local\nconf=/usr/local/etc/x.conf:/usr/local/lib\n');
  });

  it('replaces every occurrence with a longer prefix', () => {
    const long = `/home/someone/with/a/very/long/path/to/a/kiln/prefix`;
    assert.ok(long.length > PH.length);
    const out = applyRelocation(text, rowFor(text), PH, long, 'share/x.pc');
    assert.equal(out.toString(), `prefix=${long}\nconf=${long}/etc/x.conf:${long}/lib\n`);
  });

  it('leaves the input buffer as it was', () => {
    const copy = Buffer.from(text);
    applyRelocation(text, rowFor(text), PH, '/p', 'share/x.pc');
    assert.ok(text.equals(copy));
  });
});

describe('applyRelocation: binary', () => {
  it('pads each of two occurrences in one string with "/", moving no byte', () => {
    const content = Buffer.from(`\u007fELF\0RPATH=${PH}/lib:${PH}/lib64\0tail\0`);
    const row = rowFor(content);
    assert.deepEqual(row.offsets.length, 2);
    assert.equal(row.kind, 'binary');
    const out = applyRelocation(content, row, PH, '/opt/x', 'bin/x');
    assert.equal(out.length, content.length);
    const pad = slashes(PH.length - '/opt/x'.length);
    assert.equal(out.toString('latin1'), `\u007fELF\0RPATH=/opt/x${pad}/lib:/opt/x${pad}/lib64\0tail\0`);
  });

  it('rewrites occurrences in separate strings each in place', () => {
    const content = Buffer.from(`${PH}/etc/x.conf\0\u0001\u0002${PH}\0${PH}/share\0`);
    const row = rowFor(content);
    assert.equal(row.offsets.length, 3);
    const out = applyRelocation(content, row, PH, '/real', 'bin/x');
    const pad = slashes(PH.length - '/real'.length);
    assert.equal(out.toString('latin1'), `/real${pad}/etc/x.conf\0\u0001\u0002/real${pad}\0/real${pad}/share\0`);
    assert.equal(out.length, content.length);
  });

  it('handles an occurrence at the end of the file', () => {
    const content = Buffer.from(`\0\0data\0${PH}/bin`);
    const out = applyRelocation(content, rowFor(content), PH, '/p', 'lib/libx.so');
    assert.equal(out.toString('latin1'), `\0\0data\0/p${slashes(PH.length - 2)}/bin`);
    assert.equal(out.length, content.length);
  });

  it('accepts a prefix exactly as long as the placeholder', () => {
    const prefix = `/${'q'.repeat(PH.length - 1)}`;
    const content = Buffer.from(`\0${PH}/x\0`);
    const out = applyRelocation(content, rowFor(content), PH, prefix, 'bin/x');
    assert.equal(out.toString('latin1'), `\0${prefix}/x\0`);
  });

  it('keeps bytes before the occurrence in the same string', () => {
    const content = Buffer.from(`\0--prefix=${PH}\0`);
    const out = applyRelocation(content, rowFor(content), PH, '/p', 'bin/x');
    assert.equal(out.toString('latin1'), `\0--prefix=/p${slashes(PH.length - 2)}\0`);
  });

  it('rejects a prefix longer than the placeholder with E_RELOCATE naming the file', () => {
    const content = Buffer.from(`\0${PH}/lib\0`);
    const prefix = `/${'l'.repeat(PH.length)}`;
    assert.throws(
      () => applyRelocation(content, rowFor(content), PH, prefix, 'bin/tool'),
      (error: unknown) => {
        assert.ok(isKilnError(error, 'E_RELOCATE'), `expected E_RELOCATE, got ${String(error)}`);
        assert.ok(error.message.startsWith(`cannot relocate bin/tool into ${prefix}: `), error.message);
        assert.match(error.hint ?? '', new RegExp(`at most ${PH.length} bytes`));
        return true;
      },
    );
  });
});

describe('applyRelocation: a table that does not match the file', () => {
  const content = Buffer.from(`\0${PH}/lib\0`);

  for (const [label, offsets, fragment] of [
    ['a wrong offset', [2], 'the placeholder is not at offset 2'],
    ['an offset past the end', [content.length - 3], 'is past the end of the file'],
    ['overlapping offsets', [1, 2], 'out of order or overlaps'],
  ] as const) {
    it(`rejects ${label} with E_PACKAGE_MANIFEST`, () => {
      for (const kind of ['text', 'binary'] as const) {
        assert.throws(
          () => applyRelocation(content, { path: 'bin/x', kind, offsets: [...offsets] }, PH, '/p', 'bin/x'),
          (error: unknown) => {
            assert.ok(isKilnError(error, 'E_PACKAGE_MANIFEST'), `expected E_PACKAGE_MANIFEST, got ${String(error)}`);
            assert.ok(error.message.startsWith('cannot relocate bin/x: '), error.message);
            assert.ok(error.message.includes(fragment), error.message);
            return true;
          },
        );
      }
    });
  }

  it('checks the offsets before the prefix length', () => {
    assert.throws(
      () =>
        applyRelocation(
          content,
          { path: 'bin/x', kind: 'binary', offsets: [0] },
          PH,
          `/${'l'.repeat(PH.length)}`,
          'bin/x',
        ),
      { code: 'E_PACKAGE_MANIFEST' },
    );
  });

  it('treats a prefix with a trailing "/" as a bug', () => {
    assert.throws(
      () => applyRelocation(content, rowFor(content), PH, '/p/', 'bin/x'),
      (error: unknown) => error instanceof Error && !isKilnError(error) && error.message.startsWith('Assertion failed'),
    );
  });
});

import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { isKilnError } from '../errors/index.js';
import type { TarEvent, TarHeader } from './tar.js';
import { TAR_BLOCK, TAR_END, TarParser, encodeTarHeader, tarHeaderSize, tarPadding } from './tar.js';

function archive(entries: { header: TarHeader; content?: Buffer }[]): Buffer {
  const parts: Buffer[] = [];
  for (const { header, content } of entries) {
    parts.push(encodeTarHeader(header));
    if (content) parts.push(content, Buffer.alloc(tarPadding(content.length)));
  }
  parts.push(TAR_END);
  return Buffer.concat(parts);
}

function file(path: string, content: string, extra: Partial<TarHeader> = {}): { header: TarHeader; content: Buffer } {
  const bytes = Buffer.from(content);
  return {
    header: {
      path,
      type: 'file',
      mode: 0o644,
      uname: 'root',
      gname: 'root',
      size: bytes.length,
      linkTarget: '',
      ...extra,
    },
    content: bytes,
  };
}

function parseAll(data: Buffer, chunkSize = data.length): { headers: TarHeader[]; contents: string[] } {
  const parser = new TarParser('test archive');
  const events: TarEvent[] = [];
  for (let i = 0; i < data.length; i += chunkSize) events.push(...parser.push(data.subarray(i, i + chunkSize)));
  parser.finish();
  const headers: TarHeader[] = [];
  const contents: string[] = [];
  let current: Buffer[] = [];
  for (const event of events) {
    if (event.kind === 'entry') {
      headers.push(event.header);
      current = [];
    } else if (event.kind === 'data') current.push(Buffer.from(event.chunk));
    else contents.push(Buffer.concat(current).toString());
  }
  return { headers, contents };
}

const longPath = `${'deep/'.repeat(40)}file.txt`;
const sample = archive([
  { header: { path: 'bin', type: 'dir', mode: 0o755, uname: 'root', gname: 'root', size: 0, linkTarget: '' } },
  file('bin/hello', 'hello world\n', { mode: 0o4755, uname: 'qmaild', gname: 'nofiles' }),
  file(longPath, 'x'.repeat(1000)),
  {
    header: {
      path: 'bin/link',
      type: 'symlink',
      mode: 0o777,
      uname: 'root',
      gname: 'root',
      size: 0,
      linkTarget: `../${'t'.repeat(150)}`,
    },
  },
  {
    header: {
      path: 'bin/hard',
      type: 'hardlink',
      mode: 0o4755,
      uname: 'qmaild',
      gname: 'nofiles',
      size: 0,
      linkTarget: 'bin/hello',
    },
  },
  file('empty', ''),
]);

test('tar: what the writer writes, the parser reads back, in any chunking', () => {
  for (const chunkSize of [1, 7, 100, 511, 512, 513, 4096, sample.length]) {
    const { headers, contents } = parseAll(sample, chunkSize);
    assert.deepEqual(
      headers.map((h) => [h.path, h.type, h.mode, h.uname, h.gname, h.size, h.linkTarget]),
      [
        ['bin', 'dir', 0o755, 'root', 'root', 0, ''],
        ['bin/hello', 'file', 0o4755, 'qmaild', 'nofiles', 12, ''],
        [longPath, 'file', 0o644, 'root', 'root', 1000, ''],
        ['bin/link', 'symlink', 0o777, 'root', 'root', 0, `../${'t'.repeat(150)}`],
        ['bin/hard', 'hardlink', 0o4755, 'qmaild', 'nofiles', 0, 'bin/hello'],
        ['empty', 'file', 0o644, 'root', 'root', 0, ''],
      ],
    );
    assert.deepEqual(contents, ['', 'hello world\n', 'x'.repeat(1000), '', '', '']);
  }
});

test('tar: the same entry always encodes to the same bytes, in whole blocks', () => {
  const header: TarHeader = { path: 'a/b', type: 'file', mode: 0o600, uname: 'u', gname: 'g', size: 5, linkTarget: '' };
  assert.ok(encodeTarHeader(header).equals(encodeTarHeader({ ...header })));
  assert.equal(encodeTarHeader({ ...header, path: longPath }).length % TAR_BLOCK, 0);
});

test('tar: GNU tar lists what Kiln writes, long names and owners included', () => {
  const dir = mkdtempSync(join(tmpdir(), 'kiln-tar-'));
  try {
    writeFileSync(join(dir, 'a.tar'), sample);
    const listing = spawnSync('tar', ['-tvf', join(dir, 'a.tar')], { encoding: 'utf8' });
    assert.equal(listing.status, 0, listing.stderr);
    assert.match(listing.stdout, /-rwsr-xr-x qmaild\/nofiles\s+12 1970-01-01 00:00 bin\/hello/);
    assert.ok(listing.stdout.includes(longPath), 'long pax path listed');
    assert.ok(listing.stdout.includes(`bin/link -> ../${'t'.repeat(150)}`), 'long link target listed');
    assert.match(listing.stdout, /bin\/hard link to bin\/hello/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

function expectError(data: Buffer, code: string, pattern: RegExp): void {
  assert.throws(
    () => parseAll(data),
    (error: unknown) => isKilnError(error) && error.code === code && pattern.test(error.message),
  );
}

function withBlock(mutate: (block: Buffer) => void, content = 'abc'): Buffer {
  const header = encodeTarHeader({
    path: 'x',
    type: 'file',
    mode: 0o644,
    uname: 'root',
    gname: 'root',
    size: content.length,
    linkTarget: '',
  });
  mutate(header);
  return Buffer.concat([header, Buffer.from(content), Buffer.alloc(tarPadding(content.length)), TAR_END]);
}

function rechecksum(block: Buffer): void {
  block.fill(0x20, 148, 156);
  let sum = 0;
  for (let i = 0; i < TAR_BLOCK; i++) sum += block[i]!;
  block.write(`${sum.toString(8).padStart(6, '0')}\u0000 `, 148, 'latin1');
}

test('tar: refuses a wrong header checksum', () => {
  expectError(
    withBlock((block) => (block[0] = 0x79)),
    'E_PACKAGE_FORMAT',
    /checksum/,
  );
});

test('tar: refuses device nodes and FIFOs', () => {
  for (const flag of ['3', '4', '6']) {
    expectError(
      withBlock((block) => {
        block.write(flag, 156, 'latin1');
        block.write('00000000000\u0000', 124, 'latin1');
        rechecksum(block);
      }, ''),
      'E_PACKAGE_FILETYPE',
      /device node|FIFO/,
    );
  }
});

test('tar: refuses global pax headers and unknown entry types', () => {
  expectError(
    withBlock((block) => {
      block.write('g', 156, 'latin1');
      rechecksum(block);
    }),
    'E_PACKAGE_FORMAT',
    /type flag/,
  );
  expectError(
    withBlock((block) => {
      block.write('L', 156, 'latin1');
      rechecksum(block);
    }),
    'E_PACKAGE_FORMAT',
    /type flag/,
  );
});

test('tar: refuses non-zero padding, junk after the end, and a missing end marker', () => {
  const good = withBlock(() => undefined);
  const padded = Buffer.from(good);
  padded[TAR_BLOCK + 10] = 1;
  expectError(padded, 'E_PACKAGE_FORMAT', /padding/);
  expectError(Buffer.concat([good, Buffer.from('junk')]), 'E_PACKAGE_FORMAT', /after the end/);
  expectError(good.subarray(0, good.length - TAR_BLOCK), 'E_PACKAGE_TRUNCATED', /ends early/);
  expectError(good.subarray(0, TAR_BLOCK + 1), 'E_PACKAGE_TRUNCATED', /ends early/);
});

test('tar: refuses a directory or link that carries content', () => {
  expectError(
    withBlock((block) => {
      block.write('5', 156, 'latin1');
      rechecksum(block);
    }),
    'E_PACKAGE_FORMAT',
    /with content/,
  );
});

test('tar: tarHeaderSize is the length encodeTarHeader produces, pax headers included', () => {
  const long = (n: number, unit = 'a') => unit.repeat(n);
  const headers: TarHeader[] = [];
  for (const type of ['file', 'dir', 'symlink', 'hardlink'] as const) {
    for (const path of [
      'x',
      long(99),
      long(100),
      long(101),
      `${long(60)}/${long(60)}`,
      long(40, 'é'),
      long(34, '€'),
      long(2000),
      long(9990),
    ]) {
      for (const linkTarget of type === 'symlink' || type === 'hardlink'
        ? ['t', long(100), long(101), long(51, 'ü'), long(5000)]
        : ['']) {
        for (const size of type === 'file' ? [0, 1, 0o77777777777, 0o77777777777 + 1, 2 ** 40] : [0]) {
          headers.push({ path, type, mode: 0o644, uname: 'root', gname: 'root', size, linkTarget });
        }
      }
    }
  }
  for (const header of headers)
    assert.equal(
      tarHeaderSize(header),
      encodeTarHeader(header).length,
      `${header.type} ${header.path.length} ${header.linkTarget.length} ${header.size}`,
    );
});

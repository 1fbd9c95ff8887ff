import * as assert from 'node:assert/strict';
import { test } from 'node:test';
import { PlaceholderScanner } from './PlaceholderScanner.js';

const PLACEHOLDER = '/opt/kiln-placeholder-0123456789';

function bruteForce(data: Buffer, needle: Buffer): number[] {
  const found: number[] = [];
  for (let i = 0; i + needle.length <= data.length; ) {
    if (data.subarray(i, i + needle.length).equals(needle)) {
      found.push(i);
      i += needle.length;
    } else i++;
  }
  return found;
}

test('PlaceholderScanner: finds every occurrence whatever the chunk boundaries', () => {
  const needle = Buffer.from(PLACEHOLDER);
  const data = Buffer.concat([
    Buffer.from('prefix='),
    needle,
    Buffer.from('/etc/x.conf\n'),
    needle,
    needle,
    Buffer.from('\npartial /opt/kiln-placeholder-01234 end\n'),
    needle,
  ]);
  const expected = bruteForce(data, needle);
  assert.equal(expected.length, 4);
  for (let size = 1; size <= data.length; size++) {
    const scanner = new PlaceholderScanner(PLACEHOLDER);
    for (let i = 0; i < data.length; i += size) scanner.push(data.subarray(i, i + size));
    assert.deepEqual(scanner.result(), { kind: 'text', offsets: expected }, `chunk size ${size}`);
  }
});

test('PlaceholderScanner: a NUL byte makes the file binary', () => {
  const scanner = new PlaceholderScanner(PLACEHOLDER);
  scanner.push(
    Buffer.concat([Buffer.from('\u007fELF\u0000\u0000'), Buffer.from(`${PLACEHOLDER}/etc/nginx.conf\u0000`)]),
  );
  assert.deepEqual(scanner.result(), { kind: 'binary', offsets: [6] });
});

test('PlaceholderScanner: no occurrence, no relocation row', () => {
  const scanner = new PlaceholderScanner(PLACEHOLDER);
  scanner.push(Buffer.from('nothing to see /opt/kiln-placeholder'));
  assert.equal(scanner.result(), undefined);
});

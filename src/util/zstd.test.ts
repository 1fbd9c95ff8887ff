import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { test } from 'node:test';
import { ZstdDataError, ZstdDecoder, ZstdEncoder } from './zstd.js';

function compress(data: Buffer, chunk: number): Buffer {
  const encoder = new ZstdEncoder(3);
  const out: Buffer[] = [];
  for (let i = 0; i < data.length; i += chunk) out.push(...encoder.push(data.subarray(i, i + chunk)));
  out.push(...encoder.end());
  return Buffer.concat(out);
}

function decompress(data: Buffer, chunk: number): Buffer {
  const decoder = new ZstdDecoder();
  const out: Buffer[] = [];
  for (let i = 0; i < data.length; i += chunk) out.push(...decoder.push(data.subarray(i, i + chunk)));
  decoder.end();
  return Buffer.concat(out);
}

const sample = Buffer.concat([randomBytes(300_000), Buffer.alloc(500_000, 'a'), randomBytes(1000)]);

test('zstd: round trip in any chunking', () => {
  for (const chunk of [1000, 65_536, 1 << 20]) {
    const packed = compress(sample, chunk);
    for (const readChunk of [1, 333, 100_000, packed.length]) {
      if (readChunk === 1 && chunk !== 1000) continue;
      assert.ok(decompress(packed, readChunk).equals(sample), `write ${chunk}, read ${readChunk}`);
    }
  }
});

test('zstd: the zstd command reads what the encoder writes, and the decoder reads what zstd writes', () => {
  const packed = compress(sample, 65_536);
  const viaTool = spawnSync('zstd', ['-dc'], { input: packed, maxBuffer: 1 << 24 });
  assert.equal(viaTool.status, 0, `${String(viaTool.error)} ${String(viaTool.stderr)}`);
  assert.ok(viaTool.stdout.equals(sample));
  const byTool = spawnSync('zstd', ['-c', '-19'], { input: sample, maxBuffer: 1 << 24 });
  assert.equal(byTool.status, 0);
  assert.ok(decompress(byTool.stdout, 4096).equals(sample));
});

test('zstd: truncated or corrupt input is a ZstdDataError', () => {
  const packed = compress(sample, 65_536);
  assert.throws(() => decompress(packed.subarray(0, packed.length - 10), 4096), ZstdDataError);
  const corrupt = Buffer.from(packed);
  corrupt[Math.floor(corrupt.length / 2)]! ^= 0xff;
  assert.throws(() => decompress(corrupt, 4096), ZstdDataError);
  assert.throws(() => decompress(Buffer.from('not zstd at all'), 4096), ZstdDataError);
});

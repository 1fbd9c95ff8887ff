import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { test } from 'node:test';
import { ZstdDataError, ZstdDecoder, ZstdEncoder, compressOnce, decompressBounded } from './zstd.js';

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
  for (let i = 0; i < data.length; i += chunk)
    decoder.push(data.subarray(i, i + chunk), (piece) => out.push(Buffer.from(piece)));
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

/** What the zstd tool says of `data`: true when `zstd -t` accepts it. */
function zstdAccepts(data: Buffer): boolean {
  return spawnSync('zstd', ['-t', '-q'], { input: data }).status === 0;
}

test('zstd: frames that end on every output-slab and input-chunk boundary, one or several in a payload, decode as the zstd tool says', () => {
  const SLAB = 1 << 18;
  // Sizes around the decoder's slab (256 KiB) and its multiples, where a frame ends exactly at the end of the output room.
  const sizes = [0, 1, SLAB - 1, SLAB, SLAB + 1, 2 * SLAB, 3 * SLAB - 7, 3 * SLAB];
  const inputs: Buffer[] = [];
  for (const size of sizes) {
    const data = Buffer.concat([randomBytes(Math.min(size, 4096)), Buffer.alloc(Math.max(0, size - 4096), 'k')]);
    inputs.push(data);
  }
  for (const data of inputs) {
    const one = compress(data, 65_536);
    // Several frames in one payload: the same frame twice, and a frame then an empty one.
    const cases: [Buffer, Buffer][] = [
      [one, data],
      [Buffer.concat([one, one]), Buffer.concat([data, data])],
      [Buffer.concat([one, compress(Buffer.alloc(0), 1)]), data],
    ];
    for (const [packed, expected] of cases) {
      assert.ok(zstdAccepts(packed), `zstd -t accepts ${expected.length} bytes`);
      // Input chunks that end inside the frame, exactly at its end, and past it; install and repo add feed different sizes.
      for (const chunk of [1, 7, 4096, 65_536, one.length, packed.length]) {
        if (chunk === 1 && packed.length > 40_000) continue;
        const out = decompress(packed, chunk);
        assert.ok(
          out.equals(expected),
          `${expected.length} bytes in ${packed.length} compressed, fed ${chunk} at a time`,
        );
      }
    }
    // Cut anywhere inside the last frame: the tool refuses, and so does the decoder.
    for (const cut of [1, 5, Math.floor(one.length / 2)]) {
      const truncated = one.subarray(0, one.length - cut);
      assert.equal(zstdAccepts(truncated), false);
      assert.throws(() => decompress(truncated, 4096), ZstdDataError, `cut ${cut}`);
    }
  }
});

test('zstd: a sink that throws stops the decoder at once, however much one chunk would expand to', () => {
  const bomb = compress(Buffer.alloc(64 << 20), 1 << 20);
  assert.ok(bomb.length < 64 << 10);
  const decoder = new ZstdDecoder();
  let seen = 0;
  let pieces = 0;
  assert.throws(
    () =>
      decoder.push(bomb, (piece) => {
        seen += piece.length;
        pieces++;
        assert.ok(piece.length <= 1 << 18, 'no piece is larger than a slab');
        if (seen > 1 << 20) throw new Error('limit');
      }),
    /limit/,
  );
  assert.ok(seen <= (1 << 20) + (1 << 18), `stopped within a slab of the limit: ${seen}`);
  assert.ok(pieces >= 4);
});

test('compressOnce makes one frame that the decoders and the zstd tool read back, one call after another', () => {
  for (const input of [Buffer.alloc(0), Buffer.from('hello\n'.repeat(1000)), randomBytes(100_000)]) {
    const frame = compressOnce(input, 12);
    assert.deepEqual(decompressBounded(frame, input.length), input);
    if (input.length > 0) assert.equal(decompressBounded(frame, input.length - 1), undefined);
    const tool = spawnSync('zstd', ['-dc'], { input: frame });
    if (tool.error === undefined) assert.deepEqual(tool.stdout, input);
  }
});

/**
 * Synchronous streaming zstd over the native binding of `zstd-napi` (chosen
 * because it builds from source with node-gyp, vendors libzstd and exposes the
 * streaming API; Node 20's zlib has no zstd). Working chunk by chunk lets the
 * callers hash, count and parse in the same pass with no stream plumbing.
 */
import { createRequire } from 'node:module';
import type * as Binding from 'zstd-napi/binding.js';

// The binding is a CommonJS native module; load it the CommonJS way.
const binding = createRequire(import.meta.url)('zstd-napi/binding.js') as typeof Binding;

const EMPTY = Buffer.alloc(0);
/** Output is written into slabs and handed out as slices: no copy, few allocations. */
const SLAB_SIZE = 1 << 18;
const MIN_ROOM = 1 << 15;

/** Raised for corrupt or truncated compressed data; callers turn it into their own error. */
export class ZstdDataError extends Error {
  override name = 'ZstdDataError';
}

class Slab {
  private buffer: Buffer;
  private used = 0;
  private readonly minRoom: number;

  /**
   * @param first size of the first slab (small inputs need small output buffers; big ones fault in pages for nothing).
   * @param reuse write over the same slab again once it is full: for consumers that keep no slice after using it.
   */
  constructor(
    first = SLAB_SIZE,
    private readonly reuse = false,
  ) {
    this.buffer = Buffer.allocUnsafe(first);
    this.minRoom = Math.min(MIN_ROOM, Math.max(64, first >> 2));
  }

  /** Free space to write into (a fresh slab, or the same one again, when the current one is nearly full). */
  room(): Buffer {
    if (this.buffer.length - this.used < this.minRoom) {
      if (!this.reuse || this.buffer.length < SLAB_SIZE) this.buffer = Buffer.allocUnsafe(SLAB_SIZE);
      this.used = 0;
    }
    return this.buffer.subarray(this.used);
  }

  /** Claim `count` bytes just written into `room()`. */
  take(count: number): Buffer {
    const slice = this.buffer.subarray(this.used, this.used + count);
    this.used += count;
    return slice;
  }
}

let sharedContext: InstanceType<typeof binding.DCtx> | undefined;
/** The context and slab of transient decoders (one at a time per thread). */
let transientContext: InstanceType<typeof binding.DCtx> | undefined;
let transientSlab: Slab | undefined;
let sharedCompressor: InstanceType<typeof binding.CCtx> | undefined;

/**
 * Compress a whole input into one frame in one call, with a compression
 * context kept for the process: making a context per call costs about 0.2 ms
 * at level 12, which is most of the time for thousands of small files.
 */
export function compressOnce(input: Uint8Array, level: number): Buffer {
  sharedCompressor ??= new binding.CCtx();
  const out = Buffer.allocUnsafe(binding.compressBound(input.length));
  return out.subarray(0, sharedCompressor.compress(out, input, level));
}

/**
 * Decompress a whole input whose output may be at most `limit` bytes, in one
 * call into one buffer (no slabs, no stream state: what a small file known by
 * its size wants). Undefined when the output would be larger than `limit`.
 * @throws ZstdDataError for corrupt or truncated input.
 */
export function decompressBounded(input: Uint8Array, limit: number): Buffer | undefined {
  sharedContext ??= new binding.DCtx();
  const out = Buffer.allocUnsafe(limit + 1);
  let produced: number;
  try {
    produced = sharedContext.decompress(out, input);
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    if (/too small/i.test(message)) return undefined;
    throw new ZstdDataError(message);
  }
  return produced > limit ? undefined : out.subarray(0, produced);
}

/**
 * Decompress a whole input through the stream decoder, stopping as soon as
 * the output passes `limit` bytes: memory follows what the data holds, and a
 * bomb stops within a slab of the limit. Undefined when it passes the limit.
 * @throws ZstdDataError for corrupt or truncated input.
 */
export function decompressLimited(input: Uint8Array, limit: number): Buffer | undefined {
  const parts: Buffer[] = [];
  let total = 0;
  let over = false;
  const decoder = new ZstdDecoder();
  try {
    decoder.push(input, (output) => {
      total += output.length;
      if (total > limit) {
        over = true;
        throw new ZstdDataError('over the limit');
      }
      parts.push(Buffer.from(output));
    });
    decoder.end();
  } catch (error) {
    if (over) return undefined;
    throw error;
  }
  return Buffer.concat(parts, total);
}

/**
 * Incremental decompressor. `push` hands each piece of output to a sink as
 * soon as the decoder makes it, at most one slab (256 KiB) at a time, so a
 * sink that counts can stop a decompression bomb within a slab of its limit:
 * a small input chunk may expand to gigabytes, and none of it is held here.
 */
export class ZstdDecoder {
  private readonly dctx: InstanceType<typeof binding.DCtx>;
  private readonly slab: Slab;
  private frameOpen = false;

  /**
   * @param windowLogMax largest window accepted (bounds memory use on hostile input).
   * @param transient for one synchronous pass whose sink keeps no output slice after it returns (extraction writes
   * each piece, or copies it): the thread's one decompression context and one output slab are used again, instead
   * of new ones that only the garbage collector frees (measured: 511 MiB peak installing 300 packages in one
   * thread, most of it contexts and slabs waiting for collection). Never for decoders alive at the same time.
   */
  constructor(windowLogMax = 27, transient = false) {
    if (transient) {
      transientContext ??= new binding.DCtx();
      transientContext.reset(binding.ResetDirective.sessionAndParameters);
      transientSlab ??= new Slab(SLAB_SIZE, true);
      this.dctx = transientContext;
      this.slab = transientSlab;
    } else {
      this.dctx = new binding.DCtx();
      this.slab = new Slab();
    }
    this.dctx.setParameter(binding.DParameter.windowLogMax, windowLogMax);
  }

  /** Decompresses `input`, calling `sink` with each piece of output in order; an exception from the sink stops it. */
  push(input: Uint8Array, sink: (output: Buffer) => void): void {
    let rest = input;
    // Keep calling while there is input, or while the decoder filled the whole
    // room it was given (it may hold more output).
    for (;;) {
      const room = this.slab.room();
      const [hint, produced, consumed] = this.step(room, rest);
      rest = rest.subarray(consumed);
      // Only a call that did something tells where the frame stands: after a frame that ended
      // exactly at the end of the room, the extra call with no input reports the header the next
      // frame would need (a non-zero hint), not an open frame.
      if (produced > 0 || consumed > 0) this.frameOpen = hint !== 0;
      if (produced > 0) sink(this.slab.take(produced));
      if (rest.length === 0 && produced < room.length) return;
      if (consumed === 0 && produced === 0) throw new ZstdDataError('the decoder made no progress');
    }
  }

  /** Assert that the input ended at the end of a frame. */
  end(): void {
    if (this.frameOpen) throw new ZstdDataError('the compressed data ends in the middle of a frame');
  }

  private step(out: Buffer, input: Uint8Array): [number, number, number] {
    try {
      return this.dctx.decompressStream(out, input.length === 0 ? EMPTY : input);
    } catch (error) {
      // The binding throws plain Errors carrying libzstd's message for bad input.
      throw new ZstdDataError(error instanceof Error ? error.message : String(error));
    }
  }
}

/** Incremental compressor producing one zstd frame (with its content checksum). */
export class ZstdEncoder {
  private readonly cctx = new binding.CCtx();
  private readonly slab: Slab;

  /**
   * @param pledgedSize the exact number of bytes that will be pushed, when
   * known: zstd then sizes its tables to the input (much faster for small
   * packages) and records the size in the frame header.
   */
  constructor(level = 12, pledgedSize?: number) {
    this.cctx.setParameter(binding.CParameter.compressionLevel, level);
    this.cctx.setParameter(binding.CParameter.checksumFlag, 1);
    if (pledgedSize !== undefined) this.cctx.setPledgedSrcSize(pledgedSize);
    this.slab = new Slab(
      pledgedSize === undefined ? SLAB_SIZE : Math.min(SLAB_SIZE, Math.max(4096, pledgedSize + 512)),
    );
  }

  push(input: Uint8Array): Buffer[] {
    return this.run(input, binding.EndDirective.continue);
  }

  end(): Buffer[] {
    return this.run(EMPTY, binding.EndDirective.end);
  }

  private run(input: Uint8Array, directive: Binding.EndDirective): Buffer[] {
    const output: Buffer[] = [];
    let rest = input;
    for (;;) {
      const room = this.slab.room();
      const [remaining, produced, consumed] = this.cctx.compressStream2(room, rest, directive);
      if (produced > 0) output.push(this.slab.take(produced));
      rest = rest.subarray(consumed);
      const done =
        directive === binding.EndDirective.end ? remaining === 0 : rest.length === 0 && produced < room.length;
      if (done) return output;
    }
  }
}

/**
 * Read a package's payload: decompress, parse the tar, and check every entry
 * against the manifest (order, type, mode, owners, size, link target, sha256)
 * while a visitor consumes it — verification and extraction are one pass.
 *
 * Two ways in, one checker:
 * - `readPayload` streams the payload from the package file and hashes the
 *   compressed bytes as they go; when the payload is corrupt, that hash
 *   mismatch is what gets reported, as it is the clearest reason.
 * - `readPayloadBytes` takes the whole compressed payload in memory and checks
 *   its sha256 against the (signed) metadata *before* the visitor sees one
 *   entry, so an installer may write straight into the prefix: everything it
 *   writes is exactly what the signer packed.
 * - `readPayloadFileSync` does the same from the package file with bounded
 *   memory: a payload up to WHOLE_PAYLOAD_LIMIT is read whole; a bigger one is
 *   hashed in a first pass and read again, slice by slice, in a second. Given
 *   the file's pin (an install from an index), it checks the whole file's
 *   sha256 instead, computed in the one pass that feeds the visitor.
 */
import { createHash } from 'node:crypto';
import { closeSync, createReadStream, openSync } from 'node:fs';
import { KilnError } from '../errors/index.js';
import { readFullySync } from '../util/fs.js';
import { ZstdDataError, ZstdDecoder } from '../util/zstd.js';
import type { ManifestEntry, PackageMetadata } from './metadata.js';
import type { PackageFile } from './openPackage.js';
import { containerHead, containerTail } from './container.js';
import type { TarHeader } from './tar.js';
import { TarParser } from './tar.js';

export interface PayloadVisitor {
  /** An entry starts; for a regular file, `data` calls follow. */
  entry?(entry: ManifestEntry): void;
  data?(entry: ManifestEntry, chunk: Buffer): void;
  /** The entry is complete and its content matched its sha256. */
  end?(entry: ManifestEntry): void;
}

/** What the checker needs of a package: where it is (for messages) and its metadata. */
export type PayloadSource = Pick<PackageFile, 'path' | 'metadata'>;

/** Decompresses, parses and checks pushed compressed chunks against the manifest. */
class PayloadChecker {
  private readonly files: readonly ManifestEntry[];
  private readonly metadata: PackageMetadata;
  private readonly context: string;
  private readonly decoder: ZstdDecoder;
  private readonly parser: TarParser;
  private index = 0;
  private current: ManifestEntry | undefined;
  private fileHash: ReturnType<typeof createHash> | undefined;
  private produced = 0;

  /** @param transient one synchronous pass whose visitor keeps no data chunk (ZstdDecoder's transient). */
  constructor(
    source: PayloadSource,
    private readonly visitor: PayloadVisitor,
    transient = false,
  ) {
    this.decoder = new ZstdDecoder(undefined, transient);
    this.metadata = source.metadata;
    this.files = source.metadata.files;
    this.context = `cannot verify package ${source.path}`;
    this.parser = new TarParser(`the payload of ${source.path}`);
  }

  private mismatch(problem: string): never {
    throw new KilnError('E_PACKAGE_MANIFEST', `${this.context}: ${problem}`, {
      hint: 'the payload does not match the signed manifest; the package is not trustworthy',
    });
  }

  private onEntry(header: TarHeader): void {
    const entry = this.files[this.index];
    if (entry === undefined)
      this.mismatch(`the payload holds an entry "${header.path}" that the manifest does not list`);
    if (header.path !== entry.path)
      this.mismatch(`payload entry ${this.index + 1} is "${header.path}" but the manifest lists "${entry.path}"`);
    if (header.type !== entry.type) this.differs(entry, 'type', header.type, entry.type);
    if (header.mode !== entry.mode) this.differs(entry, 'mode', header.mode, entry.mode);
    if (header.uname !== entry.owner) this.differs(entry, 'uname', header.uname, entry.owner);
    if (header.gname !== entry.group) this.differs(entry, 'gname', header.gname, entry.group);
    if (header.size !== entry.size) this.differs(entry, 'size', header.size, entry.size);
    if (header.linkTarget !== (entry.target ?? ''))
      this.differs(entry, 'linkTarget', header.linkTarget, entry.target ?? '');
    this.current = entry;
    this.fileHash = entry.type === 'file' ? createHash('sha256') : undefined;
    this.visitor.entry?.(entry);
  }

  private differs(entry: ManifestEntry, key: string, found: unknown, expected: unknown): never {
    this.mismatch(
      `payload entry "${entry.path}" has ${key} ${JSON.stringify(found)} but the manifest says ${JSON.stringify(expected)}`,
    );
  }

  private onEnd(): void {
    const entry = this.current!;
    if (this.fileHash !== undefined && this.fileHash.digest('hex') !== entry.sha256) {
      throw new KilnError('E_PACKAGE_HASH', `${this.context}: the content of ${entry.path} does not match its sha256`, {
        hint: 'the package is corrupt or was altered',
      });
    }
    this.visitor.end?.(entry);
    this.current = undefined;
    this.index++;
  }

  push(chunk: Buffer): void {
    // Each piece of output is counted and parsed as the decoder makes it, so a bomb is refused
    // within one decoder slab of its declared size, whatever one compressed chunk expands to.
    this.decoder.push(chunk, (out) => {
      this.produced += out.length;
      if (this.produced > this.metadata.payload.uncompressedSize) {
        throw new KilnError(
          'E_PACKAGE_SIZE',
          `${this.context}: the payload decompresses to more than the ${this.metadata.payload.uncompressedSize} bytes it declares`,
          {
            hint: 'the package is malformed or hostile (a decompression bomb)',
          },
        );
      }
      for (const event of this.parser.push(out)) {
        if (event.kind === 'entry') this.onEntry(event.header);
        else if (event.kind === 'data') {
          this.fileHash?.update(event.chunk);
          this.visitor.data?.(this.current!, event.chunk);
        } else this.onEnd();
      }
    });
  }

  finish(): void {
    try {
      this.decoder.end();
      this.parser.finish();
    } catch (error) {
      throw zstdError(this.context, error);
    }
    if (this.index !== this.files.length)
      this.mismatch(`the payload ends after ${this.index} of the ${this.files.length} entries the manifest lists`);
    if (this.produced !== this.metadata.payload.uncompressedSize) {
      throw new KilnError(
        'E_PACKAGE_SIZE',
        `${this.context}: the payload decompresses to ${this.produced} bytes, not the ${this.metadata.payload.uncompressedSize} it declares`,
        { hint: 'the package is malformed' },
      );
    }
  }
}

function zstdError(context: string, error: unknown): unknown {
  if (error instanceof ZstdDataError) {
    return new KilnError('E_PACKAGE_FORMAT', `${context}: the payload is not valid zstd data (${error.message})`, {
      hint: 'the package is corrupt',
      cause: error,
    });
  }
  return error;
}

function truncated(source: PayloadSource, read: number, size: number): KilnError {
  return new KilnError(
    'E_PACKAGE_TRUNCATED',
    `cannot verify package ${source.path}: the payload ends after ${read} of ${size} bytes`,
    { hint: 'the file is incomplete; download or copy it again' },
  );
}

function payloadHashMismatch(source: PayloadSource): KilnError {
  return new KilnError(
    'E_PACKAGE_HASH',
    `cannot verify package ${source.path}: the payload does not match the sha256 in its metadata`,
    { hint: 'the package is corrupt or was altered; download it again' },
  );
}

export async function readPayload(pkg: PackageFile, visitor: PayloadVisitor = {}): Promise<void> {
  const compressedHash = createHash('sha256');
  const checker = new PayloadChecker(pkg, visitor);
  let read = 0;
  let failure: unknown;
  const stream = createReadStream(pkg.path, {
    start: pkg.payloadOffset,
    end: pkg.payloadOffset + pkg.payloadSize - 1,
    highWaterMark: 1 << 20,
  });
  for await (const raw of pkg.payloadSize === 0 ? [] : stream) {
    const chunk = raw as Buffer;
    read += chunk.length;
    compressedHash.update(chunk);
    if (failure !== undefined) continue;
    try {
      checker.push(chunk);
    } catch (error) {
      if (!(error instanceof KilnError) && !(error instanceof ZstdDataError)) throw error;
      failure = error;
    }
  }
  if (pkg.payloadSize === 0) stream.destroy();
  if (read !== pkg.payloadSize) throw truncated(pkg, read, pkg.payloadSize);
  if (compressedHash.digest('hex') !== pkg.metadata.payload.sha256) throw payloadHashMismatch(pkg);
  if (failure !== undefined) throw zstdError(`cannot verify package ${pkg.path}`, failure);
  checker.finish();
}

/** Input slices fed to the decoder: big enough to amortise calls, small enough to keep output slabs warm. */
const FEED = 1 << 18;

/**
 * The whole compressed payload in memory: its sha256 is checked before the
 * visitor sees anything. Every file's content is hashed as it passes and
 * checked against the manifest when the file ends, as everything else an
 * entry declares (name, type, mode, owners, size, link target): a package
 * signed with an inconsistent manifest is refused at install too, not only
 * by `kiln repo add` and `kiln inspect`. The visitor has then been given the
 * file; the caller rolls back what it wrote.
 */
export function readPayloadBytes(source: PayloadSource, payload: Buffer, visitor: PayloadVisitor = {}): void {
  checkWhole(source, payload, visitor, false);
}

/** @param pin given, the file's sha256 is checked against it instead of the payload's against the metadata. */
function checkWhole(
  source: PayloadSource,
  payload: Buffer,
  visitor: PayloadVisitor,
  transient: boolean,
  pin?: FilePin,
): void {
  const size = source.metadata.payload.size;
  if (payload.length !== size) throw truncated(source, payload.length, size);
  if (pin !== undefined) {
    if (fileHashOf(source, pin, payload).digest('hex') !== pin.sha256) throw pinMismatch(source, pin);
  } else if (createHash('sha256').update(payload).digest('hex') !== source.metadata.payload.sha256)
    throw payloadHashMismatch(source);
  const checker = new PayloadChecker(source, visitor, transient);
  try {
    feed(checker, payload);
  } catch (error) {
    throw zstdError(`cannot verify package ${source.path}`, error);
  }
  checker.finish();
}

/**
 * Payloads up to this many bytes are read whole by `readPayloadFileSync`; bigger ones in slices of SLICE (read twice,
 * from the page cache the second time). Measured on 300 packages, two threads: 16 MiB 194 MiB peak, 4 MiB 177 MiB,
 * no slower.
 */
export const WHOLE_PAYLOAD_LIMIT = 4 * 1024 * 1024;
const SLICE = 1 << 20;
/** The thread's buffers for `readPayloadFileSync`, used again by the next package (the reads are synchronous). */
let wholeBuffer = Buffer.alloc(0);
let sliceBuffer: Buffer | undefined;

/** Where a payload lies in its package file. */
export type PayloadLocation = PayloadSource & Pick<PackageFile, 'payloadOffset' | 'payloadSize'>;

/**
 * What a signed index pins of a package file (its sha256), and the metadata
 * and signature entries as they were read when the package was opened (the
 * metadata the extraction is given was parsed from exactly these bytes). The
 * container is canonical, so they make its head, and the file's sha256 covers
 * exactly what extraction uses.
 */
export interface FilePin {
  sha256: string;
  metadata: Uint8Array;
  signature: Uint8Array | undefined;
}

/** A Buffer over the same memory (a Uint8Array that crossed to a worker thread is no longer a Buffer). */
const bufferOf = (bytes: Uint8Array): Buffer => Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);

/** The sha256 of the whole file being computed: the head, then the payload bytes given (more may follow). */
function fileHashOf(source: PayloadSource, pin: FilePin, payload?: Buffer): ReturnType<typeof createHash> {
  const signature = pin.signature === undefined ? undefined : bufferOf(pin.signature);
  const head = containerHead(bufferOf(pin.metadata), signature, source.metadata.payload.size);
  const hash = createHash('sha256').update(head);
  return payload === undefined ? hash : hash.update(payload).update(containerTail(payload.length));
}

function pinMismatch(source: PayloadSource, pin: FilePin): KilnError {
  return new KilnError(
    'E_INDEX_MISMATCH',
    `cannot install from ${source.path}: it is not the package file the index pins (sha256 ${pin.sha256})`,
    { hint: 'the file changed after it was downloaded, or the repository is inconsistent; nothing was changed' },
  );
}

export interface ReadPayloadOptions {
  /** Payloads up to this many bytes are read whole (default WHOLE_PAYLOAD_LIMIT). */
  wholeLimit?: number;
  /**
   * Check the package file against its pin in the one pass that reads the
   * payload (FilePin), instead of the payload against the metadata's sha256.
   */
  pin?: FilePin;
}

/**
 * `readPayloadBytes` from the package file, holding at most `wholeLimit`
 * bytes of the payload.
 *
 * Without a pin, a bigger payload's sha256 is checked in a first pass over the
 * file, before the visitor sees anything, and the second pass reads it again
 * one slice at a time.
 *
 * With a pin (an installer's case: the signed index pins the file), the
 * file's sha256 is computed from the metadata and signature as they were
 * opened and the payload as it is read, and checked (E_INDEX_MISMATCH): for a
 * payload up to `wholeLimit` before the visitor sees anything, for a bigger
 * one at the end of the single pass that feeds the visitor.
 *
 * Either way every entry is checked against the manifest as it streams (each
 * file's sha256 when it ends); the caller rolls back what it wrote when an
 * error is raised. A data chunk given to the visitor is valid only during
 * that call: the buffers behind it are used again (write it or copy it).
 */
export function readPayloadFileSync(
  source: PayloadLocation,
  visitor: PayloadVisitor = {},
  options: ReadPayloadOptions = {},
): void {
  const { wholeLimit = WHOLE_PAYLOAD_LIMIT, pin } = options;
  const size = source.metadata.payload.size;
  const fd = openSync(source.path, 'r');
  try {
    const readAt = (buffer: Buffer, at: number): number => readFullySync(fd, buffer, source.payloadOffset + at);
    const stored = Math.min(source.payloadSize, size);
    if (size <= wholeLimit) {
      if (wholeBuffer.length < stored) wholeBuffer = Buffer.allocUnsafe(Math.max(stored, 2 * wholeBuffer.length));
      const payload = wholeBuffer.subarray(0, stored);
      checkWhole(source, payload.subarray(0, readAt(payload, 0)), visitor, true, pin);
      return;
    }
    sliceBuffer ??= Buffer.allocUnsafe(SLICE);
    const slice = sliceBuffer;
    if (pin !== undefined) {
      readPinnedSlices(source, visitor, pin, slice, readAt);
      return;
    }
    const hash = createHash('sha256');
    const read = eachSlice(slice, stored, readAt, (piece) => hash.update(piece));
    if (read !== size) throw truncated(source, read, size);
    if (hash.digest('hex') !== source.metadata.payload.sha256) throw payloadHashMismatch(source);
    const checker = new PayloadChecker(source, visitor, true);
    let again: number;
    try {
      again = eachSlice(slice, size, readAt, (piece) => feed(checker, piece));
    } catch (error) {
      throw zstdError(`cannot verify package ${source.path}`, error);
    }
    if (again !== size) throw truncated(source, again, size);
    checker.finish();
  } finally {
    closeSync(fd);
  }
}

/** Reads the payload's first `size` bytes into `slice`, one slice at a time, giving each to `use`; returns the bytes read. */
function eachSlice(
  slice: Buffer,
  size: number,
  readAt: (buffer: Buffer, at: number) => number,
  use: (piece: Buffer) => void,
): number {
  let at = 0;
  while (at < size) {
    const got = readAt(slice.subarray(0, Math.min(SLICE, size - at)), at);
    if (got === 0) break;
    use(slice.subarray(0, got));
    at += got;
  }
  return at;
}

/** Pushes a piece to the checker in FEED-sized inputs. */
function feed(checker: PayloadChecker, piece: Buffer): void {
  for (let from = 0; from < piece.length; from += FEED) checker.push(piece.subarray(from, from + FEED));
}

/**
 * One pass over a pinned payload in slices: each slice is hashed into the
 * file's sha256 and fed to the checker. When the checker refuses an entry, the
 * rest is still hashed so that a file which is not the pinned one is reported
 * as that (the clearest reason, and the one an installer acts on: it downloads
 * the file again).
 */
function readPinnedSlices(
  source: PayloadLocation,
  visitor: PayloadVisitor,
  pin: FilePin,
  slice: Buffer,
  readAt: (buffer: Buffer, at: number) => number,
): void {
  const size = source.metadata.payload.size;
  const hash = fileHashOf(source, pin);
  const checker = new PayloadChecker(source, visitor, true);
  let refused: unknown;
  const read = eachSlice(slice, size, readAt, (piece) => {
    hash.update(piece);
    if (refused !== undefined) return;
    try {
      feed(checker, piece);
    } catch (error) {
      if (!(error instanceof KilnError) && !(error instanceof ZstdDataError)) throw error;
      refused = error;
    }
  });
  if (read !== size) throw truncated(source, read, size);
  if (hash.update(containerTail(size)).digest('hex') !== pin.sha256) throw pinMismatch(source, pin);
  if (refused !== undefined) throw zstdError(`cannot verify package ${source.path}`, refused);
  checker.finish();
}

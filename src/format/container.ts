/**
 * The outer container of a package: an uncompressed ustar archive whose
 * entries come in a fixed order, so that the metadata can be read from the
 * first few kilobytes without touching the payload (like gpkg and .conda):
 *
 *   kiln-package            "kiln-package 1\n" — the format marker and version
 *   metadata.json           canonical JSON (docs/format.md)
 *   metadata.json.minisig   minisign signature of metadata.json (optional)
 *   payload.tar.zst         zstd-compressed tar of the files
 *   two zero blocks
 *
 * Every header is canonical (depends only on entry name and size), so that a
 * change to any byte of a package is detected.
 */
import { KilnError } from '../errors/index.js';
import { readFullySync } from '../util/fs.js';
import { TAR_BLOCK, TAR_END, encodeTarHeader, tarPadding } from './tar.js';

export const MARKER_ENTRY = 'kiln-package';
export const METADATA_ENTRY = 'metadata.json';
export const SIGNATURE_ENTRY = 'metadata.json.minisig';
export const PAYLOAD_ENTRY = 'payload.tar.zst';
export const MARKER_CONTENT = 'kiln-package 1\n';

/** Limits on what is read into memory from an untrusted package. */
export const MAX_METADATA_BYTES = 64 * 1024 * 1024;
export const MAX_SIGNATURE_BYTES = 16 * 1024;
/** The ustar size field holds 11 octal digits. */
export const MAX_PAYLOAD_BYTES = 0o77777777777;

/** The canonical header of a container entry. */
export function containerHeader(name: string, size: number): Buffer {
  return encodeTarHeader({ path: name, type: 'file', mode: 0o644, uname: 'root', gname: 'root', size, linkTarget: '' });
}

/** Header + content + padding of a small in-memory entry. */
export function containerEntry(name: string, content: Buffer): Buffer {
  return Buffer.concat([containerHeader(name, content.length), content, Buffer.alloc(tarPadding(content.length))]);
}

export { TAR_END, tarPadding };

/**
 * The bytes of a package file before its payload: the marker, metadata and
 * signature entries and the payload's header. The container is canonical, so
 * these, the payload and `containerTail` are the whole file: its sha256 can be
 * computed from what was read and checked, without reading it again.
 */
export function containerHead(metadata: Buffer, signature: Buffer | undefined, payloadSize: number): Buffer {
  return Buffer.concat([
    containerEntry(MARKER_ENTRY, Buffer.from(MARKER_CONTENT, 'latin1')),
    containerEntry(METADATA_ENTRY, metadata),
    ...(signature === undefined ? [] : [containerEntry(SIGNATURE_ENTRY, signature)]),
    containerHeader(PAYLOAD_ENTRY, payloadSize),
  ]);
}

/** The bytes of a package file after its payload: the payload's padding and the end-of-archive marker. */
export function containerTail(payloadSize: number): Buffer {
  return Buffer.concat([Buffer.alloc(tarPadding(payloadSize)), TAR_END]);
}

export interface ContainerLayout {
  metadataBytes: Buffer;
  /** The signature entry as stored (its text is `signatureText`). */
  signatureBytes: Buffer | undefined;
  signatureText: string | undefined;
  payloadOffset: number;
  payloadSize: number;
}

/**
 * Read the layout of a package: the small entries in full, the payload's
 * position only. Refuses anything that is not exactly what Kiln writes.
 * Synchronous: a few small reads of a local file, cheaper than as many
 * promises (measured on 300 packages: 116 ms of the main thread's time).
 */
export function readContainer(fd: number, fileSize: number, source: string): ContainerLayout {
  const context = `cannot read package ${source}`;
  const malformed = (problem: string, hint = 'the file is not a Kiln package, or it was altered'): never => {
    throw new KilnError('E_PACKAGE_FORMAT', `${context}: ${problem}`, { hint });
  };
  const readAt = (position: number, length: number, what: string): Buffer => {
    if (position + length > fileSize) {
      throw new KilnError('E_PACKAGE_TRUNCATED', `${context}: the file ends at byte ${fileSize}, inside ${what}`, {
        hint: 'the file is incomplete; download or copy it again',
      });
    }
    const buffer = Buffer.alloc(length);
    if (readFullySync(fd, buffer, position) < length) {
      throw new KilnError('E_PACKAGE_TRUNCATED', `${context}: the file ended while reading ${what}`, {
        hint: 'the file is incomplete; download or copy it again',
      });
    }
    return buffer;
  };

  let position = 0;
  const readEntryHeader = (what: string): { name: string; size: number } => {
    const block = readAt(position, TAR_BLOCK, `the header of ${what}`);
    const nameEnd = block.indexOf(0);
    const name = block.toString('latin1', 0, nameEnd < 0 || nameEnd > 100 ? 100 : nameEnd);
    const sizeText = block.toString('latin1', 124, 135);
    if (block.toString('latin1', 257, 263) !== 'ustar\u0000' || !/^[0-7]{11}$/.test(sizeText)) {
      malformed(
        position === 0 ? 'it is not a Kiln package (no tar header at the start)' : `the header of ${what} is malformed`,
      );
    }
    const size = parseInt(sizeText, 8);
    if (!block.equals(containerHeader(name, size))) malformed(`the header of entry "${name}" is not in canonical form`);
    position += TAR_BLOCK;
    return { name, size };
  };
  const readEntryContent = (name: string, size: number, limit: number): Buffer => {
    if (size > limit) {
      throw new KilnError(
        'E_PACKAGE_SIZE',
        `${context}: entry "${name}" is ${size} bytes, more than the limit of ${limit}`,
        { hint: 'the package is malformed or hostile' },
      );
    }
    const content = readAt(position, size + tarPadding(size), `entry "${name}"`);
    if (!isZero(content.subarray(size))) malformed(`the padding after entry "${name}" is not zero`);
    position += content.length;
    return content.subarray(0, size);
  };

  const marker = readEntryHeader('the format marker');
  if (marker.name !== MARKER_ENTRY)
    malformed(`it is not a Kiln package (its first entry is "${marker.name}", not "${MARKER_ENTRY}")`);
  const markerText = readEntryContent(marker.name, marker.size, 64).toString('latin1');
  if (markerText !== MARKER_CONTENT) {
    const match = /^kiln-package (\d+)\n$/.exec(markerText);
    if (match)
      malformed(
        `package format version ${match[1]} is not supported (this Kiln reads version 1)`,
        'upgrade Kiln to read newer packages',
      );
    malformed('its format marker is not "kiln-package 1"');
  }
  const meta = readEntryHeader(METADATA_ENTRY);
  if (meta.name !== METADATA_ENTRY) malformed(`entry "${meta.name}" is where "${METADATA_ENTRY}" must be`);
  const metadataBytes = readEntryContent(meta.name, meta.size, MAX_METADATA_BYTES);
  let next = readEntryHeader('the signature or payload');
  let signatureBytes: Buffer | undefined;
  if (next.name === SIGNATURE_ENTRY) {
    signatureBytes = readEntryContent(next.name, next.size, MAX_SIGNATURE_BYTES);
    next = readEntryHeader(PAYLOAD_ENTRY);
  }
  if (next.name !== PAYLOAD_ENTRY) malformed(`entry "${next.name}" is where "${PAYLOAD_ENTRY}" must be`);
  const payloadOffset = position;
  const payloadSize = next.size;
  position += payloadSize + tarPadding(payloadSize);
  const tail = readAt(payloadOffset + payloadSize, tarPadding(payloadSize) + TAR_END.length, 'the end of the payload');
  if (!isZero(tail)) malformed('the payload is not followed by zero padding and the end-of-archive marker');
  position += TAR_END.length;
  if (fileSize > position) malformed(`${fileSize - position} bytes of data follow the end of the package`);
  return {
    metadataBytes,
    signatureBytes,
    signatureText: signatureBytes?.toString('utf8'),
    payloadOffset,
    payloadSize,
  };
}

function isZero(data: Buffer): boolean {
  for (let i = 0; i < data.length; i++) if (data[i] !== 0) return false;
  return true;
}

/**
 * Moving a file's relocated occurrences from one prefix to another, by the
 * offsets its relocation row gives: the pure half of a bundle's relocation,
 * which `kiln bundle` uses to make a file's canonical form and `bundle verify`
 * to undo an unpacked file's relocation. The bundle's own `kiln-relocate`
 * script does the same in POSIX shell (relocateScript.ts).
 */
import { KilnError } from '../errors/index.js';

export interface OccurrenceRow {
  kind: 'text' | 'binary';
  /** Offsets of the occurrences in the file's form whose prefix was `baseLength` bytes long. */
  offsets: readonly number[];
  /** The length of the prefix the offsets were taken with. */
  baseLength: number;
  /** Bytes each binary occurrence has: the placeholder's length at build time (a prefix is padded with "/" to it). */
  room: number;
  /**
   * The file's size in the form the offsets were taken in, when known: a text
   * file's size then tells which of two prefixes it holds even when one starts
   * with the other.
   */
  baseSize?: number;
}

/** `prefix` followed by "/" up to `room` bytes: what a binary occurrence holds. */
export function paddedPrefix(prefix: string, room: number): Buffer {
  const bytes = Buffer.from(prefix, 'utf8');
  if (bytes.length > room) throw new Error(`Assertion failed: ${prefix} is longer than ${room} bytes`);
  const padded = Buffer.alloc(room, '/');
  bytes.copy(padded);
  return padded;
}

/**
 * Where each occurrence of a file holding `prefix` starts: a binary one where
 * the row says, a text one shifted by what the earlier occurrences grew or
 * shrank.
 * @example occurrenceStarts({ kind: 'text', offsets: [0, 20], baseLength: 10, room: 10 }, 4) // [0, 14]
 */
export function occurrenceStarts(row: OccurrenceRow, prefixLength: number): number[] {
  if (row.kind === 'binary') return [...row.offsets];
  return row.offsets.map((offset, i) => offset + i * (prefixLength - row.baseLength));
}

/** True when every occurrence of `content` holds `prefix` where the row puts it. */
export function holdsPrefix(content: Buffer, row: OccurrenceRow, prefix: string): boolean {
  const needle = row.kind === 'binary' ? tryPad(prefix, row.room) : Buffer.from(prefix, 'utf8');
  if (needle === undefined) return false;
  if (row.kind === 'text' && row.baseSize !== undefined) {
    const size = row.baseSize + row.offsets.length * (Buffer.byteLength(prefix) - row.baseLength);
    if (content.length !== size) return false;
  }
  let end = 0;
  for (const start of occurrenceStarts(row, Buffer.byteLength(prefix))) {
    if (start < end || start + needle.length > content.length) return false;
    if (!content.subarray(start, start + needle.length).equals(needle)) return false;
    end = start + needle.length;
  }
  return true;
}

function tryPad(prefix: string, room: number): Buffer | undefined {
  return Buffer.byteLength(prefix) > room ? undefined : paddedPrefix(prefix, room);
}

/**
 * `content`, which holds `from` at the row's occurrences, holding `to`
 * instead. A text occurrence takes `to` whatever its length; a binary one
 * takes `to` padded with "/" to the row's room, and a longer `to` is refused
 * (E_RELOCATE). `where` names the file in messages; a file that does not hold
 * `from` where the row says is E_BUNDLE.
 */
export function moveOccurrences(content: Buffer, row: OccurrenceRow, from: string, to: string, where: string): Buffer {
  if (!holdsPrefix(content, row, from)) {
    throw new KilnError('E_BUNDLE', `${where} does not hold ${JSON.stringify(from)} where its relocation row says`, {
      hint: 'the file was changed after it was installed or unpacked; "kiln verify" or "kiln-relocate --verify" names what changed',
    });
  }
  const toBytes = Buffer.from(to, 'utf8');
  if (row.kind === 'binary') {
    if (toBytes.length > row.room) {
      throw new KilnError(
        'E_RELOCATE',
        `cannot relocate ${where} into ${to}: the path is ${toBytes.length} bytes long and this binary file has room for ${row.room}`,
        { hint: `choose a directory whose path is at most ${row.room} bytes long` },
      );
    }
    const result = Buffer.from(content);
    const padded = paddedPrefix(to, row.room);
    for (const start of row.offsets) padded.copy(result, start);
    return result;
  }
  const fromLength = Buffer.byteLength(from);
  const parts: Buffer[] = [];
  let cursor = 0;
  for (const start of occurrenceStarts(row, fromLength)) {
    parts.push(content.subarray(cursor, start), toBytes);
    cursor = start + fromLength;
  }
  parts.push(content.subarray(cursor));
  return Buffer.concat(parts);
}

/** Every offset of `needle` in `content`, not overlapping, ascending. */
export function findAll(content: Buffer, needle: string): number[] {
  const bytes = Buffer.from(needle, 'utf8');
  const offsets: number[] = [];
  if (bytes.length === 0) return offsets;
  for (let at = content.indexOf(bytes); at >= 0; at = content.indexOf(bytes, at + bytes.length)) offsets.push(at);
  return offsets;
}

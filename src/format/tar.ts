/**
 * The subset of POSIX tar (ustar + pax extended headers) that Kiln writes and
 * reads: regular files, directories, symbolic links and hard links. Writing is
 * canonical — the same entry always gives the same bytes — which is what makes
 * packages reproducible. Reading is a pure push parser (`TarParser`) so that
 * the payload can be verified and extracted as a stream.
 */
import { KilnError } from '../errors/index.js';

export const TAR_BLOCK = 512;
/** The end-of-archive marker: two zero blocks. */
export const TAR_END = Buffer.alloc(TAR_BLOCK * 2);

export type TarEntryType = 'file' | 'dir' | 'symlink' | 'hardlink';

export interface TarHeader {
  path: string;
  type: TarEntryType;
  mode: number;
  uname: string;
  gname: string;
  /** Content size; 0 for anything but a regular file. */
  size: number;
  /** Link target (symlink text or, for a hard link, the path of the earlier entry). */
  linkTarget: string;
}

const TYPE_FLAGS: Record<TarEntryType, string> = { file: '0', dir: '5', symlink: '2', hardlink: '1' };
const MAX_OCTAL_SIZE = 0o77777777777;
/** Largest pax header accepted when reading: paths are limited to 4096 bytes anyway. */
const MAX_PAX_SIZE = 64 * 1024;

/** Bytes of zero padding after `size` bytes of content. */
export function tarPadding(size: number): number {
  const rest = size % TAR_BLOCK;
  return rest === 0 ? 0 : TAR_BLOCK - rest;
}

/**
 * The header block(s) for one entry: a pax extended header first when the path
 * or link target does not fit the ustar fields or the size needs more than 11
 * octal digits. uid, gid and mtime are always 0: owners travel by name.
 */
export function encodeTarHeader(header: TarHeader): Buffer {
  const path = header.type === 'dir' ? `${header.path}/` : header.path;
  const pax: [string, string][] = [];
  const pathBytes = Buffer.from(path, 'utf8');
  const linkBytes = Buffer.from(header.linkTarget, 'utf8');
  if (pathBytes.length > 100) pax.push(['path', path]);
  if (linkBytes.length > 100) pax.push(['linkpath', header.linkTarget]);
  if (header.size > MAX_OCTAL_SIZE) pax.push(['size', String(header.size)]);
  const main = ustarBlock({
    name: pathBytes.length > 100 ? Buffer.from(`kiln-long-path`) : pathBytes,
    mode: header.mode,
    size: header.size > MAX_OCTAL_SIZE ? 0 : header.size,
    typeFlag: TYPE_FLAGS[header.type],
    linkName: linkBytes.length > 100 ? Buffer.alloc(0) : linkBytes,
    uname: header.uname,
    gname: header.gname,
  });
  if (pax.length === 0) return main;
  const records = Buffer.from(pax.map(([key, value]) => paxRecord(key, value)).join(''), 'utf8');
  const paxHeader = ustarBlock({
    name: Buffer.from('kiln-pax-header'),
    mode: 0o644,
    size: records.length,
    typeFlag: 'x',
    linkName: Buffer.alloc(0),
    uname: '',
    gname: '',
  });
  return Buffer.concat([paxHeader, records, Buffer.alloc(tarPadding(records.length)), main]);
}

/** The length of `encodeTarHeader(header)`, without encoding it. */
export function tarHeaderSize(header: TarHeader): number {
  const pathBytes = Buffer.byteLength(header.type === 'dir' ? `${header.path}/` : header.path, 'utf8');
  const linkBytes = Buffer.byteLength(header.linkTarget, 'utf8');
  let records = 0;
  if (pathBytes > 100) records += paxRecordLength('path', pathBytes);
  if (linkBytes > 100) records += paxRecordLength('linkpath', linkBytes);
  if (header.size > MAX_OCTAL_SIZE) records += paxRecordLength('size', String(header.size).length);
  return records === 0 ? TAR_BLOCK : TAR_BLOCK + records + tarPadding(records) + TAR_BLOCK;
}

/** Byte length of a pax record whose key is ASCII and whose value is `valueBytes` long. */
function paxRecordLength(key: string, valueBytes: number): number {
  const bodyLength = key.length + valueBytes + 3;
  let length = bodyLength + 1;
  while (String(length).length + bodyLength !== length) length++;
  return length;
}

interface UstarFields {
  name: Buffer;
  mode: number;
  size: number;
  typeFlag: string;
  linkName: Buffer;
  uname: string;
  gname: string;
}

function ustarBlock(fields: UstarFields): Buffer {
  const block = Buffer.alloc(TAR_BLOCK);
  fields.name.copy(block, 0, 0, 100);
  writeOctal(block, 100, 8, fields.mode);
  writeOctal(block, 108, 8, 0);
  writeOctal(block, 116, 8, 0);
  writeOctal(block, 124, 12, fields.size);
  writeOctal(block, 136, 12, 0);
  block.write(fields.typeFlag, 156, 'latin1');
  fields.linkName.copy(block, 157, 0, 100);
  block.write('ustar\u000000', 257, 'latin1');
  block.write(fields.uname, 265, 32, 'utf8');
  block.write(fields.gname, 297, 32, 'utf8');
  writeOctal(block, 329, 8, 0);
  writeOctal(block, 337, 8, 0);
  block.fill(0x20, 148, 156);
  const sum = checksum(block);
  block.write(`${sum.toString(8).padStart(6, '0')}\u0000 `, 148, 'latin1');
  return block;
}

function writeOctal(block: Buffer, offset: number, length: number, value: number): void {
  block.write(`${value.toString(8).padStart(length - 1, '0')}\u0000`, offset, length, 'latin1');
}

function checksum(block: Buffer): number {
  let sum = 0;
  for (let i = 0; i < TAR_BLOCK; i++) sum += i >= 148 && i < 156 ? 0x20 : block[i]!;
  return sum;
}

function paxRecord(key: string, value: string): string {
  const body = ` ${key}=${value}\n`;
  const bodyLength = Buffer.byteLength(body, 'utf8');
  let length = bodyLength + 1;
  while (String(length).length + bodyLength !== length) length++;
  return `${length}${body}`;
}

/** What the parser emits, in order: entry, data..., end, entry, ... */
export type TarEvent = { kind: 'entry'; header: TarHeader } | { kind: 'data'; chunk: Buffer } | { kind: 'end' };

type ParserState = 'header' | 'pax' | 'data' | 'padding' | 'eof1' | 'done';

/**
 * A strict streaming tar parser. Feed it chunks with `push`; call `finish` at
 * the end of input. Device nodes, FIFOs, global pax headers, GNU extensions
 * and malformed or non-zero padding are refused with a `KilnError` that names
 * `source`.
 */
export class TarParser {
  private state: ParserState = 'header';
  private pending = Buffer.alloc(0);
  private remaining = 0;
  private paxChunks: Buffer[] = [];
  private paxOverrides: Map<string, string> | undefined;
  private current: TarHeader | undefined;
  private afterData: ParserState = 'header';
  private contentSize = 0;

  constructor(private readonly source: string) {}

  push(chunk: Buffer): TarEvent[] {
    const events: TarEvent[] = [];
    let input = this.pending.length > 0 ? Buffer.concat([this.pending, chunk]) : chunk;
    this.pending = Buffer.alloc(0);
    while (input.length > 0) {
      switch (this.state) {
        case 'header':
        case 'eof1': {
          if (input.length < TAR_BLOCK) {
            this.pending = Buffer.from(input);
            return events;
          }
          const block = input.subarray(0, TAR_BLOCK);
          input = input.subarray(TAR_BLOCK);
          if (isZero(block)) {
            if (this.paxOverrides || this.paxChunks.length > 0) this.fail('a pax header is not followed by an entry');
            this.state = this.state === 'header' ? 'eof1' : 'done';
            continue;
          }
          if (this.state === 'eof1') this.fail('a lone zero block is followed by more entries');
          this.readHeader(block, events);
          break;
        }
        case 'pax':
        case 'data': {
          const take = Math.min(this.remaining, input.length);
          const piece = input.subarray(0, take);
          input = input.subarray(take);
          this.remaining -= take;
          if (this.state === 'pax') this.paxChunks.push(Buffer.from(piece));
          else if (take > 0) events.push({ kind: 'data', chunk: piece });
          if (this.remaining === 0) this.endContent(events);
          break;
        }
        case 'padding': {
          const take = Math.min(this.remaining, input.length);
          if (!isZero(input.subarray(0, take))) this.fail('non-zero bytes in the padding after an entry');
          input = input.subarray(take);
          this.remaining -= take;
          if (this.remaining === 0) this.state = this.afterData;
          break;
        }
        case 'done':
          if (!isZero(input)) this.fail('data after the end-of-archive marker');
          return events;
      }
    }
    return events;
  }

  /** Assert that the archive ended properly (its end-of-archive marker was read). */
  finish(): void {
    if (this.state !== 'done') {
      throw new KilnError(
        'E_PACKAGE_TRUNCATED',
        `cannot read ${this.source}: the archive ends early (no end-of-archive marker)`,
        {
          hint: 'the file is incomplete; download or copy it again',
        },
      );
    }
  }

  private readHeader(block: Buffer, events: TarEvent[]): void {
    const stored = parseNumber(block, 148, 8);
    if (stored === undefined || stored !== checksum(block)) this.fail('a header checksum is wrong');
    const magic = block.toString('latin1', 257, 263);
    if (magic !== 'ustar\u0000' && magic !== 'ustar ') this.fail('a header is not in ustar format');
    const flag = block.toString('latin1', 156, 157);
    const size = parseNumber(block, 124, 12);
    if (size === undefined) this.fail('a header has an unreadable size');
    if (flag === 'x') {
      if (size > MAX_PAX_SIZE) this.fail(`a pax header is larger than ${MAX_PAX_SIZE} bytes`);
      if (this.paxOverrides) this.fail('two pax headers in a row');
      this.startContent('pax', size, 'header');
      if (size === 0) this.endContent(events);
      return;
    }
    if (flag === '3' || flag === '4' || flag === '6') {
      const kind = flag === '6' ? 'a FIFO' : 'a device node';
      throw new KilnError('E_PACKAGE_FILETYPE', `cannot read ${this.source}: entry "${rawName(block)}" is ${kind}`, {
        hint: 'packages may hold only regular files, directories and links; the package is unsafe',
      });
    }
    const type = FLAG_TYPES[flag];
    if (type === undefined) this.fail(`entry "${rawName(block)}" has unsupported type flag ${JSON.stringify(flag)}`);
    const overrides = this.paxOverrides ?? new Map<string, string>();
    this.paxOverrides = undefined;
    const prefix = cString(block, 345, 155);
    let path = overrides.get('path') ?? (prefix ? `${prefix}/${cString(block, 0, 100)}` : cString(block, 0, 100));
    if (type === 'dir' && path.endsWith('/')) path = path.slice(0, -1);
    const paxSize = overrides.get('size');
    const contentSize = paxSize === undefined ? size : Number(paxSize);
    if (!Number.isSafeInteger(contentSize) || contentSize < 0) this.fail(`entry "${path}" has an invalid pax size`);
    const mode = parseNumber(block, 100, 8);
    if (mode === undefined || mode > 0o7777) this.fail(`entry "${path}" has an invalid mode`);
    if (type !== 'file' && contentSize !== 0) this.fail(`entry "${path}" is a ${type} with content`);
    const header: TarHeader = {
      path,
      type,
      mode,
      uname: cString(block, 265, 32),
      gname: cString(block, 297, 32),
      size: contentSize,
      linkTarget: overrides.get('linkpath') ?? cString(block, 157, 100),
    };
    this.current = header;
    events.push({ kind: 'entry', header });
    this.startContent('data', contentSize, 'header');
    if (contentSize === 0) this.endContent(events);
  }

  private startContent(state: 'pax' | 'data', size: number, after: ParserState): void {
    this.state = state;
    this.remaining = size;
    this.afterData = after;
    this.contentSize = size;
    if (state === 'pax') this.paxChunks = [];
  }

  private endContent(events: TarEvent[]): void {
    const size = this.contentSize;
    if (this.state === 'pax') {
      this.paxOverrides = parsePax(Buffer.concat(this.paxChunks), (problem) => this.fail(problem));
      this.paxChunks = [];
    } else {
      events.push({ kind: 'end' });
      this.current = undefined;
    }
    this.remaining = tarPadding(size);
    this.state = this.remaining === 0 ? this.afterData : 'padding';
  }

  private fail(problem: string): never {
    const entry = this.current ? ` (in entry "${this.current.path}")` : '';
    throw new KilnError('E_PACKAGE_FORMAT', `cannot read ${this.source}: malformed tar archive: ${problem}${entry}`, {
      hint: 'the file is corrupt or was not made by Kiln',
    });
  }
}

const FLAG_TYPES: Record<string, TarEntryType> = {
  '0': 'file',
  '\u0000': 'file',
  '5': 'dir',
  '2': 'symlink',
  '1': 'hardlink',
};
const PAX_KEYS = new Set(['path', 'linkpath', 'size']);

function parsePax(data: Buffer, fail: (problem: string) => never): Map<string, string> {
  const result = new Map<string, string>();
  let offset = 0;
  while (offset < data.length) {
    const space = data.indexOf(0x20, offset);
    if (space < 0) fail('a pax record has no length');
    const length = Number(data.toString('latin1', offset, space));
    if (!Number.isSafeInteger(length) || length <= space - offset || offset + length > data.length)
      fail('a pax record has a bad length');
    const record = data.toString('utf8', space + 1, offset + length);
    if (!record.endsWith('\n')) fail('a pax record does not end with a newline');
    const equals = record.indexOf('=');
    if (equals <= 0) fail('a pax record has no key');
    const key = record.slice(0, equals);
    // Only the keys Kiln writes are meaningful; anything else (times, xattrs) is ignored,
    // but a key that would change how the entry is read must be one of ours.
    if (PAX_KEYS.has(key)) result.set(key, record.slice(equals + 1, -1));
    else if (key.startsWith('GNU.sparse')) fail('sparse files are not supported');
    offset += length;
  }
  return result;
}

function parseNumber(block: Buffer, offset: number, length: number): number | undefined {
  const first = block[offset]!;
  if (first & 0x80) {
    // GNU base-256: big-endian binary in the remaining bytes.
    let value = 0;
    for (let i = 1; i < length; i++) value = value * 256 + block[offset + i]!;
    return first === 0x80 && Number.isSafeInteger(value) ? value : undefined;
  }
  const text = block
    .toString('latin1', offset, offset + length)
    .replace(/[\u0000 ]+$/, '')
    .replace(/^ +/, '');
  if (text === '') return 0;
  if (!/^[0-7]+$/.test(text)) return undefined;
  return parseInt(text, 8);
}

function cString(block: Buffer, offset: number, length: number): string {
  const end = block.indexOf(0, offset);
  return block.toString('utf8', offset, end < 0 || end > offset + length ? offset + length : end);
}

function rawName(block: Buffer): string {
  return cString(block, 0, 100);
}

function isZero(data: Buffer): boolean {
  for (let i = 0; i < data.length; i++) if (data[i] !== 0) return false;
  return true;
}

/**
 * Our own reader for the parts of an ELF file that packaging cares about: what
 * a binary needs at run time (its interpreter, libraries, run paths and symbol
 * versions) and what a library is called.
 *
 * Vocabulary, as in the ELF specification: a *segment* is a program header (how
 * the loader maps the file), a *section* a section header (how linkers see it).
 * The *dynamic section* is the table of tag and value *dynamic entries* the
 * loader reads; the *dynamic string table* (.dynstr) holds the strings those
 * entries and the version records name by their *index* (a byte offset into
 * that table). An *address* is a virtual address, an *offset* a file offset.
 *
 * Every read is checked against the buffer, and every loop is bounded by it, so
 * truncated or hostile input fails as E_ELF and never with another exception.
 *
 * The exports beyond `isElf`, `readElf` and their types are the layout that
 * `rewriteRunpath` builds on; index.ts does not re-export them.
 */
import { KilnError } from '../errors/index.js';

/** The four bytes every ELF file starts with. */
const MAGIC = Buffer.from([0x7f, 0x45, 0x4c, 0x46]);

const PT_LOAD = 1;
const PT_DYNAMIC = 2;
const PT_INTERP = 3;
const SHT_DYNAMIC = 6;
const SHT_NOBITS = 8;
const SHF_ALLOC = 2;
export const SHT_DYNSYM = 11;
export const SHT_GNU_VERDEF = 0x6ffffffd;
const SHT_GNU_VERNEED = 0x6ffffffe;

/** The dynamic tags used in this folder (elf.h). */
export const DT = {
  NULL: 0,
  NEEDED: 1,
  STRTAB: 5,
  SYMTAB: 6,
  STRSZ: 10,
  SONAME: 14,
  RPATH: 15,
  RUNPATH: 29,
  VERDEF: 0x6ffffffc,
  VERDEFNUM: 0x6ffffffd,
  VERNEED: 0x6ffffffe,
  VERNEEDNUM: 0x6fffffff,
} as const;

/** A library a file needs symbol versions from (one Elf_Verneed record of .gnu.version_r). */
export interface ElfVersionNeed {
  /** The library's soname, as in its DT_NEEDED entry. */
  file: string;
  /** The version names needed from it, such as "GLIBC_2.34". */
  versions: string[];
}

/** What a file needs at run time and what it is called. Lists are empty for a file without a dynamic section. */
export interface ElfInfo {
  bits: 32 | 64;
  endian: 'little' | 'big';
  /** From e_type. A position-independent executable is 'shared' and has an `interpreter`. */
  type: 'relocatable' | 'executable' | 'shared' | 'core' | 'other';
  /** e_machine: 62 for x86-64, 183 for AArch64, 3 for i386. */
  machine: number;
  /** The program interpreter (PT_INTERP), such as "/lib64/ld-linux-x86-64.so.2". */
  interpreter?: string;
  /** DT_NEEDED, in order. */
  needed: string[];
  soname?: string;
  /** DT_RPATH split on ":". */
  rpath?: string[];
  /** DT_RUNPATH split on ":". */
  runpath?: string[];
  versionNeeds: ElfVersionNeed[];
}

/**
 * True when `content` starts with the ELF magic bytes; nothing else is checked.
 *
 * @example
 * isElf(readFileSync('/usr/bin/ls')); // true
 * isElf(Buffer.from('#!/bin/sh\n')); // false
 */
export function isElf(content: Buffer): boolean {
  return content.length >= MAGIC.length && content.subarray(0, MAGIC.length).equals(MAGIC);
}

/**
 * The dynamic linking facts of an ELF file (32- or 64-bit, either byte order).
 * The dynamic section is found through PT_DYNAMIC, else the SHT_DYNAMIC
 * section; version needs through DT_VERNEED, else the SHT_GNU_verneed section.
 * As in the dynamic loader, the last DT_SONAME, DT_RPATH or DT_RUNPATH entry
 * counts. Malformed input fails as E_ELF; `where` names the file in messages.
 *
 * @example
 * const info = readElf(readFileSync('/usr/bin/ls'), '/usr/bin/ls');
 * info.needed; // ['libselinux.so.1', 'libc.so.6']
 * info.versionNeeds[1]; // { file: 'libc.so.6', versions: ['GLIBC_2.28', ...] }
 */
export function readElf(content: Buffer, where: string): ElfInfo {
  const layout = readLayout(content, where);
  const { reader, dynamic } = layout;
  const strings = (tag: number): string[] =>
    dynamic.filter((entry) => entry.tag === tag).map((entry) => dynamicStrings(layout).at(entry.value));
  const info: ElfInfo = {
    bits: reader.bits,
    endian: reader.little ? 'little' : 'big',
    type: TYPES[layout.type] ?? 'other',
    machine: layout.machine,
    needed: strings(DT.NEEDED),
    versionNeeds: readVersionNeeds(layout).map((need) => ({
      file: need.strings.at(need.file),
      versions: need.versions.map((index) => need.strings.at(index)),
    })),
  };
  const interpreter = interpreterOf(reader, layout.segments);
  if (interpreter !== undefined) info.interpreter = interpreter;
  const soname = strings(DT.SONAME).at(-1);
  if (soname !== undefined) info.soname = soname;
  const rpath = strings(DT.RPATH).at(-1);
  if (rpath !== undefined) info.rpath = splitPath(rpath);
  const runpath = strings(DT.RUNPATH).at(-1);
  if (runpath !== undefined) info.runpath = splitPath(runpath);
  return info;
}

const TYPES: Partial<Record<number, ElfInfo['type']>> = { 1: 'relocatable', 2: 'executable', 3: 'shared', 4: 'core' };

function splitPath(value: string): string[] {
  return value === '' ? [] : value.split(':');
}

/** The E_ELF error for a malformed file. */
export function elfError(where: string, state: string): KilnError {
  return new KilnError('E_ELF', `cannot read ELF file ${where}: ${state}`, {
    hint: 'the file is truncated or corrupt; rebuild or download it again',
  });
}

/** Bounds-checked reads of one file in its byte order and word size. */
export class ElfReader {
  constructor(
    readonly content: Buffer,
    readonly where: string,
    readonly bits: 32 | 64,
    readonly little: boolean,
  ) {}

  /** The size of an address, offset or size field: 4 or 8. */
  get word(): number {
    return this.bits / 8;
  }

  fail(state: string): never {
    throw elfError(this.where, state);
  }

  /** Fails unless the `size` bytes at `offset` lie inside the file. */
  check(offset: number, size: number, what: string): void {
    const inside =
      Number.isSafeInteger(offset) &&
      Number.isSafeInteger(size) &&
      offset >= 0 &&
      size >= 0 &&
      offset + size <= this.content.length;
    if (!inside)
      this.fail(`${what} (${size} bytes at offset ${offset}) lies outside the file (${this.content.length} bytes)`);
  }

  u16(offset: number): number {
    this.check(offset, 2, 'a 16-bit field');
    return this.little ? this.content.readUInt16LE(offset) : this.content.readUInt16BE(offset);
  }

  u32(offset: number): number {
    this.check(offset, 4, 'a 32-bit field');
    return this.little ? this.content.readUInt32LE(offset) : this.content.readUInt32BE(offset);
  }

  /**
   * An address, offset or size field. A 64-bit value above 2^53 loses
   * precision; such a value is never a valid offset, and every use is checked.
   */
  addr(offset: number): number {
    if (this.bits === 32) return this.u32(offset);
    this.check(offset, 8, 'a 64-bit field');
    return Number(this.little ? this.content.readBigUInt64LE(offset) : this.content.readBigUInt64BE(offset));
  }
}

/** A NUL-terminated string table inside the file. */
export class StringTable {
  private readonly cache = new Map<number, string>();
  /** Bytes that may still be decoded: caps the work a hostile file can cause by pointing many names into one long string. */
  private budget: number;

  constructor(
    private readonly reader: ElfReader,
    readonly offset: number,
    readonly size: number,
    private readonly what = 'the dynamic string table',
  ) {
    reader.check(offset, size, what);
    this.budget = 4 * size + 65536;
  }

  /** The file offset of the terminating NUL of the string at `index`. */
  end(index: number): number {
    if (!Number.isSafeInteger(index) || index < 0 || index >= this.size)
      this.reader.fail(`string index ${index} is outside ${this.what} (${this.size} bytes)`);
    const nul = this.reader.content.subarray(this.offset + index, this.offset + this.size).indexOf(0);
    if (nul < 0) this.reader.fail(`the string at index ${index} of ${this.what} has no terminating NUL`);
    return this.offset + index + nul;
  }

  at(index: number): string {
    const cached = this.cache.get(index);
    if (cached !== undefined) return cached;
    const end = this.end(index);
    this.budget -= end - (this.offset + index);
    if (this.budget < 0) this.reader.fail(`its string references add up to far more bytes than ${this.what} holds`);
    const value = this.reader.content.toString('utf8', this.offset + index, end);
    this.cache.set(index, value);
    return value;
  }
}

export interface Segment {
  type: number;
  offset: number;
  vaddr: number;
  filesz: number;
}

export interface Section {
  type: number;
  flags: number;
  addr: number;
  offset: number;
  size: number;
  link: number;
  info: number;
  entsize: number;
}

export interface DynamicEntry {
  tag: number;
  value: number;
  /** The file offset of the entry, where its tag is. */
  at: number;
}

/** The headers and dynamic section of a file: what `readElf` and `rewriteRunpath` both build on. */
export interface ElfLayout {
  reader: ElfReader;
  type: number;
  machine: number;
  segments: Segment[];
  sections: Section[];
  /** The dynamic entries before DT_NULL; empty without a dynamic section. */
  dynamic: DynamicEntry[];
  /** The string table named by DT_STRTAB, else by the SHT_DYNAMIC section's link; undefined when there is neither. */
  strings: StringTable | undefined;
}

/** Reads the ELF header, program headers, section headers and dynamic section. */
export function readLayout(content: Buffer, where: string): ElfLayout {
  if (!isElf(content)) throw elfError(where, 'it does not start with the ELF magic bytes');
  const reader = new ElfReader(content, where, elfClass(content, where), elfData(content, where));
  const w = reader.word;
  const segments = readSegments(reader);
  // Offsets in Elf32_Ehdr and Elf64_Ehdr: e_shoff at 24 + 2w, then e_shentsize, e_shnum from 34 + 3w.
  const sections = readTable(
    reader,
    reader.addr(24 + 2 * w),
    reader.u16(36 + 3 * w),
    reader.u16(34 + 3 * w),
    16 + 6 * w,
    'section header',
    (at) => ({
      type: reader.u32(at + 4),
      flags: reader.addr(at + 8),
      addr: reader.addr(at + 8 + w),
      offset: reader.addr(at + 8 + 2 * w),
      size: reader.addr(at + 8 + 3 * w),
      link: reader.u32(at + 8 + 4 * w),
      info: reader.u32(at + 12 + 4 * w),
      entsize: reader.addr(at + 16 + 5 * w),
    }),
  );
  const layout: ElfLayout = {
    reader,
    type: reader.u16(16),
    machine: reader.u16(18),
    segments,
    sections,
    dynamic: [],
    strings: undefined,
  };
  const fromSegment = segments.find((segment) => segment.type === PT_DYNAMIC);
  const fromSection = sections.find((section) => section.type === SHT_DYNAMIC);
  if (fromSegment !== undefined) layout.dynamic = readDynamic(reader, fromSegment.offset, fromSegment.filesz);
  else if (fromSection !== undefined) layout.dynamic = readDynamic(reader, fromSection.offset, fromSection.size);
  layout.strings = findDynamicStrings(layout, fromSection);
  return layout;
}

/** The program headers, after checking that the ELF header is inside the file. */
function readSegments(reader: ElfReader): Segment[] {
  const w = reader.word;
  reader.check(0, 40 + 3 * w, 'the ELF header');
  // Offsets in Elf32_Ehdr and Elf64_Ehdr: e_phoff at 24 + w, then e_phentsize, e_phnum from 30 + 3w.
  // In a program header p_offset, p_vaddr and p_filesz are the words at w, 2w and 4w (after p_type, and in ELF64 p_flags).
  return readTable(
    reader,
    reader.addr(24 + w),
    reader.u16(32 + 3 * w),
    reader.u16(30 + 3 * w),
    8 + 6 * w,
    'program header',
    (at) => ({
      type: reader.u32(at),
      offset: reader.addr(at + w),
      vaddr: reader.addr(at + 2 * w),
      filesz: reader.addr(at + 4 * w),
    }),
  );
}

/**
 * The program interpreter (PT_INTERP) of an ELF file, read from its head only:
 * the ELF header, the program headers and the interpreter's name sit at the
 * start of real files, so a large executable (the node binary is about 100 MB)
 * need not be read whole. Undefined for a file without one (a static
 * executable, a library); E_ELF when the head is malformed or too short.
 *
 * @example readInterpreter(firstBytesOf('/usr/bin/ls', 65536), '/usr/bin/ls'); // '/lib64/ld-linux-x86-64.so.2'
 */
export function readInterpreter(head: Buffer, where: string): string | undefined {
  if (!isElf(head)) throw elfError(where, 'it does not start with the ELF magic bytes');
  const reader = new ElfReader(head, where, elfClass(head, where), elfData(head, where));
  return interpreterOf(reader, readSegments(reader));
}

function interpreterOf(reader: ElfReader, segments: readonly Segment[]): string | undefined {
  const interp = segments.find((segment) => segment.type === PT_INTERP);
  return interp === undefined
    ? undefined
    : new StringTable(reader, interp.offset, interp.filesz, 'the PT_INTERP segment').at(0);
}

function elfClass(content: Buffer, where: string): 32 | 64 {
  const value = content[4];
  if (value === 1) return 32;
  if (value === 2) return 64;
  throw elfError(where, `its class byte is ${String(value)}, not 1 (32-bit) or 2 (64-bit)`);
}

function elfData(content: Buffer, where: string): boolean {
  const value = content[5];
  if (value === 1) return true;
  if (value === 2) return false;
  throw elfError(where, `its byte order byte is ${String(value)}, not 1 (little-endian) or 2 (big-endian)`);
}

/** The `count` fixed-size records at `offset`; none when the header says there is no table. */
function readTable<T>(
  reader: ElfReader,
  offset: number,
  count: number,
  entsize: number,
  minimum: number,
  what: string,
  read: (at: number) => T,
): T[] {
  if (offset === 0 || count === 0) return [];
  if (entsize < minimum)
    reader.fail(`its ${what} entries are ${entsize} bytes long, fewer than the ${minimum} an entry needs`);
  reader.check(offset, count * entsize, `the ${what} table`);
  return Array.from({ length: count }, (_, index) => read(offset + index * entsize));
}

/** The entries of the dynamic section, up to DT_NULL or its end. */
function readDynamic(reader: ElfReader, offset: number, size: number): DynamicEntry[] {
  const entsize = 2 * reader.word;
  const count = Math.floor(size / entsize);
  reader.check(offset, count * entsize, 'the dynamic section');
  const entries: DynamicEntry[] = [];
  for (let index = 0; index < count; index++) {
    const at = offset + index * entsize;
    // A d_tag above 2^53 loses precision, but every tag this folder knows is below 2^31.
    const tag = reader.addr(at);
    if (tag === DT.NULL) break;
    entries.push({ tag, value: reader.addr(at + reader.word), at });
  }
  return entries;
}

function findDynamicStrings(layout: ElfLayout, dynamicSection: Section | undefined): StringTable | undefined {
  const strtab = lastEntry(layout.dynamic, DT.STRTAB);
  if (strtab !== undefined) {
    const { offset, room } = addressToOffset(layout, strtab.value, 'DT_STRTAB');
    return new StringTable(layout.reader, offset, lastEntry(layout.dynamic, DT.STRSZ)?.value ?? room);
  }
  const linked = dynamicSection === undefined ? undefined : layout.sections[dynamicSection.link];
  return linked === undefined ? undefined : new StringTable(layout.reader, linked.offset, linked.size);
}

/** The dynamic string table, which a file whose dynamic entries name strings must have. */
export function dynamicStrings(layout: ElfLayout): StringTable {
  return (
    layout.strings ??
    layout.reader.fail('its dynamic section names strings but has no DT_STRTAB entry or linked string table')
  );
}

/** The last dynamic entry with `tag`: the one the dynamic loader uses. */
export function lastEntry(dynamic: readonly DynamicEntry[], tag: number): DynamicEntry | undefined {
  return dynamic.findLast((entry) => entry.tag === tag);
}

/**
 * The file offset of an address, through the PT_LOAD segment that maps it
 * (else an allocated section), and how many bytes of that segment follow it.
 */
export function addressToOffset(layout: ElfLayout, address: number, what: string): { offset: number; room: number } {
  for (const segment of layout.segments) {
    if (segment.type === PT_LOAD && address >= segment.vaddr && address - segment.vaddr < segment.filesz) {
      return { offset: segment.offset + (address - segment.vaddr), room: segment.filesz - (address - segment.vaddr) };
    }
  }
  for (const section of layout.sections) {
    if (
      (section.flags & SHF_ALLOC) !== 0 &&
      section.type !== SHT_NOBITS &&
      address >= section.addr &&
      address - section.addr < section.size
    ) {
      return { offset: section.offset + (address - section.addr), room: section.size - (address - section.addr) };
    }
  }
  return layout.reader.fail(`its ${what} address 0x${address.toString(16)} is in no loaded segment or section`);
}

/**
 * Where a version table starts: the address in `addressTag` (with the count in
 * `countTag`), else the section of type `sectionType` (count in sh_info). Its
 * names index the dynamic string table, else the section's linked table.
 */
export function findVersionTable(
  layout: ElfLayout,
  addressTag: number,
  countTag: number,
  sectionType: number,
): { offset: number; count: number; strings: StringTable } | undefined {
  const address = lastEntry(layout.dynamic, addressTag);
  if (address !== undefined) {
    // Without a count the chain's own end (a zero link) bounds it.
    const count = lastEntry(layout.dynamic, countTag)?.value ?? Number.MAX_SAFE_INTEGER;
    return {
      offset: addressToOffset(layout, address.value, 'version table').offset,
      count,
      strings: dynamicStrings(layout),
    };
  }
  const section = layout.sections.find((candidate) => candidate.type === sectionType);
  if (section === undefined) return undefined;
  const linked = layout.sections[section.link];
  const strings =
    layout.strings ?? (linked === undefined ? undefined : new StringTable(layout.reader, linked.offset, linked.size));
  return {
    offset: section.offset,
    count: section.info,
    strings: strings ?? layout.reader.fail('its version section has no string table'),
  };
}

/**
 * The record offsets of one chain of version records (Elf_Verneed, Elf_Vernaux,
 * Elf_Verdef, Elf_Verdaux): each links to the next by the byte distance at
 * `linkField`, 0 ending the chain. `seen` is shared by every chain of a table,
 * so a record reached twice (a cycle, or two chains sharing records) fails.
 */
export function walkChain(
  reader: ElfReader,
  start: number,
  count: number,
  size: number,
  linkField: number,
  seen: Set<number>,
  what: string,
): number[] {
  const offsets: number[] = [];
  let at = start;
  for (let index = 0; index < count; index++) {
    reader.check(at, size, `a ${what} record`);
    if (seen.has(at)) reader.fail(`its ${what} records loop back to offset ${at}`);
    seen.add(at);
    offsets.push(at);
    const link = reader.u32(at + linkField);
    if (link === 0) break;
    at += link;
  }
  return offsets;
}

/** The string indexes of one Elf_Verneed record and its Elf_Vernaux records. */
export interface VersionNeedIndexes {
  strings: StringTable;
  file: number;
  versions: number[];
}

/** Elf_Verneed and Elf_Vernaux records are both 16 bytes, in either word size. */
const VERNEED_SIZE = 16;

/** The Elf_Verneed records and their Elf_Vernaux records, as string indexes. */
export function readVersionNeeds(layout: ElfLayout): VersionNeedIndexes[] {
  const table = findVersionTable(layout, DT.VERNEED, DT.VERNEEDNUM, SHT_GNU_VERNEED);
  if (table === undefined) return [];
  const { reader } = layout;
  const seen = new Set<number>();
  // Elf_Verneed: vn_cnt at 2, vn_file at 4, vn_aux at 8, vn_next at 12. Elf_Vernaux: vna_name at 8, vna_next at 12.
  return walkChain(reader, table.offset, table.count, VERNEED_SIZE, 12, seen, 'version need').map((at) => {
    const auxiliaries = walkChain(
      reader,
      at + reader.u32(at + 8),
      reader.u16(at + 2),
      VERNEED_SIZE,
      12,
      seen,
      'version need',
    );
    return {
      strings: table.strings,
      file: reader.u32(at + 4),
      versions: auxiliaries.map((aux) => reader.u32(aux + 8)),
    };
  });
}

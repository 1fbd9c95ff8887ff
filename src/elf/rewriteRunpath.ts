/**
 * Rewrites the run path of a linked ELF file in place, without moving
 * anything: the new string overwrites the old one in the dynamic string table.
 * This is enough for relocating a package when it was linked with a run path
 * at least as long as the one it gets at install time.
 */
import { KilnError } from '../errors/index.js';
import {
  DT,
  SHT_DYNSYM,
  SHT_GNU_VERDEF,
  dynamicStrings,
  findVersionTable,
  readLayout,
  readVersionNeeds,
  walkChain,
} from './readElf.js';
import type { DynamicEntry, ElfLayout } from './readElf.js';

/** Dynamic tags whose value is an index into the dynamic string table (elf.h). */
const STRING_TAGS: ReadonlySet<number> = new Set([
  DT.NEEDED,
  DT.SONAME,
  DT.RPATH,
  DT.RUNPATH,
  0x6ffffefa, // DT_CONFIG
  0x6ffffefb, // DT_DEPAUDIT
  0x6ffffefc, // DT_AUDIT
  0x7ffffffd, // DT_AUXILIARY
  0x7ffffffe, // DT_USED
  0x7fffffff, // DT_FILTER
]);

/**
 * A copy of `content` whose run path is `entries` joined with ":", under the
 * tag asked for (DT_RPATH or DT_RUNPATH). The file must have exactly one
 * DT_RPATH or DT_RUNPATH entry; its string is overwritten in place and
 * NUL-padded, so the new run path cannot be longer than the old one. It fails
 * with E_ELF when that is impossible, including when another name of the file
 * shares the run path's bytes (linkers store a string that is a suffix of
 * another only once). `content` is not changed; `where` names the file in messages.
 *
 * @example
 * const exe = readFileSync('build/bin/tool'); // linked with -Wl,-rpath,/kiln-placeholder-padding/lib
 * const moved = rewriteRunpath(exe, ['$ORIGIN/../lib'], 'runpath', 'bin/tool');
 * readElf(moved, 'bin/tool').runpath; // ['$ORIGIN/../lib']
 */
export function rewriteRunpath(
  content: Buffer,
  entries: readonly string[],
  tag: 'rpath' | 'runpath',
  where: string,
): Buffer {
  const value = entries.join(':');
  const bad = entries.find((entry) => entry.includes(':') || entry.includes('\0'));
  if (bad !== undefined)
    throw rewriteError(
      where,
      value,
      `the entry ${JSON.stringify(bad)} holds a ":" or a NUL`,
      'give each directory as its own entry',
    );

  const layout = readLayout(content, where);
  const runPaths = layout.dynamic.filter((entry) => entry.tag === DT.RPATH || entry.tag === DT.RUNPATH);
  const [entry] = runPaths;
  if (entry === undefined) {
    throw rewriteError(
      where,
      value,
      'it has no DT_RPATH or DT_RUNPATH entry to rewrite in place',
      'link it with -Wl,-rpath,<a placeholder directory at least as long as the final run path>, so there is room to rewrite',
    );
  }
  if (runPaths.length > 1) {
    throw rewriteError(
      where,
      value,
      `it has ${runPaths.length} run-path entries (DT_RPATH and DT_RUNPATH) and only one can be rewritten`,
      'link it with -Wl,--enable-new-dtags (DT_RUNPATH only) or -Wl,--disable-new-dtags (DT_RPATH only)',
    );
  }
  const strings = dynamicStrings(layout);
  const start = strings.offset + entry.value;
  const oldLength = strings.end(entry.value) - start;
  const replacement = Buffer.from(value, 'utf8');
  if (replacement.length > oldLength) {
    throw rewriteError(
      where,
      value,
      `the new run path is ${replacement.length} bytes long, longer than the ${oldLength} bytes of the old one it must fit into`,
      `link it with a run path of at least ${replacement.length} bytes, for example a padded placeholder directory`,
    );
  }
  // Overwriting changes the bytes [index, index + oldLength), so no other name may start there; one at the closing NUL is refused too, to keep the rule simple.
  const sharer =
    oldLength === 0
      ? undefined
      : stringReferences(layout, entry).find((ref) => ref.index >= entry.value && ref.index <= entry.value + oldLength);
  if (sharer !== undefined) {
    throw rewriteError(
      where,
      value,
      `${sharer.what} (string index ${sharer.index}) shares bytes with the run path (index ${entry.value}, ${oldLength} bytes), so rewriting it would change that name too`,
      'the linker merged a name into the tail of the run path; link with a run path that ends in "/", which no library or symbol name can be a suffix of',
    );
  }

  const result = Buffer.from(content);
  replacement.copy(result, start);
  result.fill(0, start + replacement.length, start + oldLength);
  writeTag(layout, result, entry.at, tag === 'rpath' ? DT.RPATH : DT.RUNPATH);
  return result;
}

function rewriteError(where: string, value: string, state: string, hint: string): KilnError {
  return new KilnError('E_ELF', `cannot rewrite the run path of ${where} to "${value}": ${state}`, { hint });
}

function writeTag(layout: ElfLayout, result: Buffer, at: number, tag: number): void {
  const { reader } = layout;
  if (reader.bits === 32) {
    if (reader.little) result.writeUInt32LE(tag, at);
    else result.writeUInt32BE(tag, at);
  } else if (reader.little) result.writeBigUInt64LE(BigInt(tag), at);
  else result.writeBigUInt64BE(BigInt(tag), at);
}

/** A use of a dynamic string table index, and what uses it (for messages). */
interface StringReference {
  index: number;
  what: string;
}

/** Every index into the dynamic string table but that of `except`: dynamic entries, version records and dynamic symbol names. */
function stringReferences(layout: ElfLayout, except: DynamicEntry): StringReference[] {
  const { reader } = layout;
  const refs: StringReference[] = [];
  for (const entry of layout.dynamic) {
    if (entry !== except && STRING_TAGS.has(entry.tag))
      refs.push({ index: entry.value, what: `the dynamic entry with tag 0x${entry.tag.toString(16)}` });
  }
  for (const need of readVersionNeeds(layout)) {
    refs.push(
      { index: need.file, what: 'a version need file name' },
      ...need.versions.map((index) => ({ index, what: 'a version need name' })),
    );
  }
  const definitions = findVersionTable(layout, DT.VERDEF, DT.VERDEFNUM, SHT_GNU_VERDEF);
  if (definitions !== undefined) {
    // Elf_Verdef is 20 bytes (vd_cnt at 6, vd_aux at 12, vd_next at 16); Elf_Verdaux 8 (vda_name at 0, vda_next at 4).
    const seen = new Set<number>();
    for (const at of walkChain(reader, definitions.offset, definitions.count, 20, 16, seen, 'version definition')) {
      for (const aux of walkChain(
        reader,
        at + reader.u32(at + 12),
        reader.u16(at + 6),
        8,
        4,
        seen,
        'version definition',
      )) {
        refs.push({ index: reader.u32(aux), what: 'a version definition name' });
      }
    }
  }
  refs.push(...symbolNames(layout));
  return refs;
}

/**
 * The st_name of every .dynsym symbol. The symbol count comes from the
 * section header; a file with DT_SYMTAB but no SHT_DYNSYM section cannot be
 * checked, so it fails rather than risk a corrupted symbol name.
 */
function symbolNames(layout: ElfLayout): StringReference[] {
  const { reader } = layout;
  const tables = layout.sections.filter((section) => section.type === SHT_DYNSYM);
  if (tables.length === 0 && layout.dynamic.some((entry) => entry.tag === DT.SYMTAB)) {
    throw new KilnError(
      'E_ELF',
      `cannot rewrite the run path of ${reader.where}: it has dynamic symbols but no .dynsym section header to count them by`,
      {
        hint: 'the file was stripped of its section headers; rebuild it without that step (for example without sstrip)',
      },
    );
  }
  const refs: StringReference[] = [];
  for (const table of tables) {
    // st_name is the first field of Elf32_Sym (16 bytes) and Elf64_Sym (24 bytes).
    const entsize = table.entsize === 0 ? 8 + 2 * reader.word : table.entsize;
    if (entsize < 4) reader.fail(`its .dynsym entries are ${entsize} bytes long`);
    const count = Math.floor(table.size / entsize);
    reader.check(table.offset, count * entsize, 'the .dynsym section');
    for (let index = 0; index < count; index++) {
      refs.push({ index: reader.u32(table.offset + index * entsize), what: `the name of dynamic symbol ${index}` });
    }
  }
  return refs;
}

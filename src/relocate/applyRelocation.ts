/**
 * Install-time half of relocation: rewrite one file's content from the row of
 * the package's relocation table that `PlaceholderScanner` made at pack time,
 * replacing the build placeholder with the real prefix. Nothing is searched
 * here; the listed offsets are checked and used.
 */
import { KilnError } from '../errors/index.js';
import type { RelocationFile } from '../format/index.js';

/**
 * The content of a relocated file. In a text file every listed occurrence of
 * `placeholder` becomes `prefix`, whatever their lengths. In a binary file the
 * length must not change: each occurrence sits in a NUL-terminated C string,
 * which is rewritten from the occurrence to its NUL (or the end of the file)
 * with every placeholder in it replaced, and NUL-padded at its end. A prefix
 * longer than the placeholder cannot fit there (E_RELOCATE). An offset where
 * the placeholder is not found means the table does not match the file
 * (E_PACKAGE_MANIFEST). Neither `placeholder` nor `prefix` ends in "/".
 * `content` is not changed; `where` names the file in messages.
 *
 * @example
 * const placeholder = '/kiln-placeholder';
 * applyRelocation(Buffer.from('/kiln-placeholder/etc/x.conf\0'), { path: 'bin/x', kind: 'binary', offsets: [0] }, placeholder, '/opt/x', 'bin/x');
 * // '/opt/x/etc/x.conf\0' followed by 11 NUL bytes: same length as before
 */
export function applyRelocation(content: Buffer, row: RelocationFile, placeholder: string, prefix: string, where: string): Buffer {
  const needle = Buffer.from(placeholder, 'utf8');
  const replacement = Buffer.from(prefix, 'utf8');
  if (needle.length === 0 || needle.includes(0)) throw new Error('Assertion failed: the placeholder is empty or holds a NUL');
  // '' stands for the root directory: "PLACEHOLDER/etc/x" becomes "/etc/x".
  if ((prefix !== '' && !prefix.startsWith('/')) || prefix.endsWith('/') || prefix.includes('\0')) {
    throw new Error(`Assertion failed: prefix ${JSON.stringify(prefix)} is not '' or an absolute path without a trailing "/"`);
  }
  checkOffsets(content, row.offsets, needle, where);
  if (row.kind === 'text') return relocateText(content, row.offsets, needle.length, replacement);
  if (replacement.length > needle.length) {
    throw new KilnError('E_RELOCATE', `cannot relocate ${where} into ${prefix}: the prefix is ${replacement.length} bytes long and this binary file has room for ${needle.length}`, {
      hint: `install into a prefix of at most ${needle.length} bytes (the length of the placeholder the package was built with), for example through a shorter symbolic link to it`,
    });
  }
  return relocateBinary(content, row.offsets, needle.length, replacement);
}

/** Every listed offset holds the placeholder, in ascending order and without overlap. */
function checkOffsets(content: Buffer, offsets: readonly number[], needle: Buffer, where: string): void {
  let end = 0;
  for (const offset of offsets) {
    let problem: string | undefined;
    if (!Number.isSafeInteger(offset) || offset < end) problem = `offset ${offset} is out of order or overlaps the previous occurrence`;
    else if (offset + needle.length > content.length) problem = `offset ${offset} is past the end of the file (${content.length} bytes)`;
    else if (!content.subarray(offset, offset + needle.length).equals(needle)) problem = `the placeholder is not at offset ${offset}`;
    if (problem !== undefined) {
      throw new KilnError('E_PACKAGE_MANIFEST', `cannot relocate ${where}: ${problem}, so the package's relocation table does not match the file`, {
        hint: 'the package is corrupt or was altered; download it again, or report it to the packager',
      });
    }
    end = offset + needle.length;
  }
}

function relocateText(content: Buffer, offsets: readonly number[], length: number, replacement: Buffer): Buffer {
  const parts: Buffer[] = [];
  let cursor = 0;
  for (const offset of offsets) {
    parts.push(content.subarray(cursor, offset), replacement);
    cursor = offset + length;
  }
  parts.push(content.subarray(cursor));
  return Buffer.concat(parts);
}

/** A NUL-terminated C string of a binary file, from its first occurrence of the placeholder to its NUL (or the end of the file). */
interface CString {
  start: number;
  end: number;
  offsets: number[];
}

function relocateBinary(content: Buffer, offsets: readonly number[], length: number, replacement: Buffer): Buffer {
  // The placeholder holds no NUL, so an occurrence that starts inside a string ends inside it too.
  const strings: CString[] = [];
  let current: CString | undefined;
  for (const offset of offsets) {
    if (current !== undefined && offset < current.end) {
      current.offsets.push(offset);
      continue;
    }
    const nul = content.indexOf(0, offset);
    current = { start: offset, end: nul < 0 ? content.length : nul, offsets: [offset] };
    strings.push(current);
  }
  const result = Buffer.from(content);
  for (const string of strings) {
    const within = string.offsets.map((offset) => offset - string.start);
    const rewritten = relocateText(content.subarray(string.start, string.end), within, length, replacement);
    rewritten.copy(result, string.start);
    result.fill(0, string.start + rewritten.length, string.end);
  }
  return result;
}

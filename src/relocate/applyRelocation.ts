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
 * `placeholder` becomes `prefix`, whatever their lengths. In a binary file no
 * byte may move: each occurrence is overwritten with the prefix padded with
 * "/" to the placeholder's length (see relocateBinary). A prefix
 * longer than the placeholder cannot fit there (E_RELOCATE). An offset where
 * the placeholder is not found means the table does not match the file
 * (E_PACKAGE_MANIFEST). Neither `placeholder` nor `prefix` ends in "/".
 * `content` is not changed; `where` names the file in messages.
 *
 * @example
 * const placeholder = '/kiln-placeholder';
 * applyRelocation(Buffer.from('/kiln-placeholder/etc/x.conf\0'), { path: 'bin/x', kind: 'binary', offsets: [0] }, placeholder, '/opt/x', 'bin/x');
 * // '/opt/x///////////etc/x.conf\0': same length, same bytes after the placeholder
 */
export function applyRelocation(
  content: Buffer,
  row: RelocationFile,
  placeholder: string,
  prefix: string,
  where: string,
): Buffer {
  const needle = Buffer.from(placeholder, 'utf8');
  const replacement = Buffer.from(prefix, 'utf8');
  if (needle.length === 0 || needle.includes(0))
    throw new Error('Assertion failed: the placeholder is empty or holds a NUL');
  // '' stands for the root directory: "PLACEHOLDER/etc/x" becomes "/etc/x".
  if ((prefix !== '' && !prefix.startsWith('/')) || prefix.endsWith('/') || prefix.includes('\0')) {
    throw new Error(
      `Assertion failed: prefix ${JSON.stringify(prefix)} is not '' or an absolute path without a trailing "/"`,
    );
  }
  checkOffsets(content, row.offsets, needle, where);
  if (row.kind === 'text') return relocateText(content, row.offsets, needle.length, replacement);
  if (replacement.length > needle.length) {
    throw new KilnError(
      'E_RELOCATE',
      `cannot relocate ${where} into ${prefix}: the prefix is ${replacement.length} bytes long and this binary file has room for ${needle.length}`,
      {
        hint: `install into a prefix whose real path is at most ${needle.length} bytes long (the length of the placeholder the package was built with)`,
      },
    );
  }
  return relocateBinary(content, row.offsets, needle.length, replacement);
}

/** Every listed offset holds the placeholder, in ascending order and without overlap. */
function checkOffsets(content: Buffer, offsets: readonly number[], needle: Buffer, where: string): void {
  let end = 0;
  for (const offset of offsets) {
    let problem: string | undefined;
    if (!Number.isSafeInteger(offset) || offset < end)
      problem = `offset ${offset} is out of order or overlaps the previous occurrence`;
    else if (offset + needle.length > content.length)
      problem = `offset ${offset} is past the end of the file (${content.length} bytes)`;
    else if (!content.subarray(offset, offset + needle.length).equals(needle))
      problem = `the placeholder is not at offset ${offset}`;
    if (problem !== undefined) {
      throw new KilnError(
        'E_PACKAGE_MANIFEST',
        `cannot relocate ${where}: ${problem}, so the package's relocation table does not match the file`,
        {
          hint: 'the package is corrupt or was altered; download it again, or report it to the packager',
        },
      );
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

/**
 * Each occurrence becomes the prefix followed by as many "/" as it is shorter
 * than the placeholder, so no byte moves: a string whose length was fixed at
 * compile time (`sizeof`, as nginx does with its prefix) still holds a whole
 * path, and a string the linker merged into another string's tail still
 * starts where it did. The kernel treats repeated "/" as one.
 */
function relocateBinary(content: Buffer, offsets: readonly number[], length: number, replacement: Buffer): Buffer {
  const padded = Buffer.alloc(length, '/');
  replacement.copy(padded);
  const result = Buffer.from(content);
  for (const offset of offsets) padded.copy(result, offset);
  return result;
}

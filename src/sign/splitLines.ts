/**
 * The lines of a text file in which every line, the last included, ends in
 * `\n`; `undefined` for any other text (empty, or no final newline). A `\r`
 * stays part of its line, so callers reject CRLF files where they check a line.
 *
 * @example
 * splitLines('a\nb\n'); // ['a', 'b']
 * splitLines('a\nb');   // undefined
 */
export function splitLines(text: string): string[] | undefined {
  if (!text.endsWith('\n')) {
    return undefined;
  }
  return text.slice(0, -1).split('\n');
}

/**
 * Quoting for command lines Kiln prints for people to run: a word that the
 * shell would split, expand or glob is put in single quotes, so that pasting
 * the line runs exactly what was meant (`kiln --prefix '/srv/my stack' list`).
 */

/** A word as a POSIX shell reads it back unchanged. */
export function shellQuote(word: string): string {
  if (word !== '' && /^[A-Za-z0-9_@%+=:,./-]+$/.test(word)) return word;
  return `'${word.replace(/'/g, `'\\''`)}'`;
}

/** Words joined into one command line, each quoted as needed. */
export function shellLine(words: readonly string[]): string {
  return words.map(shellQuote).join(' ');
}

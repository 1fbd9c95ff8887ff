/**
 * "Did you mean …?": the candidates closest to a mistyped word, by edit
 * distance with transpositions (Damerau–Levenshtein, optimal string
 * alignment), as git and cargo suggest commands.
 */

/** The optimal-string-alignment distance between `a` and `b`, or `limit + 1` once it is sure to exceed `limit`. */
export function editDistance(a: string, b: string, limit = Number.POSITIVE_INFINITY): number {
  if (Math.abs(a.length - b.length) > limit) return limit + 1;
  let previous2: number[] = [];
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    let rowMin = i;
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let value = Math.min(previous[j]! + 1, current[j - 1]! + 1, previous[j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1])
        value = Math.min(value, previous2[j - 2]! + 1);
      current.push(value);
      rowMin = Math.min(rowMin, value);
    }
    if (rowMin > limit) return limit + 1;
    previous2 = previous;
    previous = current;
  }
  return previous[b.length]!;
}

/**
 * The candidates within a distance that grows with the word's length (1 for
 * up to 4 characters, 2 up to 8, then 3), closest first, at most `max`; a
 * candidate that starts with the word (an abbreviation) counts as distance 1.
 *
 * @example
 * suggest('instal', ['install', 'info', 'init']); // ['install']
 * suggest('ngnix', ['nginx', 'zlib']); // ['nginx']
 */
export function suggest(word: string, candidates: Iterable<string>, max = 3): string[] {
  const limit = word.length <= 4 ? 1 : word.length <= 8 ? 2 : 3;
  const lower = word.toLowerCase();
  const scored: [string, number][] = [];
  const seen = new Set<string>();
  for (const candidate of candidates) {
    if (seen.has(candidate) || candidate === word) continue;
    seen.add(candidate);
    const other = candidate.toLowerCase();
    const distance =
      other === lower ? 0 : lower.length >= 3 && other.startsWith(lower) ? 1 : editDistance(lower, other, limit);
    if (distance <= limit) scored.push([candidate, distance]);
  }
  scored.sort((x, y) => x[1] - y[1] || (x[0] < y[0] ? -1 : x[0] > y[0] ? 1 : 0));
  return scored.slice(0, max).map(([candidate]) => candidate);
}

/** A hint sentence for suggestions: `did you mean nginx?`, `did you mean a, b or c?`, or undefined when there are none. */
export function didYouMean(suggestions: readonly string[], quote = (s: string): string => s): string | undefined {
  if (suggestions.length === 0) return undefined;
  const quoted = suggestions.map(quote);
  const list = quoted.length === 1 ? quoted[0]! : `${quoted.slice(0, -1).join(', ')} or ${quoted[quoted.length - 1]!}`;
  return `did you mean ${list}?`;
}

/**
 * Name patterns as in configuration lists (`binaryDeny = ["openssl*"]`):
 * `*` matches any run of characters, `?` one character, everything else
 * itself. A pattern matches the whole name.
 */
const cache = new Map<string, RegExp>();

/** Whether `name` matches the pattern. */
export function matchesNamePattern(pattern: string, name: string): boolean {
  let regex = cache.get(pattern);
  if (regex === undefined) {
    const body = pattern
      .replace(/[.+^${}()|[\]\\]/g, '\\$&')
      .replace(/\*/g, '.*')
      .replace(/\?/g, '.');
    regex = new RegExp(`^${body}$`);
    cache.set(pattern, regex);
  }
  return regex.test(name);
}

/** The first pattern of the list that matches, or undefined. */
export function firstMatchingPattern(patterns: readonly string[], name: string): string | undefined {
  return patterns.find((pattern) => matchesNamePattern(pattern, name));
}

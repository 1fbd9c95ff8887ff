/**
 * Tables keyed by what users and packages write (remote, option, package and
 * account names): objects without a prototype, so that a key such as
 * `__proto__`, `constructor` or `toString` is an entry like any other, never
 * the prototype or one of its methods.
 */

/** An empty table without a prototype, or one holding `entries`. */
export function dict<T>(entries: Iterable<readonly [string, T]> = []): Record<string, T> {
  const table = Object.create(null) as Record<string, T>;
  for (const [key, value] of entries) table[key] = value;
  return table;
}

/** The table's own entry for `key`; never a property inherited from a prototype. */
export function own<T>(table: Readonly<Record<string, T>>, key: string): T | undefined {
  return Object.hasOwn(table, key) ? table[key] : undefined;
}

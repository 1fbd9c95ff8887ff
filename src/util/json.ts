/**
 * Stable JSON: objects are written with their keys sorted, so equal values give
 * equal bytes whatever order they were built in. Used for everything Kiln
 * hashes or signs.
 */
import { dict } from './dict.js';
export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };

/**
 * Serialize with sorted keys and no whitespace.
 * @example stableStringify({ b: 1, a: [true, null] }) === '{"a":[true,null],"b":1}'
 */
export function stableStringify(value: unknown): string {
  return JSON.stringify(sortKeys(value));
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value !== null && typeof value === 'object') {
    const sorted: Record<string, unknown> = dict();
    for (const key of Object.keys(value).sort()) {
      const item = (value as Record<string, unknown>)[key];
      if (item !== undefined) sorted[key] = sortKeys(item);
    }
    return sorted;
  }
  if (typeof value === 'number' && !Number.isFinite(value)) {
    throw new Error(`Assertion failed: cannot serialize non-finite number ${value}`);
  }
  return value;
}

/** Parse JSON, returning `undefined` instead of throwing on malformed text. */
export function tryParseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

/**
 * Small checkers for untrusted structured data (JSON, TOML). Each takes the
 * value, where it sits (`files[3].mode`) and a `fail` callback that throws the
 * caller's own error, so messages name both the document and the field.
 */
export type Fail = (where: string, problem: string) => never;

export function isRecord(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/** An object whose keys are all in `allowed` (when given). */
export function expectObject(
  value: unknown,
  where: string,
  fail: Fail,
  allowed?: readonly string[],
): Record<string, unknown> {
  if (!isRecord(value)) fail(where, 'must be an object');
  if (allowed) {
    for (const key of Object.keys(value)) {
      if (!allowed.includes(key)) fail(join(where, key), `is not a known field (known: ${allowed.join(', ')})`);
    }
  }
  return value;
}

export function expectString(value: unknown, where: string, fail: Fail, pattern?: RegExp, describe?: string): string {
  if (typeof value !== 'string') fail(where, 'must be a string');
  if (pattern && !pattern.test(value))
    fail(where, `${JSON.stringify(value)} is not ${describe ?? `of the form ${pattern.source}`}`);
  return value;
}

export function optionalString(
  value: unknown,
  where: string,
  fail: Fail,
  pattern?: RegExp,
  describe?: string,
): string | undefined {
  return value === undefined ? undefined : expectString(value, where, fail, pattern, describe);
}

export function expectBoolean(value: unknown, where: string, fail: Fail): boolean {
  if (typeof value !== 'boolean') fail(where, 'must be true or false');
  return value;
}

export function expectInteger(
  value: unknown,
  where: string,
  fail: Fail,
  min = 0,
  max = Number.MAX_SAFE_INTEGER,
): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value)) fail(where, 'must be an integer');
  if (value < min || value > max) fail(where, `must be between ${min} and ${max}`);
  return value;
}

export function expectArray(value: unknown, where: string, fail: Fail): unknown[] {
  if (!Array.isArray(value)) fail(where, 'must be a list');
  return value;
}

/** `where` joined with a key or index: `files` + 3 → `files[3]`, `target` + `cpu` → `target.cpu`. */
export function join(where: string, key: string | number): string {
  if (typeof key === 'number') return `${where}[${key}]`;
  return where === '' ? key : `${where}.${key}`;
}

/**
 * A package's version with its revision, in a module of its own so that the
 * commands that only print versions (list, owns) need not load the metadata
 * parser.
 */

/** The version with its revision, as written in specs: `1.2.3` or `1.2.3-r2`. */
export function fullVersion(meta: { version: string; revision: number }): string {
  return meta.revision > 0 ? `${meta.version}-r${meta.revision}` : meta.version;
}

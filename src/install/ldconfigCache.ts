/**
 * The dynamic loader's cache (/etc/ld.so.cache) as `ldconfig -p` prints it:
 *
 * ```
 * 538 libs found in cache `/etc/ld.so.cache'
 * 	libz.so.1 (libc6,x86-64) => /lib/x86_64-linux-gnu/libz.so.1
 * 	libfoo.so.2 (libc6,x86-64, OS ABI: Linux 3.2.0) => /usr/lib/x86_64-linux-gnu/libfoo.so.2
 * ```
 *
 * Lines of any other form (the count, a cache of another format's header)
 * are skipped.
 */

const ENTRY = /^\s+(\S+) \([^)]*\) => (\/.*)$/;

/**
 * soname → the paths the cache lists for it, in its order (the loader's preference).
 * @example parseLdconfigCache('\tlibz.so.1 (libc6,x86-64) => /lib/libz.so.1\n').get('libz.so.1') // ['/lib/libz.so.1']
 */
export function parseLdconfigCache(text: string): Map<string, string[]> {
  const cache = new Map<string, string[]>();
  for (const line of text.split('\n')) {
    const match = ENTRY.exec(line);
    if (match === null) continue;
    const [, soname, path] = match as unknown as [string, string, string];
    cache.set(soname, [...(cache.get(soname) ?? []), path]);
  }
  return cache;
}

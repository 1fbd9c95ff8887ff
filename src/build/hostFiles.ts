/**
 * Where a Debian or similar build host keeps libraries, headers and
 * pkg-config modules. Builds never search there (their sandbox hides these
 * directories); the lists serve messages that say where the host has
 * something a build looked for.
 */
import { existsSync, realpathSync } from 'node:fs';
import { join } from 'node:path';

const MULTIARCH = ['x86_64-linux-gnu', 'aarch64-linux-gnu'];

export const HOST_LIBRARY_DIRS: readonly string[] = [
  '/lib',
  '/usr/lib',
  '/lib64',
  '/usr/lib64',
  '/usr/local/lib',
  ...MULTIARCH.flatMap((triple) => [`/lib/${triple}`, `/usr/lib/${triple}`]),
];
export const HOST_HEADER_DIRS: readonly string[] = [
  '/usr/local/include',
  ...MULTIARCH.map((triple) => `/usr/include/${triple}`),
  '/usr/include',
];
export const HOST_PKGCONFIG_DIRS: readonly string[] = [
  '/usr/local/lib/pkgconfig',
  '/usr/local/share/pkgconfig',
  ...MULTIARCH.map((triple) => `/usr/lib/${triple}/pkgconfig`),
  '/usr/lib/pkgconfig',
  '/usr/share/pkgconfig',
];

/**
 * The first of `dirs` that holds `name`, as a path.
 * @example findOnHost('zlib.h', HOST_HEADER_DIRS) // '/usr/include/zlib.h' where zlib1g-dev is installed
 */
export function findOnHost(name: string, dirs: readonly string[]): string | undefined {
  // Named by its directory's real path: /usr/lib/…, not /lib/… of a merged /usr.
  for (const dir of dirs) if (existsSync(join(dir, name))) return join(realpathSync(dir), name);
  return undefined;
}

/**
 * What a trimmed bundle leaves out: files only a build needs (`dev`: headers,
 * static and libtool libraries, pkg-config, CMake and Autoconf files) and
 * documentation (`docs`: manual and info pages, share/doc). `--with dev|docs`
 * keeps them.
 */

export type TrimClass = 'dev' | 'docs';
export const TRIM_CLASSES: readonly TrimClass[] = ['dev', 'docs'];

const DEV_DIRECTORIES = [
  'include',
  'lib/pkgconfig',
  'lib64/pkgconfig',
  'share/pkgconfig',
  'lib/cmake',
  'lib64/cmake',
  'share/cmake',
  'share/aclocal',
];
const DOCS_DIRECTORIES = ['share/man', 'man', 'share/doc', 'doc', 'share/info', 'info', 'share/gtk-doc'];

/**
 * The class a prefix-relative path belongs to, or undefined when a running
 * program may need it. A directory gets the class of what it holds.
 * @example trimClass('include/zlib.h') // 'dev'
 * @example trimClass('lib/libz.a') // 'dev'
 * @example trimClass('share/man/man8/nginx.8') // 'docs'
 * @example trimClass('lib/libz.so.1') // undefined
 */
export function trimClass(path: string): TrimClass | undefined {
  const under = (dirs: readonly string[]): boolean => dirs.some((dir) => path === dir || path.startsWith(`${dir}/`));
  if (under(DEV_DIRECTORIES)) return 'dev';
  if (under(DOCS_DIRECTORIES)) return 'docs';
  const base = path.slice(path.lastIndexOf('/') + 1);
  if (/^lib.*\.(a|la)$/.test(base) && /^(lib|lib64)\//.test(path)) return 'dev';
  return undefined;
}

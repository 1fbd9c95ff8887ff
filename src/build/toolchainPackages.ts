/**
 * The toolchain: the installed Debian packages whose files a build may see
 * in its sandbox (docs/recipes.md, "The sandbox"). Everything else of the
 * host — other libraries' headers, static and shared libraries, pkg-config
 * files — stays out of sight, so that a build can only use what its build
 * dependencies put into the placeholder prefix.
 *
 * The set is the closure, over Depends and Pre-Depends, of the essential
 * packages (what every Debian package may use without saying so) and the
 * toolchain roots below. A development package (`*-dev`) reached that way is
 * kept only if it is the C library's or the compiler's own: libc6-dev depends
 * on libtirpc-dev and libnsl-dev, whose libraries no target is promised.
 */
import type { DpkgPackage } from './dpkgDatabase.js';

/** The packages a build may use, where installed: compilers, binutils, the C library's headers, and the tools build scripts run. */
export const TOOLCHAIN_ROOTS: readonly string[] = [
  // Compilers, assembler and linker, the C library's headers and crt files.
  'gcc',
  'g++',
  'cpp',
  'binutils',
  'libc6-dev',
  // What build scripts and configure scripts run (the essential packages bring the shell, coreutils, sed, grep, tar …).
  'make',
  'patch',
  'perl',
  'gzip',
  'bzip2',
  'xz-utils',
  'zstd',
  'file',
  'm4',
  'gawk',
  'mawk',
  'bc',
  'pkgconf',
  // Build systems and generators some upstreams need (expat: cmake; sqlite: tclsh; OpenSSL: perl).
  'cmake',
  'ninja-build',
  'meson',
  'autoconf',
  'automake',
  'libtool',
  'bison',
  'flex',
  'gettext',
  'tcl',
  'python3',
];

/** Development packages that belong to the toolchain itself: the C library's (its sonames are the allowed system set) and the compiler's runtime. */
export const TOOLCHAIN_DEVELOPMENT_PACKAGE =
  /^(libc6-dev|linux-libc-dev|libcrypt-dev|libgcc-\d+-dev|libstdc\+\+-\d+-dev)$/;

export interface ToolchainPackages {
  /** The packages whose files the sandbox shows, by name. */
  packages: DpkgPackage[];
  /** Development packages the closure reached but left out (libtirpc-dev …), for the build log. */
  leftOut: string[];
}

/**
 * The toolchain's packages among `installed`: essential packages and
 * TOOLCHAIN_ROOTS, closed over their dependencies (the first installed
 * alternative of each `a | b`), without foreign development packages.
 * @example toolchainPackages(await readInstalledPackages()).packages.some((pkg) => pkg.name === 'libc6-dev') // true on a host with gcc
 */
export function toolchainPackages(
  installed: readonly DpkgPackage[],
  roots: readonly string[] = TOOLCHAIN_ROOTS,
): ToolchainPackages {
  // A multiarch host may have one name in several architectures: dpkg's own is the native one.
  const native = installed.find((pkg) => pkg.name === 'dpkg')?.architecture;
  const byName = new Map<string, DpkgPackage>();
  for (const pkg of installed) {
    const known = byName.get(pkg.name);
    if (
      known === undefined ||
      (known.architecture !== native && (pkg.architecture === native || pkg.architecture === 'all'))
    )
      byName.set(pkg.name, pkg);
  }
  const providers = new Map<string, DpkgPackage>();
  for (const pkg of byName.values())
    for (const name of pkg.provides) if (!providers.has(name)) providers.set(name, pkg);
  const find = (name: string): DpkgPackage | undefined => byName.get(name) ?? providers.get(name);

  const chosen = new Map<string, DpkgPackage>();
  const leftOut = new Set<string>();
  const queue: DpkgPackage[] = [...byName.values()].filter((pkg) => pkg.essential);
  for (const name of roots) {
    const pkg = find(name);
    if (pkg !== undefined) queue.push(pkg);
  }
  while (queue.length > 0) {
    const pkg = queue.pop()!;
    if (chosen.has(pkg.name)) continue;
    if (pkg.name.endsWith('-dev') && !TOOLCHAIN_DEVELOPMENT_PACKAGE.test(pkg.name)) {
      leftOut.add(pkg.name);
      continue;
    }
    chosen.set(pkg.name, pkg);
    for (const group of pkg.depends) {
      const dep = group.map(find).find((candidate) => candidate !== undefined);
      if (dep !== undefined) queue.push(dep);
    }
  }
  const byPackageName = (a: DpkgPackage, b: DpkgPackage): number => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);
  return { packages: [...chosen.values()].sort(byPackageName), leftOut: [...leftOut].sort() };
}

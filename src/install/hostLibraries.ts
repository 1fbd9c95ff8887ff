/**
 * The host's shared libraries, where its dynamic loader finds them for a
 * program whose own run path does not lead to them: first the loader's cache
 * (/etc/ld.so.cache, as `ldconfig -p` prints it; it holds the directories of
 * /etc/ld.so.conf), then the loader's default directories (the multiarch ones
 * of Debian and Ubuntu, `lib64` of Fedora and others, then `lib`).
 * LD_LIBRARY_PATH is not looked at: a package must not need it.
 *
 * A file counts only when it is an ELF object of the package's architecture:
 * a 32-bit libz.so.1 in /usr/lib does not serve a 64-bit program. For the
 * prefix `/` these directories are the prefix's own, which is right: its
 * programs run with that loader.
 */
import { spawnSync } from 'node:child_process';
import { closeSync, openSync, readSync } from 'node:fs';
import { isErrno } from '../errors/index.js';
import { parseLdconfigCache } from './ldconfigCache.js';

/** What the loader of one architecture looks for: the ELF class and machine (elf.h EM_*), and the multiarch directory name. */
interface ArchLoader {
  bits: 32 | 64;
  machine: number;
  multiarch: string;
}

const ARCHES: Readonly<Record<string, ArchLoader>> = {
  x86_64: { bits: 64, machine: 62, multiarch: 'x86_64-linux-gnu' },
  aarch64: { bits: 64, machine: 183, multiarch: 'aarch64-linux-gnu' },
  i686: { bits: 32, machine: 3, multiarch: 'i386-linux-gnu' },
  i386: { bits: 32, machine: 3, multiarch: 'i386-linux-gnu' },
  armv7l: { bits: 32, machine: 40, multiarch: 'arm-linux-gnueabihf' },
  riscv64: { bits: 64, machine: 243, multiarch: 'riscv64-linux-gnu' },
  ppc64le: { bits: 64, machine: 21, multiarch: 'powerpc64le-linux-gnu' },
  s390x: { bits: 64, machine: 22, multiarch: 's390x-linux-gnu' },
};

/** Where ldconfig is: root's directories are often not on an ordinary user's PATH. */
const LDCONFIG = ['/sbin/ldconfig', '/usr/sbin/ldconfig', 'ldconfig'];

/** `ldconfig -p`, or undefined where there is none (musl systems have no cache). */
function readLoaderCache(): string | undefined {
  for (const program of LDCONFIG) {
    const result = spawnSync(program, ['-p'], {
      encoding: 'utf8',
      env: { LC_ALL: 'C', PATH: process.env['PATH'] ?? '/usr/bin:/bin' },
      maxBuffer: 64 << 20,
    });
    if (result.error === undefined && result.status === 0) return result.stdout;
  }
  return undefined;
}

export class HostLibraries {
  private cache: Map<string, string[]> | undefined;

  /** `readCache` returns `ldconfig -p`'s output (tests pass their own); it runs once, when first needed. */
  constructor(private readonly readCache: () => string | undefined = readLoaderCache) {}

  /**
   * The path where the host's loader finds `soname` for a program of `arch`, or undefined.
   * @example new HostLibraries().find('libc.so.6', 'x86_64') // '/lib/x86_64-linux-gnu/libc.so.6'
   */
  find(soname: string, arch: string): string | undefined {
    this.cache ??= parseLdconfigCache(this.readCache() ?? '');
    const loader = ARCHES[arch];
    const directories =
      loader === undefined
        ? ['/lib', '/usr/lib']
        : [
            `/lib/${loader.multiarch}`,
            `/usr/lib/${loader.multiarch}`,
            ...(loader.bits === 64 ? ['/lib64', '/usr/lib64'] : []),
            '/lib',
            '/usr/lib',
          ];
    const candidates = [...(this.cache.get(soname) ?? []), ...directories.map((dir) => `${dir}/${soname}`)];
    return candidates.find((path) => servesArch(path, loader));
  }
}

/** True when `path` is an ELF file the loader of `loader` maps (any ELF file for an architecture not in the table). */
function servesArch(path: string, loader: ArchLoader | undefined): boolean {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (error) {
    if (
      isErrno(error, 'ENOENT') ||
      isErrno(error, 'ENOTDIR') ||
      isErrno(error, 'EACCES') ||
      isErrno(error, 'EISDIR') ||
      isErrno(error, 'ELOOP')
    )
      return false;
    throw error;
  }
  const head = Buffer.alloc(20);
  let read: number;
  try {
    read = readSync(fd, head, 0, head.length, 0);
  } catch (error) {
    if (isErrno(error, 'EISDIR')) return false;
    throw error;
  } finally {
    closeSync(fd);
  }
  // e_ident: the magic, EI_CLASS (1 = 32-bit, 2 = 64-bit), EI_DATA (1 = little-endian); e_machine at 18.
  if (read < head.length || head.readUInt32BE(0) !== 0x7f454c46) return false;
  if (loader === undefined) return true;
  const machine = head[5] === 2 ? head.readUInt16BE(18) : head.readUInt16LE(18);
  return head[4] === (loader.bits === 64 ? 2 : 1) && machine === loader.machine;
}

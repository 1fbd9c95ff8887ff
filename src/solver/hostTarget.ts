/**
 * What the host can run: architecture, C library and its version, CPU levels.
 * The I/O of finding them out lives here (the loader, /proc/cpuinfo); reading
 * what they say is cpuLevel.ts. `targetProblem` (pure) says why a package's
 * target does not fit a host.
 */
import { spawnSync } from 'node:child_process';
import { closeSync, openSync, readFileSync, readSync } from 'node:fs';
import { readInterpreter } from '../elf/index.js';
import { isErrno, isKilnError } from '../errors/index.js';
import type { Target } from '../format/metadata.js';
import { compareVersions, tryParseVersion } from '../version/index.js';
import { cpuinfoFlags, parseLoaderLevels, x86Levels } from './cpuLevel.js';
import type { HostTarget } from './types.js';

const ARCH_NAMES: Record<string, string> = {
  x64: 'x86_64',
  arm64: 'aarch64',
  ia32: 'i686',
  arm: 'armv7l',
  riscv64: 'riscv64',
  ppc64: 'ppc64le',
  s390x: 's390x',
};

/** Where glibc's x86_64 loader is when no executable names it (the psABI's path). */
export const DEFAULT_X86_64_LOADER = '/lib64/ld-linux-x86-64.so.2';

let detected: HostTarget | undefined;

/** This machine's architecture, C library and CPU levels; detected once per process. */
export function detectHost(): HostTarget {
  if (detected !== undefined) return detected;
  const arch = ARCH_NAMES[process.arch] ?? process.arch;
  const header = (process.report.getReport() as { header?: { glibcVersionRuntime?: string } }).header;
  const glibc = header?.glibcVersionRuntime;
  const cpuLevels = arch === 'x86_64' ? detectX86Levels(glibc !== undefined).levels : [arch];
  detected = { arch, libc: glibc === undefined ? 'musl' : 'glibc', libcVersion: glibc ?? '0', cpuLevels };
  return detected;
}

/**
 * The x86-64 levels this machine runs, and which evidence said so.
 *
 * glibc's loader wins: it is what decides, when a program starts, which
 * glibc-hwcaps libraries it may load, from CPUID and from what the kernel has
 * enabled (the XSAVE state AVX needs), with the psABI's exact lists. Our own
 * reading of /proc/cpuinfo (the kernel's view of the same CPUID bits, under its
 * own names) is only the fallback, for a loader that does not list levels (glibc
 * before 2.33, musl) or none found: on a cloud VM the two can disagree, and a
 * level the loader accepts is one whose binaries glibc itself would pick.
 * `glibc`: whether the C library is glibc; only glibc's loader is asked.
 */
export function detectX86Levels(glibc: boolean): { levels: string[]; source: 'loader' | 'cpuinfo' } {
  const help = glibc ? loaderHelp() : undefined;
  const fromLoader = help === undefined ? undefined : parseLoaderLevels(help);
  if (fromLoader !== undefined) return { levels: fromLoader, source: 'loader' };
  let cpuinfo = '';
  try {
    cpuinfo = readFileSync('/proc/cpuinfo', 'utf8');
  } catch (error) {
    // No /proc (a chroot, a container without it): the baseline, which every x86_64 CPU runs.
    if (!isErrno(error, 'ENOENT') && !isErrno(error, 'EACCES')) throw error;
  }
  return { levels: x86Levels(cpuinfoFlags(cpuinfo)), source: 'cpuinfo' };
}

/** What `LOADER --help` prints, or undefined when it cannot be run. */
function loaderHelp(): string | undefined {
  // An empty environment: GLIBC_TUNABLES can hide features from the loader that the CPU has, and LD_* variables have no say here.
  const result = spawnSync(findLoader(), ['--help'], {
    encoding: 'utf8',
    env: {},
    stdio: ['ignore', 'pipe', 'ignore'],
    timeout: 10_000,
  });
  return result.error === undefined && result.status === 0 ? result.stdout : undefined;
}

/**
 * The dynamic loader that started this process: the program interpreter of
 * its executable (/proc/self/exe, else node's path), which on a system with
 * its loader elsewhere (NixOS, Guix, a distribution's multiarch layout) is
 * still the one that runs here; else the psABI's path.
 */
export function findLoader(): string {
  for (const executable of ['/proc/self/exe', process.execPath]) {
    const interpreter = interpreterOf(executable);
    if (interpreter !== undefined) return interpreter;
  }
  return DEFAULT_X86_64_LOADER;
}

/** Bytes of an executable's head read for its interpreter: its headers and PT_INTERP come first. */
const HEAD_BYTES = 65536;

function interpreterOf(executable: string): string | undefined {
  let fd: number;
  try {
    fd = openSync(executable, 'r');
  } catch (error) {
    if (isErrno(error, 'ENOENT') || isErrno(error, 'EACCES')) return undefined;
    throw error;
  }
  try {
    const head = Buffer.alloc(HEAD_BYTES);
    const length = readSync(fd, head, 0, HEAD_BYTES, 0);
    return readInterpreter(head.subarray(0, length), executable);
  } catch (error) {
    // Not an ELF file, or one whose interpreter lies beyond its head: look elsewhere.
    if (isKilnError(error, 'E_ELF')) return undefined;
    throw error;
  } finally {
    closeSync(fd);
  }
}

/** Why `target` cannot run on `host`, or undefined when it can. */
export function targetProblem(target: Target, host: HostTarget): string | undefined {
  if (target.arch !== host.arch) return `it is built for ${target.arch}, this host is ${host.arch}`;
  if (target.libc !== host.libc) return `it needs ${target.libc}, this host has ${host.libc}`;
  const needed = tryParseVersion(target.libcVersion);
  const have = tryParseVersion(host.libcVersion);
  if (needed !== undefined && have !== undefined && compareVersions(needed, have) > 0) {
    return `it needs ${target.libc} ${target.libcVersion}, this host has ${host.libcVersion}`;
  }
  if (!host.cpuLevels.includes(target.cpu))
    return `it is built for CPU level ${target.cpu}, this host supports ${host.cpuLevels.join(', ')}`;
  return undefined;
}

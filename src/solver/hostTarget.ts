/**
 * What the host can run: architecture, C library and its version, CPU levels.
 * `targetProblem` (pure) says why a package's target does not fit a host.
 */
import { readFileSync } from 'node:fs';
import type { Target } from '../format/metadata.js';
import { compareVersions, tryParseVersion } from '../version/index.js';
import type { HostTarget } from './types.js';

const ARCH_NAMES: Record<string, string> = { x64: 'x86_64', arm64: 'aarch64', ia32: 'i686', arm: 'armv7l', riscv64: 'riscv64', ppc64: 'ppc64le', s390x: 's390x' };

/** x86-64 micro-architecture levels and the /proc/cpuinfo flags each adds (psABI). */
const X86_LEVELS: readonly [string, readonly string[]][] = [
  ['x86-64', []],
  ['x86-64-v2', ['cx16', 'lahf_lm', 'popcnt', 'sse4_1', 'sse4_2', 'ssse3']],
  ['x86-64-v3', ['avx', 'avx2', 'bmi1', 'bmi2', 'f16c', 'fma', 'abm', 'movbe', 'xsave']],
  ['x86-64-v4', ['avx512f', 'avx512bw', 'avx512cd', 'avx512dq', 'avx512vl']],
];

/** The CPU levels a set of x86 flags supports, lowest first. */
export function x86Levels(flags: ReadonlySet<string>): string[] {
  const levels: string[] = [];
  for (const [level, needs] of X86_LEVELS) {
    if (!needs.every((flag) => flags.has(flag))) break;
    levels.push(level);
  }
  return levels;
}

let detected: HostTarget | undefined;

export function detectHost(): HostTarget {
  if (detected !== undefined) return detected;
  const arch = ARCH_NAMES[process.arch] ?? process.arch;
  const header = (process.report.getReport() as { header?: { glibcVersionRuntime?: string } }).header;
  const glibc = header?.glibcVersionRuntime;
  let cpuLevels = [arch];
  if (arch === 'x86_64') {
    let flags = new Set<string>();
    try {
      const line = /^flags\s*:(.*)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'));
      flags = new Set((line?.[1] ?? '').trim().split(/\s+/));
    } catch {
      // No /proc: assume the baseline only.
    }
    cpuLevels = x86Levels(flags);
  }
  detected = { arch, libc: glibc === undefined ? 'musl' : 'glibc', libcVersion: glibc ?? '0', cpuLevels };
  return detected;
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
  if (!host.cpuLevels.includes(target.cpu)) return `it is built for CPU level ${target.cpu}, this host supports ${host.cpuLevels.join(', ')}`;
  return undefined;
}

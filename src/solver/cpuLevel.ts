/**
 * x86-64 micro-architecture levels (the x86-64 psABI's `x86-64`, `x86-64-v2`,
 * `x86-64-v3`, `x86-64-v4`): which ones a host runs, from the evidence
 * `detectHost` gathers, and the prefix's `cpu-level` setting applied to them.
 * Pure: the I/O (running the loader, reading /proc/cpuinfo) is in hostTarget.ts.
 */
import { KilnError } from '../errors/index.js';
import type { HostTarget } from './types.js';

/** The x86-64 levels Kiln knows, lowest first; each runs everything the ones before it run. */
export const X86_64_LEVELS = ['x86-64', 'x86-64-v2', 'x86-64-v3', 'x86-64-v4'] as const;

/**
 * The features each level adds, in the psABI's words, and the names under
 * which Linux shows each in /proc/cpuinfo: first the psABI's name in lower
 * case, then the kernel's where it differs. The baseline is not listed: every
 * x86_64 CPU has it (the kernel does not boot without it).
 *
 * The names that differ: SSE3 is `pni` (Intel's "Prescott New Instructions");
 * LAHF-SAHF is `lahf_lm`; LZCNT is `abm` (AMD's "advanced bit manipulation",
 * the same CPUID bit, 0x80000001 ECX bit 5, on every vendor); CMPXCHG16B is
 * `cx16`. OSXSAVE (the OS has enabled XSAVE) is hidden by most kernels; they
 * show `xsave` only while they use it themselves, and clear it, and every AVX
 * flag, when it is disabled (`noxsave`) — so `xsave` stands for OSXSAVE.
 *
 * A feature may also be implied by others (`impliedBy`: all of them shown).
 * LZCNT is implied by BMI1 and AVX2 together: no CPU has those without LZCNT
 * (Intel Haswell brought all three, AMD had LZCNT years before BMI1), while some
 * kernels hide `abm` — seen on a cloud VM (AMD EPYC) whose /proc/cpuinfo shows
 * `bmi1` and `avx2` but not `abm`, though CPUID, which glibc's loader reads,
 * has LZCNT and the loader reports x86-64-v3 and v4.
 */
export const X86_64_FEATURES: readonly {
  level: string;
  features: readonly Feature[];
}[] = [
  {
    level: 'x86-64-v2',
    features: [
      { feature: 'CMPXCHG16B', flags: ['cx16'] },
      { feature: 'LAHF-SAHF', flags: ['lahf_lm'] },
      { feature: 'POPCNT', flags: ['popcnt'] },
      { feature: 'SSE3', flags: ['sse3', 'pni'] },
      { feature: 'SSE4_1', flags: ['sse4_1'] },
      { feature: 'SSE4_2', flags: ['sse4_2'] },
      { feature: 'SSSE3', flags: ['ssse3'] },
    ],
  },
  {
    level: 'x86-64-v3',
    features: [
      { feature: 'AVX', flags: ['avx'] },
      { feature: 'AVX2', flags: ['avx2'] },
      { feature: 'BMI1', flags: ['bmi1'] },
      { feature: 'BMI2', flags: ['bmi2'] },
      { feature: 'F16C', flags: ['f16c'] },
      { feature: 'FMA', flags: ['fma'] },
      { feature: 'LZCNT', flags: ['lzcnt', 'abm'], impliedBy: ['bmi1', 'avx2'] },
      { feature: 'MOVBE', flags: ['movbe'] },
      { feature: 'OSXSAVE', flags: ['osxsave', 'xsave'] },
    ],
  },
  {
    level: 'x86-64-v4',
    features: [
      { feature: 'AVX512F', flags: ['avx512f'] },
      { feature: 'AVX512BW', flags: ['avx512bw'] },
      { feature: 'AVX512CD', flags: ['avx512cd'] },
      { feature: 'AVX512DQ', flags: ['avx512dq'] },
      { feature: 'AVX512VL', flags: ['avx512vl'] },
    ],
  },
];

/**
 * The levels a set of /proc/cpuinfo flags supports, lowest first: each level
 * needs every feature the psABI lists for it and for the levels below.
 *
 * @example x86Levels(cpuinfoFlags(readFileSync('/proc/cpuinfo', 'utf8'))); // ['x86-64', 'x86-64-v2', 'x86-64-v3']
 */
export function x86Levels(flags: ReadonlySet<string>): string[] {
  const levels: string[] = [X86_64_LEVELS[0]];
  for (const { level, features } of X86_64_FEATURES) {
    if (missingFeatures(flags, features).length > 0) break;
    levels.push(level);
  }
  return levels;
}

/**
 * The psABI features of `level` (and the levels below it) that the flags do
 * not show, for messages and tests; empty when the flags support the level.
 *
 * @example missingX86Features(new Set(['avx', 'avx2']), 'x86-64-v3'); // ['CMPXCHG16B', …, 'OSXSAVE']
 */
export function missingX86Features(flags: ReadonlySet<string>, level: string): string[] {
  const upTo = X86_64_FEATURES.findIndex((entry) => entry.level === level);
  return X86_64_FEATURES.slice(0, upTo + 1).flatMap((entry) => missingFeatures(flags, entry.features));
}

export interface Feature {
  feature: string;
  /** Any of these flags shows it. */
  flags: readonly string[];
  /** All of these flags together show it too. */
  impliedBy?: readonly string[];
}

function missingFeatures(flags: ReadonlySet<string>, features: readonly Feature[]): string[] {
  const shown = (entry: Feature): boolean =>
    entry.flags.some((flag) => flags.has(flag)) || entry.impliedBy?.every((flag) => flags.has(flag)) === true;
  return features.filter((entry) => !shown(entry)).map((entry) => entry.feature);
}

/**
 * The flags of the first processor in /proc/cpuinfo (all processors of a
 * machine have the same ones); empty when there is no `flags` line.
 *
 * @example cpuinfoFlags('processor\t: 0\nflags\t\t: fpu sse2 pni\n'); // Set { 'fpu', 'sse2', 'pni' }
 */
export function cpuinfoFlags(cpuinfo: string): Set<string> {
  const line = /^flags\s*:(.*)$/m.exec(cpuinfo);
  return new Set((line?.[1] ?? '').split(/\s+/).filter((flag) => flag !== ''));
}

/**
 * The levels glibc's dynamic loader says this CPU supports, from the output of
 * `ld.so --help` (glibc 2.33 and later), lowest first; undefined when the
 * output lists no x86-64 level (an older glibc, another loader). The section
 * looks like this, highest priority first:
 *
 * ```
 * Subdirectories of glibc-hwcaps directories, in priority order:
 *   x86-64-v4
 *   x86-64-v3 (supported, searched)
 *   x86-64-v2 (supported, searched)
 * ```
 *
 * A level is supported when its parenthesis says `supported`, even when it
 * also says `masked` (GLIBC_TUNABLES keeps the loader from searching it, but
 * the CPU runs it).
 *
 * @example parseLoaderLevels(execFileSync('/lib64/ld-linux-x86-64.so.2', ['--help'], { encoding: 'utf8' })); // ['x86-64', 'x86-64-v2', 'x86-64-v3']
 */
export function parseLoaderLevels(help: string): string[] | undefined {
  const lines = help.split('\n');
  const start = lines.findIndex((line) => line.startsWith('Subdirectories of glibc-hwcaps directories'));
  if (start < 0) return undefined;
  const supported = new Set<string>();
  let listed = false;
  for (const line of lines.slice(start + 1)) {
    const entry = /^ {2}(\S+)(?: \(([^)]*)\))?$/.exec(line);
    if (entry === null) break;
    const [, name = '', notes = ''] = entry;
    if (!name.startsWith('x86-64-')) continue;
    listed = true;
    if (notes.split(',').some((note) => note.trim() === 'supported')) supported.add(name);
  }
  if (!listed) return undefined;
  const levels: string[] = [X86_64_LEVELS[0]];
  // The loader's levels nest, as the psABI's do; stopping at the first gap keeps the list a prefix of X86_64_LEVELS either way.
  for (const level of X86_64_LEVELS.slice(1)) {
    if (!supported.has(level)) break;
    levels.push(level);
  }
  return levels;
}

/** The prefix's `cpu-level` setting (docs/config.md). */
export interface CpuLevelSetting {
  level: string;
  /** Accept a level this host does not run (a prefix made for another machine). */
  force: boolean;
}

/**
 * The host as a prefix with `cpu-level` sees it: its CPU levels up to and
 * including the configured one, so the resolver neither prefers nor accepts a
 * binary above it and builds target it. A level the host does not run is
 * refused unless forced; forced, the levels up to it are taken as given.
 * `where` names the configuration file in the message.
 *
 * @throws KilnError `E_CPU_LEVEL` for a level above what the host runs, not forced.
 * @example withCpuLevel(host, { level: 'x86-64', force: false }, '/opt/app/etc/kiln/config.toml').cpuLevels; // ['x86-64']
 */
export function withCpuLevel(host: HostTarget, setting: CpuLevelSetting | undefined, where: string): HostTarget {
  if (setting === undefined) return host;
  const at = host.cpuLevels.indexOf(setting.level);
  if (at >= 0) return { ...host, cpuLevels: host.cpuLevels.slice(0, at + 1) };
  const known: readonly string[] = X86_64_LEVELS;
  if (setting.force) return { ...host, cpuLevels: known.slice(0, known.indexOf(setting.level) + 1) };
  throw new KilnError(
    'E_CPU_LEVEL',
    `cannot use CPU level ${setting.level} (cpu-level in ${where}): this host runs ${host.cpuLevels.join(', ')}`,
    {
      hint: `set cpu-level to one of ${host.cpuLevels.join(', ')}, or, for a prefix meant for another machine, add cpu-level-force = true (its binaries will not run here)`,
    },
  );
}

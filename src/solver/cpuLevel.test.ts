import * as assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isKilnError } from '../errors/index.js';
import { cpuinfoFlags, missingX86Features, parseLoaderLevels, withCpuLevel, x86Levels } from './cpuLevel.js';
import type { HostTarget } from './types.js';

/** `/lib64/ld-linux-x86-64.so.2 --help` on the machine these tests were written on: Debian 12, glibc 2.36, an AMD EPYC VM with AVX-512. */
const LOADER_GLIBC_2_36 = [
  'Usage: /lib64/ld-linux-x86-64.so.2 [OPTION]... EXECUTABLE-FILE [ARGS-FOR-PROGRAM...]',
  "You have invoked 'ld.so', the program interpreter for dynamically-linked",
  'ELF programs.  Usually, the program interpreter is invoked automatically',
  'when a dynamically-linked executable is started.',
  '',
  'You may invoke the program interpreter program directly from the command',
  'line to load and run an ELF executable file; this is like executing that',
  'file itself, but always uses the program interpreter you invoked,',
  'instead of the program interpreter specified in the executable file you',
  'run.  Invoking the program interpreter directly provides access to',
  'additional diagnostics, and changing the dynamic linker behavior without',
  'setting environment variables (which would be inherited by subprocesses).',
  '',
  '  --list                list all dependencies and how they are resolved',
  '  --verify              verify that given object really is a dynamically linked',
  '                        object we can handle',
  '  --inhibit-cache       Do not use /etc/ld.so.cache',
  '  --library-path PATH   use given PATH instead of content of the environment',
  '                        variable LD_LIBRARY_PATH',
  '  --glibc-hwcaps-prepend LIST',
  '                        search glibc-hwcaps subdirectories in LIST',
  '  --glibc-hwcaps-mask LIST',
  '  --inhibit-rpath LIST  ignore RUNPATH and RPATH information in object names',
  '                        in LIST',
  '  --audit LIST          use objects named in LIST as auditors',
  '  --preload LIST        preload objects named in LIST',
  '  --argv0 STRING        set argv[0] to STRING before running',
  '  --list-tunables       list all tunables with minimum and maximum values',
  '  --list-diagnostics    list diagnostics information',
  '  --help                display this help and exit',
  '  --version             output version information and exit',
  '',
  'This program interpreter self-identifies as: /lib64/ld-linux-x86-64.so.2',
  '',
  'Shared library search path:',
  '  (libraries located via /etc/ld.so.cache)',
  '  /lib/x86_64-linux-gnu (system search path)',
  '  /usr/lib/x86_64-linux-gnu (system search path)',
  '  /lib (system search path)',
  '  /usr/lib (system search path)',
  '',
  'Subdirectories of glibc-hwcaps directories, in priority order:',
  '  x86-64-v4 (supported, searched)',
  '  x86-64-v3 (supported, searched)',
  '  x86-64-v2 (supported, searched)',
  '',
  'Legacy HWCAP subdirectories under library search path directories:',
  '  x86_64 (AT_PLATFORM; supported, searched)',
  '  tls (supported, searched)',
  '  avx512_1',
  '  x86_64 (supported, searched)',
].join('\n');

/** The same loader's section on a CPU without AVX-512: the level is listed, without "supported". */
const LOADER_WITHOUT_V4 = LOADER_GLIBC_2_36.replace('  x86-64-v4 (supported, searched)', '  x86-64-v4');

/** glibc 2.32 (Fedora 33; before glibc-hwcaps): --help exists but lists no level, only legacy hwcap directories, so the flags must decide. */
const LOADER_GLIBC_2_32 = `${LOADER_GLIBC_2_36.slice(0, LOADER_GLIBC_2_36.indexOf('Shared library search path:'))
  // Options that came with 2.33 and later, each with its continuation lines.
  .replace(
    /^ {2}--(glibc-hwcaps-prepend|glibc-hwcaps-mask|argv0|list-tunables|list-diagnostics)\b.*\n( {24}.*\n)*/gm,
    '',
  )}${[
  'Shared library search path:',
  '  (libraries located via /etc/ld.so.cache)',
  '  /lib64/tls/haswell/x86_64 (system search path)',
  '  /lib64/tls/haswell (system search path)',
  '  /lib64/tls/x86_64 (system search path)',
  '  /lib64/tls (system search path)',
  '  /lib64/haswell/x86_64 (system search path)',
  '  /lib64/haswell (system search path)',
  '  /lib64/x86_64 (system search path)',
  '  /lib64 (system search path)',
  '  /usr/lib64 (system search path)',
].join('\n')}`;

/** musl's loader, asked the same: no levels. */
const LOADER_MUSL =
  'musl libc (x86_64)\nVersion 1.2.4\nDynamic Program Loader\nUsage: /lib/ld-musl-x86_64.so.1 [options] [--] pathname [args]\n';

/** /proc/cpuinfo flags lines: the machine above; an EPYC 7002 (Zen 2) VM; a Xeon 5500 (Nehalem); a Core 2. */
const FLAGS_EPYC_AVX512 =
  'fpu vme de pse tsc msr pae mce cx8 apic sep mtrr pge mca cmov pat pse36 clflush mmx fxsr sse sse2 ht syscall nx mmxext fxsr_opt pdpe1gb rdtscp lm constant_tsc rep_good nopl xtopology nonstop_tsc cpuid extd_apicid tsc_known_freq pni pclmulqdq ssse3 fma cx16 pcid sse4_1 sse4_2 x2apic movbe popcnt tsc_deadline_timer aes xsave avx f16c rdrand hypervisor lahf_lm cmp_legacy cr8_legacy abm sse4a misalignsse 3dnowprefetch osvw topoext vmmcall fsgsbase tsc_adjust bmi1 avx2 smep bmi2 erms invpcid avx512f avx512dq rdseed adx smap avx512ifma clflushopt clwb avx512cd sha_ni avx512bw avx512vl xsaveopt xsavec xgetbv1 xsaves avx512_bf16 clzero xsaveerptr arat avx512vbmi umip avx512_vbmi2 gfni vaes vpclmulqdq avx512_vnni avx512_bitalg avx512_vpopcntdq rdpid fsrm';
const FLAGS_EPYC_ROME_VM =
  'fpu vme de pse tsc msr pae mce cx8 apic sep mtrr pge mca cmov pat pse36 clflush mmx fxsr sse sse2 syscall nx mmxext fxsr_opt pdpe1gb rdtscp lm constant_tsc rep_good nopl nonstop_tsc cpuid extd_apicid tsc_known_freq pni pclmulqdq ssse3 fma cx16 sse4_1 sse4_2 x2apic movbe popcnt aes xsave avx f16c rdrand hypervisor lahf_lm cmp_legacy cr8_legacy abm sse4a misalignsse 3dnowprefetch osvw topoext perfctr_core invpcid_single ssbd ibrs ibpb stibp vmmcall fsgsbase tsc_adjust bmi1 avx2 smep bmi2 rdseed adx smap clflushopt clwb sha_ni xsaveopt xsavec xgetbv1 clzero xsaveerptr wbnoinvd arat npt nrip_save umip rdpid';
const FLAGS_NEHALEM =
  'fpu vme de pse tsc msr pae mce cx8 apic sep mtrr pge mca cmov pat pse36 clflush dts acpi mmx fxsr sse sse2 ss ht tm pbe syscall nx rdtscp lm constant_tsc arch_perfmon pebs bts rep_good nopl xtopology nonstop_tsc cpuid aperfmperf pni dtes64 monitor ds_cpl vmx est tm2 ssse3 cx16 xtpr pdcm dca sse4_1 sse4_2 popcnt lahf_lm pti ssbd ibrs ibpb stibp tpr_shadow vnmi flexpriority ept vpid dtherm ida flush_l1d';
const FLAGS_CORE2 =
  'fpu vme de pse tsc msr pae mce cx8 apic sep mtrr pge mca cmov pat pse36 clflush dts acpi mmx fxsr sse sse2 ss ht tm pbe syscall nx lm constant_tsc arch_perfmon pebs bts rep_good nopl cpuid aperfmperf pni dtes64 monitor ds_cpl vmx est tm2 ssse3 cx16 xtpr pdcm lahf_lm pti tpr_shadow dtherm';

/** A cloud VM (AMD EPYC) whose kernel shows neither "abm" nor "lzcnt"; its glibc loader reports x86-64-v4. */
const FLAGS_EPYC_HIDDEN_ABM =
  'fpu vme de pse tsc msr pae mce cx8 apic sep pge mca cmov pat pse36 clflush mmx fxsr sse sse2 ht syscall nx mmxext lm constant_tsc rep_good nopl xtopology tsc_reliable nonstop_tsc cpuid extd_apicid tsc_known_freq pni pclmulqdq ssse3 fma cx16 sse4_1 sse4_2 x2apic movbe popcnt tsc_deadline_timer aes xsave avx f16c rdrand hypervisor lahf_lm cr8_legacy misalignsse 3dnowprefetch topoext pti vmmcall bmi1 avx2 bmi2 erms avx512f avx512dq adx avx512ifma clflushopt clwb avx512cd sha_ni avx512bw avx512vl xsaveopt xsavec xgetbv1 avx_vnni avx512_bf16 clzero xsaveerptr arat avx512vbmi avx512_vbmi2 gfni vaes vpclmulqdq avx512_vnni avx512_bitalg avx512_vpopcntdq movdiri movdir64b fsrm avx512_vp2intersect';

const flags = (line: string, ...without: string[]): Set<string> => {
  const set = cpuinfoFlags(
    `processor\t: 0\nvendor_id\t: AuthenticAMD\nflags\t\t: ${line}\nbugs\t\t: sysret_ss_attrs\n`,
  );
  for (const flag of without) set.delete(flag);
  return set;
};

describe('parseLoaderLevels', () => {
  it('reads the supported levels from glibc 2.33+ output, lowest first, with the baseline', () => {
    assert.deepEqual(parseLoaderLevels(LOADER_GLIBC_2_36), ['x86-64', 'x86-64-v2', 'x86-64-v3', 'x86-64-v4']);
    assert.deepEqual(parseLoaderLevels(LOADER_WITHOUT_V4), ['x86-64', 'x86-64-v2', 'x86-64-v3']);
  });

  it('counts a level the loader was told to mask as supported: the CPU still runs it', () => {
    const masked = LOADER_GLIBC_2_36.replace('  x86-64-v3 (supported, searched)', '  x86-64-v3 (supported, masked)');
    assert.deepEqual(parseLoaderLevels(masked), ['x86-64', 'x86-64-v2', 'x86-64-v3', 'x86-64-v4']);
  });

  it('keeps the list a prefix of the known levels, and ignores levels it does not know and other sections', () => {
    const gap = LOADER_GLIBC_2_36.replace('  x86-64-v2 (supported, searched)', '  x86-64-v2');
    assert.deepEqual(parseLoaderLevels(gap), ['x86-64']);
    const future = LOADER_GLIBC_2_36.replace(
      '  x86-64-v4 (supported, searched)',
      '  x86-64-v5 (supported, searched)\n  x86-64-v4 (supported, searched)',
    );
    assert.deepEqual(parseLoaderLevels(future), ['x86-64', 'x86-64-v2', 'x86-64-v3', 'x86-64-v4']);
    // "x86_64 (AT_PLATFORM; supported, searched)" in the legacy section is not a level.
    assert.ok(LOADER_GLIBC_2_36.includes('x86_64 (AT_PLATFORM; supported, searched)'));
  });

  it('is undefined for a loader that lists no levels (glibc before 2.33, musl, nothing)', () => {
    assert.equal(parseLoaderLevels(LOADER_GLIBC_2_32), undefined);
    assert.equal(parseLoaderLevels(LOADER_MUSL), undefined);
    assert.equal(parseLoaderLevels(''), undefined);
    const noX86 =
      'Subdirectories of glibc-hwcaps directories, in priority order:\n  power10 (supported, searched)\n  power9 (supported, searched)\n';
    assert.equal(parseLoaderLevels(noX86), undefined);
  });
});

describe('x86Levels from /proc/cpuinfo flags', () => {
  it('reads real flags lines', () => {
    assert.deepEqual(x86Levels(flags(FLAGS_EPYC_AVX512)), ['x86-64', 'x86-64-v2', 'x86-64-v3', 'x86-64-v4']);
    assert.deepEqual(x86Levels(flags(FLAGS_EPYC_ROME_VM)), ['x86-64', 'x86-64-v2', 'x86-64-v3']);
    assert.deepEqual(x86Levels(flags(FLAGS_NEHALEM)), ['x86-64', 'x86-64-v2']);
    assert.deepEqual(x86Levels(flags(FLAGS_CORE2)), ['x86-64']);
  });

  it("takes the kernel's names for features the psABI names otherwise, and the psABI's own", () => {
    // SSE3 is "pni": without it there is no v2 (and so nothing above).
    assert.deepEqual(x86Levels(flags(FLAGS_EPYC_ROME_VM, 'pni')), ['x86-64']);
    assert.deepEqual(x86Levels(new Set([...flags(FLAGS_EPYC_ROME_VM, 'pni'), 'sse3'])), [
      'x86-64',
      'x86-64-v2',
      'x86-64-v3',
    ]);
    // LZCNT is "abm"; a kernel that said "lzcnt" would be understood too. Without either, BMI1 and
    // AVX2 together imply it (a kernel that hides "abm"); without BMI1 too, there is no v3.
    assert.deepEqual(x86Levels(flags(FLAGS_EPYC_ROME_VM, 'abm', 'bmi1')), ['x86-64', 'x86-64-v2']);
    assert.deepEqual(x86Levels(new Set([...flags(FLAGS_EPYC_ROME_VM, 'abm', 'bmi1'), 'lzcnt'])), [
      'x86-64',
      'x86-64-v2',
    ]);
    assert.deepEqual(missingX86Features(flags(FLAGS_EPYC_ROME_VM, 'abm', 'bmi1'), 'x86-64-v3'), ['BMI1', 'LZCNT']);
    assert.deepEqual(x86Levels(flags(FLAGS_EPYC_ROME_VM, 'abm')), ['x86-64', 'x86-64-v2', 'x86-64-v3']);
    // OSXSAVE is hidden; "xsave" (shown while the kernel uses XSAVE) stands for it.
    assert.deepEqual(x86Levels(flags(FLAGS_EPYC_ROME_VM, 'xsave')), ['x86-64', 'x86-64-v2']);
    assert.deepEqual(x86Levels(new Set([...flags(FLAGS_EPYC_ROME_VM, 'xsave'), 'osxsave'])), [
      'x86-64',
      'x86-64-v2',
      'x86-64-v3',
    ]);
    // LAHF-SAHF is "lahf_lm", CMPXCHG16B "cx16".
    assert.deepEqual(x86Levels(flags(FLAGS_NEHALEM, 'lahf_lm')), ['x86-64']);
    assert.deepEqual(x86Levels(flags(FLAGS_NEHALEM, 'cx16')), ['x86-64']);
  });

  it('reaches v4 on the cloud VM whose kernel hides abm (its loader reports v4)', () => {
    assert.deepEqual(x86Levels(flags(FLAGS_EPYC_HIDDEN_ABM)), ['x86-64', 'x86-64-v2', 'x86-64-v3', 'x86-64-v4']);
  });

  it('needs every feature of a level: one missing AVX-512 subset is enough to stop at v3', () => {
    assert.deepEqual(x86Levels(flags(FLAGS_EPYC_AVX512, 'avx512vl')), ['x86-64', 'x86-64-v2', 'x86-64-v3']);
    assert.deepEqual(x86Levels(flags(FLAGS_EPYC_AVX512, 'movbe')), ['x86-64', 'x86-64-v2']);
  });

  it('is the baseline without any flags (no /proc), and names what is missing', () => {
    assert.deepEqual(x86Levels(cpuinfoFlags('')), ['x86-64']);
    assert.deepEqual(missingX86Features(flags(FLAGS_NEHALEM), 'x86-64-v3'), [
      'AVX',
      'AVX2',
      'BMI1',
      'BMI2',
      'F16C',
      'FMA',
      'LZCNT',
      'MOVBE',
      'OSXSAVE',
    ]);
    assert.deepEqual(missingX86Features(flags(FLAGS_CORE2), 'x86-64-v2'), ['POPCNT', 'SSE4_1', 'SSE4_2']);
    assert.deepEqual(missingX86Features(flags(FLAGS_EPYC_AVX512), 'x86-64-v4'), []);
  });
});

describe('withCpuLevel', () => {
  const host: HostTarget = {
    arch: 'x86_64',
    libc: 'glibc',
    libcVersion: '2.36',
    cpuLevels: ['x86-64', 'x86-64-v2', 'x86-64-v3'],
  };
  const where = '/opt/app/etc/kiln/config.toml';

  it('leaves the host alone without a setting, and caps its levels at the configured one', () => {
    assert.equal(withCpuLevel(host, undefined, where), host);
    assert.deepEqual(withCpuLevel(host, { level: 'x86-64', force: false }, where).cpuLevels, ['x86-64']);
    assert.deepEqual(withCpuLevel(host, { level: 'x86-64-v2', force: false }, where).cpuLevels, [
      'x86-64',
      'x86-64-v2',
    ]);
    assert.deepEqual(withCpuLevel(host, { level: 'x86-64-v3', force: true }, where).cpuLevels, host.cpuLevels);
    assert.deepEqual(host.cpuLevels, ['x86-64', 'x86-64-v2', 'x86-64-v3'], 'the host given is not changed');
  });

  it('refuses a level the host does not run, naming it, the file and what the host runs', () => {
    assert.throws(
      () => withCpuLevel(host, { level: 'x86-64-v4', force: false }, where),
      (error: unknown) => {
        assert.ok(isKilnError(error, 'E_CPU_LEVEL'));
        assert.equal(
          error.message,
          `cannot use CPU level x86-64-v4 (cpu-level in ${where}): this host runs x86-64, x86-64-v2, x86-64-v3`,
        );
        assert.match(error.hint ?? '', /cpu-level-force = true/);
        return true;
      },
    );
    const arm: HostTarget = { ...host, arch: 'aarch64', cpuLevels: ['aarch64'] };
    assert.throws(() => withCpuLevel(arm, { level: 'x86-64', force: false }, where), /this host runs aarch64/);
  });

  it('takes a forced level above the host as given', () => {
    assert.deepEqual(withCpuLevel(host, { level: 'x86-64-v4', force: true }, where).cpuLevels, [
      'x86-64',
      'x86-64-v2',
      'x86-64-v3',
      'x86-64-v4',
    ]);
  });
});

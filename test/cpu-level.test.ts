/**
 * The host's CPU level, against the machine itself and end to end: the levels
 * Kiln detects are the ones glibc's own loader reports, and the /proc/cpuinfo
 * fallback agrees with it; `kiln install` takes the highest level the host
 * runs of a package published for x86-64 and x86-64-v3; `cpu-level` in the
 * prefix's configuration caps that, for binaries and for builds, and a level
 * the host does not run is refused unless forced.
 */
import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { isKilnError } from '../src/errors/index.js';
import { openPrefix } from '../src/install/index.js';
import { cpuinfoFlags, missingX86Features, X86_64_LEVELS, x86Levels } from '../src/solver/cpuLevel.js';
import { DEFAULT_X86_64_LOADER, detectHost, detectX86Levels } from '../src/solver/hostTarget.js';
import type { HostTarget } from '../src/solver/types.js';
import { fails, ok, packAll, publish } from './helpers/client.js';
import { kiln, tempDir } from './helpers/kiln.js';

/**
 * What this machine's glibc loader says, read here with a pattern of the
 * test's own rather than Kiln's parser: the baseline and every level marked
 * "supported"; undefined when the loader lists no levels (glibc before 2.33).
 */
function loaderReport(): string[] | undefined {
  if (!existsSync(DEFAULT_X86_64_LOADER)) return undefined;
  const result = spawnSync(DEFAULT_X86_64_LOADER, ['--help'], { encoding: 'utf8' });
  if (result.status !== 0 || !/^ {2}x86-64-v\d/m.test(result.stdout)) return undefined;
  return [
    'x86-64',
    ...[...result.stdout.matchAll(/^ {2}(x86-64-v\d+) \([^)]*\bsupported\b/gm)].map((match) => match[1] ?? '').sort(),
  ];
}

const report = process.arch === 'x64' ? loaderReport() : undefined;
const noReport =
  process.arch !== 'x64'
    ? 'not an x86-64 machine'
    : report === undefined
      ? `${DEFAULT_X86_64_LOADER} --help lists no levels (glibc before 2.33?)`
      : false;

test("the CPU levels Kiln detects are the ones this machine's glibc loader reports", { skip: noReport }, () => {
  assert.deepEqual(detectHost().cpuLevels, report);
  assert.deepEqual(detectX86Levels(true), { levels: report, source: 'loader' });
});

test('the /proc/cpuinfo fallback reaches the same levels as the loader on this machine', { skip: noReport }, () => {
  const flags = cpuinfoFlags(readFileSync('/proc/cpuinfo', 'utf8'));
  const levels = x86Levels(flags);
  const next = X86_64_LEVELS[levels.length];
  assert.deepEqual(
    levels,
    report,
    next === undefined ? '' : `the flags lack ${missingX86Features(flags, next).join(', ')} for ${next}`,
  );
});

test('kiln install takes the highest CPU level the host runs; cpu-level caps it for binaries and builds; a level above the host is refused unless forced', async (t) => {
  const dir = await tempDir(t);
  const target = (cpu: string) => ({ target: { arch: 'x86_64', cpu, libc: 'glibc', libcVersion: '2.17' } });
  await publish(
    dir,
    await packAll(dir, [
      { name: 'tool', version: '1.0', tree: { 'share/tool/level': 'x86-64\n' }, extra: target('x86-64') },
      { name: 'tool', version: '1.0', tree: { 'share/tool/level': 'x86-64-v3\n' }, extra: target('x86-64-v3') },
    ]),
  );
  const host = detectHost();
  const building = await probeRecipe(dir);
  const makePrefix = async (
    name: string,
    settings: string,
  ): Promise<{ prefix: string; env: Record<string, string> }> => {
    const prefix = join(dir, name);
    const env = { KILN_PREFIX: prefix, KILN_WORK: join(dir, 'work'), HOME: dir };
    await ok(['init'], { cwd: dir, env });
    // Top-level settings go before the first table; remote add then rewrites the file, which must keep them.
    const config = join(prefix, 'etc/kiln/config.toml');
    await writeFile(config, settings + (await readFile(config, 'utf8')));
    await ok(['remote', 'add', 'main', `file://${join(dir, 'repo', 'public')}`, '--key', 'keys/kiln.pub'], {
      cwd: dir,
      env,
    });
    assert.ok((await readFile(config, 'utf8')).includes(settings.trim()), 'remote add keeps the CPU settings');
    await ok(['sync'], { cwd: dir, env });
    return { prefix, env };
  };

  // No setting: the highest level the host runs, for the binary and for what is built.
  const highest = await makePrefix('highest', '');
  await ok(['install', 'tool', 'probe', ...building, '-y'], { cwd: dir, env: highest.env });
  const wanted = host.cpuLevels.includes('x86-64-v3') ? 'x86-64-v3' : 'x86-64';
  assert.equal(await readFile(join(highest.prefix, 'share/tool/level'), 'utf8'), `${wanted}\n`);
  assert.equal(
    await readFile(join(highest.prefix, 'share/probe/cpu'), 'utf8'),
    `${host.cpuLevels.at(-1)}\n`,
    'built for the highest level the host runs',
  );

  // cpu-level = "x86-64": the baseline binary, and a baseline build.
  const baseline = await makePrefix('baseline', 'cpu-level = "x86-64"\n');
  await ok(['install', 'tool', 'probe', ...building, '-y'], { cwd: dir, env: baseline.env });
  assert.equal(await readFile(join(baseline.prefix, 'share/tool/level'), 'utf8'), 'x86-64\n');
  assert.equal(await readFile(join(baseline.prefix, 'share/probe/cpu'), 'utf8'), 'x86-64\n');

  // Lowering the level later replaces nothing by itself; a reinstall takes the capped variant.
  const highestConfig = join(highest.prefix, 'etc/kiln/config.toml');
  await writeFile(highestConfig, `cpu-level = "x86-64"\n${await readFile(highestConfig, 'utf8')}`);
  const nothing = await kiln(['install', 'tool', '--dry-run'], { cwd: dir, env: highest.env });
  assert.equal(nothing.code, 0, nothing.stderr);
  assert.equal(nothing.stdout, '');
  assert.match(nothing.stderr, /nothing to do/);
  await ok(['install', 'tool', '--reinstall', '-y'], { cwd: dir, env: highest.env });
  assert.equal(await readFile(join(highest.prefix, 'share/tool/level'), 'utf8'), 'x86-64\n');

  // A level this host does not run, through the CLI when there is one (a machine without AVX-512).
  const above = X86_64_LEVELS.find((level) => !host.cpuLevels.includes(level));
  if (above !== undefined) {
    const refused = await makePrefix('above', `cpu-level = "${above}"\n`);
    const result = await fails(
      ['install', 'tool', '--dry-run'],
      'E_CPU_LEVEL',
      new RegExp(
        `cannot use CPU level ${above} \\(cpu-level in \\S+\\): this host runs ${host.cpuLevels.join(', ')}\\nhint: .*cpu-level-force = true`,
      ),
      { cwd: dir, env: refused.env },
    );
    assert.ok(result.stderr.includes(`(cpu-level in ${join(refused.prefix, 'etc/kiln/config.toml')})`), result.stderr);
  }

  // And on any machine, with the host injected: one that runs up to x86-64-v2, configured for x86-64-v3.
  const v2Host: HostTarget = { ...host, arch: 'x86_64', cpuLevels: ['x86-64', 'x86-64-v2'] };
  const injected = await makePrefix('injected', 'cpu-level = "x86-64-v3"\n');
  const config = join(injected.prefix, 'etc/kiln/config.toml');
  const chosen = async (): Promise<string | undefined> => {
    const prefix = await openPrefix(injected.prefix, { host: v2Host });
    try {
      const action = (await prefix.planFor({ install: [{ name: 'tool', range: '' }] })).actions[0];
      return action !== undefined && 'candidate' in action ? action.candidate.entry.target.cpu : undefined;
    } finally {
      prefix.close();
    }
  };
  await assert.rejects(chosen(), (error: unknown) => {
    assert.ok(isKilnError(error, 'E_CPU_LEVEL'), String(error));
    assert.equal(
      error.message,
      `cannot use CPU level x86-64-v3 (cpu-level in ${config}): this host runs x86-64, x86-64-v2`,
    );
    return true;
  });
  // Forced, the prefix is planned as if for a machine that runs it.
  await writeFile(config, `cpu-level-force = true\n${await readFile(config, 'utf8')}`);
  assert.equal(await chosen(), 'x86-64-v3');
  await writeFile(config, (await readFile(config, 'utf8')).replace(/^cpu-level.*\n/gm, ''));
  assert.equal(
    await chosen(),
    'x86-64',
    "without the setting, the injected host's own highest level that is published",
  );
});

/** A recipe whose build records the CPU level it was built for (KILN_CPU) in share/probe/cpu; returns the install flags that offer it. */
async function probeRecipe(dir: string): Promise<string[]> {
  const distfiles = join(dir, 'distfiles');
  const recipe = join(dir, 'ports', 'test', 'probe');
  await mkdir(distfiles, { recursive: true });
  await mkdir(recipe, { recursive: true });
  await writeFile(join(distfiles, 'probe.txt'), 'probe\n');
  const sha = createHash('sha256').update('probe\n').digest('hex');
  await writeFile(join(dir, 'ports', 'ports.toml'), '');
  await writeFile(
    join(recipe, 'recipe.toml'),
    `name = "probe"\nversion = "1.0"\nsummary = "records its CPU level"\nlicense = "MIT"\n\n[[source]]\nurl = "https://example.invalid/probe.txt"\nsha256 = "${sha}"\nunpack = false\n`,
  );
  await writeFile(
    join(recipe, 'build.sh'),
    'mkdir -p "$DESTDIR$KILN_PREFIX/share/probe"\necho "$KILN_CPU" > "$DESTDIR$KILN_PREFIX/share/probe/cpu"\n',
  );
  return ['--recipes', 'ports', '--distfiles', 'distfiles'];
}

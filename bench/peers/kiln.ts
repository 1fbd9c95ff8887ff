/**
 * Kiln through its CLI (`node bin.js --prefix P …`): a prefix with the
 * benchmark's repository as its remote, a warm download cache (its own or a
 * shared one, KILN_CACHE), and the install, list, owns and remove commands the
 * benchmark times.
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { cachedPackageName } from '../../src/install/cachedPackageName.js';
import { run } from '../measure.js';
import type { PackageSet } from '../workload/set.js';
import type { Cmd } from './tool.js';

export interface KilnSetup {
  /** The CLI's bin.js. */
  bin: string;
  /** The repository's published tree (a copy on the fresh filesystem). */
  repo: string;
  publicKey: string;
}

/**
 * The environment Kiln runs in: KILN_CACHE only where a variant sets it, and
 * libuv's io_uring off (Node 20's default) so that strace sees every fsync.
 */
export function kilnEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, UV_USE_IO_URING: '0', ...extra };
  if (extra['KILN_CACHE'] === undefined) delete env['KILN_CACHE'];
  return env;
}

export const kilnCmd = (setup: KilnSetup, prefix: string, args: string[], env: NodeJS.ProcessEnv): Cmd => ({
  command: process.execPath,
  args: [setup.bin, '--prefix', prefix, ...args],
  env,
});

export function kiln(setup: KilnSetup, prefix: string, args: string[], env: NodeJS.ProcessEnv): string {
  return run(process.execPath, [setup.bin, '--prefix', prefix, ...args], { env });
}

/** init, remote add and sync (not timed); `fsync = false` in config.toml when asked. */
export function makePrefix(setup: KilnSetup, prefix: string, env: NodeJS.ProcessEnv, fsync = true): void {
  kiln(setup, prefix, ['init'], env);
  kiln(setup, prefix, ['remote', 'add', 'bench', pathToFileURL(setup.repo).href, '--key', setup.publicKey], env);
  kiln(setup, prefix, ['sync'], env);
  if (!fsync) {
    // The key of src/config/prefixConfig.ts (docs/config.md).
    const config = join(prefix, 'etc/kiln/config.toml');
    const text = readFileSync(config, 'utf8');
    if (!/^fsync = true$/m.test(text)) throw new Error(`${config}: no "fsync = true" line to turn off:\n${text}`);
    writeFileSync(config, text.replace(/^fsync = true$/m, 'fsync = false'));
  }
}

/** A prefix's own download cache (var/cache/kiln/packages), where a download would put each package file. */
export const prefixCache = (prefix: string) => join(prefix, 'var/cache/kiln/packages');

/** A warm download cache: every package file of the set in `cache` (a prefix's own, or a shared cache's packages/), as BASENAME. */
export function warmCache(setup: KilnSetup, cache: string, set: PackageSet): void {
  mkdirSync(cache, { recursive: true });
  // Named as Kiln names a cached package: by the sha256 the index pins.
  for (const pkg of set.packages) {
    const source = join(setup.repo, pkg.path);
    copyFileSync(
      source,
      join(cache, cachedPackageName({ sha256: createHash('sha256').update(readFileSync(source)).digest('hex') })),
    );
  }
}

export const kilnInstall = (setup: KilnSetup, prefix: string, names: string[], env: NodeJS.ProcessEnv) =>
  kilnCmd(setup, prefix, ['install', ...names, '-y', '--json'], env);
export const kilnList = (setup: KilnSetup, prefix: string, env: NodeJS.ProcessEnv) =>
  kilnCmd(setup, prefix, ['list'], env);
export const kilnOwns = (setup: KilnSetup, prefix: string, path: string, env: NodeJS.ProcessEnv) =>
  kilnCmd(setup, prefix, ['owns', path], env);
/** Every package named: nothing left needs them, so no --cascade. */
export const kilnRemove = (setup: KilnSetup, prefix: string, names: string[], env: NodeJS.ProcessEnv) =>
  kilnCmd(setup, prefix, ['remove', ...names, '-y'], env);

/** Paths Kiln itself makes in a prefix; the generated packages own none of them. */
export const kilnOwn = (path: string) => path === 'var' || path === 'etc/kiln';

export const kilnVersion = (bin: string) =>
  spawnSync(process.execPath, [bin, '--version'], { encoding: 'utf8' }).stdout?.trim() ||
  'unknown (kiln --version failed)';

/** What `kiln install --json` printed: whether it applied, how many actions, how much it downloaded. */
export function kilnResult(stdout: string, expected: number): { downloadBytes: number } {
  const output = (JSON.parse(stdout) as { data: unknown }).data as {
    plan?: { downloadBytes?: number; actions?: unknown[] };
    applied?: boolean;
  };
  if (output.applied !== true || output.plan?.actions?.length !== expected)
    throw new Error(`kiln: unexpected result ${stdout.slice(0, 500)}`);
  return { downloadBytes: output.plan.downloadBytes ?? Number.NaN };
}

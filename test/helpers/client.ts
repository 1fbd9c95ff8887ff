/**
 * Fixtures for the client's end-to-end tests: a signed repository of small
 * packages made with the real CLI, and running kiln as an unprivileged user.
 */
import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, cpSync, mkdtempSync, rmSync } from 'node:fs';
import { chown, mkdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import type { TreeSpec } from './fixtures.js';
import { makeTree } from './fixtures.js';
import type { RunOptions, RunResult } from './kiln.js';
import { KILN_BIN, kiln, run, parseJson } from './kiln.js';

export interface PackageSpec {
  name: string;
  version: string;
  depends?: string[];
  tree: TreeSpec;
  /** Extra pack-input fields (configFiles, users, groups, directories, permissions, placeholder). */
  extra?: Record<string, unknown>;
}

/** Run kiln and insist on exit 0. */
export async function ok(args: readonly string[], options: RunOptions = {}): Promise<string> {
  const result = await kiln(args, options);
  assert.equal(result.code, 0, `kiln ${args.join(' ')}\n${result.stdout}${result.stderr}`);
  return result.stdout;
}

/** Run kiln and insist on a failure with this error code. */
export async function fails(
  args: readonly string[],
  code: string,
  pattern: RegExp,
  options: RunOptions = {},
): Promise<RunResult> {
  const result = await kiln(args, options);
  assert.equal(
    result.code,
    code === 'E_USAGE' ? 2 : 1,
    `kiln ${args.join(' ')} should fail\n${result.stdout}${result.stderr}`,
  );
  assert.ok(result.stderr.includes(`error[${code}]`), result.stderr);
  assert.match(result.stderr, pattern);
  return result;
}

/** Pack each spec (signed with dir/keys/kiln.key, made if missing) into dir/out; returns the package paths. */
export async function packAll(dir: string, specs: readonly PackageSpec[]): Promise<string[]> {
  const paths: string[] = [];
  const keyResult = await kiln(['key', 'generate', '--out', 'keys'], { cwd: dir });
  assert.ok(keyResult.code === 0 || keyResult.stderr.includes('E_KEY_EXISTS'), keyResult.stderr);
  for (const spec of specs) {
    const stage = join(dir, 'stages', `${spec.name}-${spec.version}`);
    await makeTree(stage, spec.tree);
    const meta = {
      name: spec.name,
      category: 'app-misc',
      version: spec.version,
      summary: `The ${spec.name} test package`,
      homepage: 'https://example.org/',
      license: 'MIT',
      options: {},
      target: { arch: 'x86_64', cpu: 'x86-64', libc: 'glibc', libcVersion: '2.17' },
      depends: spec.depends ?? [],
      ...spec.extra,
    };
    const metaPath = join(dir, 'stages', `${spec.name}-${spec.version}.json`);
    await writeFile(metaPath, JSON.stringify(meta));
    const out = parseJson(
      await ok(['pack', stage, '--meta', metaPath, '--out', 'out', '--key', 'keys/kiln.key', '--json'], { cwd: dir }),
    ) as { path: string };
    paths.push(out.path);
  }
  return paths;
}

/** Create the repository dir/repo (if needed), add the packages and commit; clients add its published tree, dir/repo/public. */
export async function publish(dir: string, packages: readonly string[]): Promise<void> {
  const init = await kiln(['repo', 'init', 'repo', '--key', 'keys/kiln.key', '--name', 'main'], { cwd: dir });
  assert.ok(init.code === 0 || init.stderr.includes('E_REPO_EXISTS'), init.stderr);
  await ok(['repo', 'add', 'repo', ...packages], { cwd: dir });
  await ok(['repo', 'commit', 'repo'], { cwd: dir });
}

/**
 * Remove index format v2 from a published tree, leaving what a repository
 * committed by a Kiln before v2 serves (v1 only).
 */
export async function stripIndexV2(published: string): Promise<void> {
  const { readdir, rm } = await import('node:fs/promises');
  await rm(join(published, 'v2'), { recursive: true, force: true });
  for (const file of await readdir(join(published, 'indexes')))
    if (file.includes('.v2.')) await rm(join(published, 'indexes', file));
  await rm(join(published, 'index.v2.json'), { force: true });
  await rm(join(published, 'index.v2.json.minisig'), { force: true });
}

/** A prefix (dir/prefix unless given) with the remote "main" (dir/repo/public, key dir/keys/kiln.pub), synced. */
export async function syncedPrefix(dir: string, prefix = join(dir, 'prefix')): Promise<string> {
  await ok(['--prefix', prefix, 'init'], { cwd: dir });
  await ok(['--prefix', prefix, 'remote', 'add', 'main', join(dir, 'repo/public'), '--key', 'keys/kiln.pub'], {
    cwd: dir,
  });
  await ok(['--prefix', prefix, 'sync'], { cwd: dir });
  return prefix;
}

export interface TestUser {
  name: string;
  uid: number;
  gid: number;
}

/**
 * An unprivileged account to run the client as, when the tests run as root
 * (as CI does); undefined when they already run as an ordinary user.
 */
export function testUser(): TestUser | undefined {
  if (process.getuid?.() !== 0) return undefined;
  const name = 'kiln-test';
  let id = spawnSync('id', ['-u', name], { encoding: 'utf8' });
  if (id.status !== 0) {
    const added = spawnSync('useradd', ['--system', '--no-create-home', '--shell', '/usr/sbin/nologin', name], {
      encoding: 'utf8',
    });
    // Another test file may have created it at the same moment.
    if (added.status !== 0 && !added.stderr.includes('already exists'))
      throw new Error(`useradd ${name} failed: ${added.stderr}`);
    id = spawnSync('id', ['-u', name], { encoding: 'utf8' });
  }
  const gid = spawnSync('id', ['-g', name], { encoding: 'utf8' });
  return { name, uid: Number(id.stdout.trim()), gid: Number(gid.stdout.trim()) };
}

/** Give a directory to the test user, so that it can make a prefix there. */
export async function handTo(user: TestUser | undefined, dir: string): Promise<void> {
  if (user === undefined) return;
  await mkdir(dir, { recursive: true });
  await chown(dir, user.uid, user.gid);
}

let binForUser: string | undefined;

/**
 * The CLI as the test user can run it: this checkout's, or, when the user
 * cannot reach it (a clone under a private home), a copy in a world-readable
 * temporary directory.
 */
function userBin(user: TestUser): string {
  if (binForUser !== undefined) return binForUser;
  const probe = spawnSync('setpriv', [
    `--reuid=${user.uid}`,
    `--regid=${user.gid}`,
    '--clear-groups',
    '--',
    process.execPath,
    '-e',
    `require('fs').accessSync(${JSON.stringify(KILN_BIN)})`,
  ]);
  if (probe.status === 0) {
    binForUser = KILN_BIN;
    return binForUser;
  }
  const projectRoot = resolve(dirname(KILN_BIN), '../../..');
  const copy = mkdtempSync(join(tmpdir(), 'kiln-user-copy-'));
  chmodSync(copy, 0o755);
  for (const part of ['package.json', 'dist', 'node_modules'])
    cpSync(join(projectRoot, part), join(copy, part), {
      recursive: true,
      filter: (source) => !source.includes('node_modules/typescript'),
    });
  process.on('exit', () => rmSync(copy, { recursive: true, force: true }));
  binForUser = join(copy, relative(projectRoot, KILN_BIN));
  return binForUser;
}

/** Run kiln as the test user (setpriv drops to its uid and gid, no supplementary groups). */
export function kilnAs(
  user: TestUser | undefined,
  args: readonly string[],
  options: RunOptions = {},
): Promise<RunResult> {
  if (user === undefined) return kiln(args, options);
  return run(
    'setpriv',
    [`--reuid=${user.uid}`, `--regid=${user.gid}`, '--clear-groups', '--', process.execPath, userBin(user), ...args],
    options,
  );
}

export async function okAs(
  user: TestUser | undefined,
  args: readonly string[],
  options: RunOptions = {},
): Promise<string> {
  const result = await kilnAs(user, args, options);
  assert.equal(result.code, 0, `kiln ${args.join(' ')} (as ${user?.name ?? 'self'})\n${result.stdout}${result.stderr}`);
  return result.stdout;
}

export async function failsAs(
  user: TestUser | undefined,
  args: readonly string[],
  code: string,
  pattern: RegExp,
  options: RunOptions = {},
): Promise<RunResult> {
  const result = await kilnAs(user, args, options);
  assert.equal(result.code, 1, `kiln ${args.join(' ')} should fail\n${result.stdout}${result.stderr}`);
  assert.ok(result.stderr.includes(`error[${code}]`), result.stderr);
  assert.match(result.stderr, pattern);
  return result;
}

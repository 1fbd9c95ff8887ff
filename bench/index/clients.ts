/**
 * The three clients of the same index, each with its own private state in a
 * directory of a fresh filesystem:
 *   - kiln: `kiln --prefix DIR/kiln init` + `remote add bench URL/kiln --key`
 *     (untimed); `kiln --prefix P sync`; `kiln --prefix P search TERM`
 *     (substring of name or summary, ignoring case);
 *   - pacman: a private pacman.conf (RootDir, DBPath, CacheDir, LogFile,
 *     GPGDir, HookDir in DIR/pacman, SigLevel = Never, `[bench] Server =
 *     URL/pacman`); `pacman --config C --dbpath D -Sy`; `pacman ... -Ss TERM`
 *     (POSIX extended regex, ignoring case, over name, description, provides
 *     and groups);
 *   - apt: a private tree DIR/apt (sources.list with
 *     `deb [trusted=yes] URL/apt ./`, an empty dpkg status file, empty
 *     apt.conf.d) chosen with APT_CONFIG and `-o Dir=`, so none of the host's
 *     sources, configuration or update hooks take part; `apt-get update`;
 *     `apt-cache search TERM` (POSIX regex, ignoring case, over names and
 *     descriptions, and the providers of a matching name).
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Command, RunResult } from './measure.js';

export type ClientName = 'kiln' | 'pacman' | 'apt';

export interface Client {
  name: ClientName;
  syncLabel: string;
  searchLabel: string;
  /** Untimed set-up of a fresh client state under `dir`. */
  prepare(dir: string): void;
  sync(dir: string): Command;
  /** Undefined when the sync did what it should; else the problem. */
  checkSync(dir: string, result: RunResult): string | undefined;
  search(dir: string, term: string): Command;
  /** Hits printed by a search; throws when the search failed. */
  hits(result: RunResult): number;
}

export interface ClientOptions {
  node: string;
  kilnCli: string;
  kilnUrl: string;
  kilnPublicKey: string;
  pacmanUrl: string;
  aptUrl: string;
  aptArch: string;
  packages: number;
  pacmanDbBytes: number;
}

function mustRun(command: string, args: string[]): void {
  const result = spawnSync(command, args, { encoding: 'utf8' });
  if (result.error !== undefined) throw result.error;
  if (result.status !== 0)
    throw new Error(`${command} ${args.join(' ')} failed (${result.status ?? result.signal}):\n${result.stderr}`);
}

const failed = (what: string, result: RunResult) =>
  `${what} exited with ${result.status ?? result.signal}: ${(result.stderr || result.stdout).trim().split('\n').slice(-5).join(' | ')}`;
const lines = (text: string) => text.split('\n').filter((line) => line.trim() !== '');

export function kilnClient(options: ClientOptions): Client {
  const prefix = (dir: string) => join(dir, 'kiln');
  const cli = (dir: string, ...args: string[]): Command => ({
    command: options.node,
    args: [options.kilnCli, '--prefix', prefix(dir), ...args],
  });
  return {
    name: 'kiln',
    syncLabel: 'kiln --prefix P sync',
    searchLabel: 'kiln --prefix P search TERM',
    prepare(dir) {
      const init = cli(dir, 'init');
      mustRun(init.command, init.args);
      const add = cli(dir, 'remote', 'add', 'bench', options.kilnUrl, '--key', options.kilnPublicKey);
      mustRun(add.command, add.args);
    },
    sync: (dir) => cli(dir, 'sync'),
    checkSync(_dir, result) {
      if (result.status !== 0) return failed('kiln sync', result);
      if (!result.stdout.includes(`${options.packages} packages`))
        return `kiln sync did not report ${options.packages} packages: ${result.stdout.trim()}`;
      return undefined;
    },
    search: (dir, term) => cli(dir, 'search', term),
    hits(result) {
      if (result.status === 1 && /no package matches/.test(result.stdout + result.stderr)) return 0;
      if (result.status !== 0) throw new Error(failed('kiln search', result));
      return lines(result.stdout).length;
    },
  };
}

export function pacmanClient(options: ClientOptions): Client {
  const base = (dir: string) => join(dir, 'pacman');
  const conf = (dir: string) => join(base(dir), 'pacman.conf');
  const db = (dir: string) => join(base(dir), 'db');
  const cli = (dir: string, ...args: string[]): Command => ({
    command: 'pacman',
    args: ['--config', conf(dir), '--dbpath', db(dir), ...args],
  });
  return {
    name: 'pacman',
    syncLabel: 'pacman --config C --dbpath D -Sy',
    searchLabel: 'pacman --config C --dbpath D -Ss TERM',
    prepare(dir) {
      const root = base(dir);
      for (const sub of ['root', 'db', 'cache', 'gnupg', 'hooks']) mkdirSync(join(root, sub), { recursive: true });
      writeFileSync(
        conf(dir),
        [
          '[options]',
          `RootDir = ${join(root, 'root')}`,
          `DBPath = ${db(dir)}/`,
          `CacheDir = ${join(root, 'cache')}/`,
          `LogFile = ${join(root, 'pacman.log')}`,
          `GPGDir = ${join(root, 'gnupg')}/`,
          `HookDir = ${join(root, 'hooks')}/`,
          'Architecture = x86_64',
          'SigLevel = Never',
          'LocalFileSigLevel = Never',
          '',
          '[bench]',
          `Server = ${options.pacmanUrl}`,
          '',
        ].join('\n'),
      );
    },
    sync: (dir) => cli(dir, '-Sy'),
    checkSync(dir, result) {
      if (result.status !== 0) return failed('pacman -Sy', result);
      try {
        const size = statSync(join(db(dir), 'sync', 'bench.db')).size;
        if (size !== options.pacmanDbBytes)
          return `pacman -Sy left a bench.db of ${size} bytes, expected ${options.pacmanDbBytes}`;
      } catch {
        return 'pacman -Sy left no sync/bench.db';
      }
      return undefined;
    },
    search: (dir, term) => cli(dir, '-Ss', term),
    hits(result) {
      if (result.status === 1 && result.stdout.trim() === '') return 0;
      if (result.status !== 0) throw new Error(failed('pacman -Ss', result));
      // "bench/NAME VERSION" then the description, indented.
      return lines(result.stdout).filter((line) => !/^\s/.test(line)).length;
    },
  };
}

export function aptClient(options: ClientOptions): Client {
  const base = (dir: string) => join(dir, 'apt');
  const env = (dir: string): NodeJS.ProcessEnv => ({ ...process.env, APT_CONFIG: join(base(dir), 'apt.conf') });
  const cli = (dir: string, command: string, ...args: string[]): Command => ({
    command,
    args: ['-o', `Dir=${base(dir)}/`, ...args],
    env: env(dir),
  });
  return {
    name: 'apt',
    syncLabel: 'apt-get update (private Dir)',
    searchLabel: 'apt-cache search TERM',
    prepare(dir) {
      const root = base(dir);
      for (const sub of [
        'etc/apt/apt.conf.d',
        'etc/apt/preferences.d',
        'etc/apt/sources.list.d',
        'etc/apt/trusted.gpg.d',
        'var/lib/apt/lists/partial',
        'var/cache/apt/archives/partial',
        'var/lib/dpkg',
        'var/log/apt',
      ])
        mkdirSync(join(root, sub), { recursive: true, mode: 0o755 });
      writeFileSync(join(root, 'var/lib/dpkg/status'), '');
      writeFileSync(join(root, 'etc/apt/sources.list'), `deb [trusted=yes] ${options.aptUrl} ./\n`);
      writeFileSync(
        join(root, 'apt.conf'),
        [
          `Dir "${root}/";`,
          `Dir::State::status "${join(root, 'var/lib/dpkg/status')}";`,
          `APT::Architecture "${options.aptArch}";`,
          `APT::Architectures { "${options.aptArch}"; };`,
          '',
        ].join('\n'),
      );
    },
    sync: (dir) => cli(dir, 'apt-get', 'update'),
    checkSync(dir, result) {
      if (result.status !== 0) return failed('apt-get update', result);
      if (/^(W|E|Err):/m.test(result.stdout + result.stderr))
        return `apt-get update reported a problem: ${(result.stderr || result.stdout).trim().split('\n').slice(-3).join(' | ')}`;
      const lists = readdirSync(join(base(dir), 'var/lib/apt/lists'));
      if (!lists.some((name) => name.endsWith('_Packages')))
        return `apt-get update left no Packages list (lists: ${lists.join(', ')})`;
      return undefined;
    },
    search: (dir, term) => cli(dir, 'apt-cache', 'search', term),
    hits(result) {
      if (result.status !== 0) throw new Error(failed('apt-cache search', result));
      return lines(result.stdout).length;
    },
  };
}

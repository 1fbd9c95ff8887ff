/**
 * A host with no Kiln and no Node, for the bundle tests: as root, a chroot
 * made of a few of this machine's programs (each with the libraries `ldd`
 * names), /dev/null, /etc/passwd and /tmp, entered as an unprivileged user
 * with `env -i PATH=/usr/bin:/bin`. As an ordinary user (no chroot) the
 * same commands run with that clean environment on this machine itself,
 * where node is on that PATH: the tests then say so.
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, chownSync, copyFileSync, existsSync, mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import type { TestUser } from './client.js';

/** What kiln-relocate uses, and what a user unpacks and runs it with. */
export const BARE_TOOLS = [
  'sh',
  'cat',
  'chmod',
  'cp',
  'cut',
  'dd',
  'dirname',
  'env',
  'find',
  'getconf',
  'grep',
  'gzip',
  'head',
  'ln',
  'ls',
  'mkdir',
  'mv',
  'readlink',
  'rm',
  'sed',
  'sha256sum',
  'tail',
  'tar',
  'tr',
  'uname',
  'wc',
  'zstd',
] as const;

export interface BareHost {
  /** The chroot's directory, or undefined when there is none (not root). */
  root: string | undefined;
  /** A path on the bare host, as this machine sees it. */
  outside(path: string): string;
  /** Run a shell command line on the bare host as the unprivileged user; PATH=/usr/bin:/bin and nothing else. */
  sh(command: string): { status: number | null; stdout: string; stderr: string };
}

/**
 * Make the bare host under `dir` (a chroot when running as root, with a home
 * for `user`). `hostLibrariesOf`: programs (of a prefix here) whose system
 * libraries a real host would have, such as libcrypt; the libraries under
 * `prefix` are left out, as the bundle brings them.
 */
export function bareHost(
  dir: string,
  user: TestUser | undefined,
  hostLibrariesOf: { programs: readonly string[]; prefix: string } = { programs: [], prefix: '/nonexistent' },
): BareHost {
  if (user === undefined || process.getuid?.() !== 0) {
    return {
      root: undefined,
      outside: (path) => path,
      sh: (command) => run(['sh', '-c', command]),
    };
  }
  const root = join(dir, 'bare-host');
  for (const sub of ['usr/bin', 'etc', 'dev', 'tmp', 'home']) mkdirSync(join(root, sub), { recursive: true });
  chmodSync(join(root, 'tmp'), 0o1777);
  if (!existsSync(join(root, 'bin'))) symlinkSync('usr/bin', join(root, 'bin'));
  const copyLibraries = (program: string): void => {
    for (const library of librariesOf(program)) {
      const target = join(root, library);
      if (existsSync(target) || library.startsWith(`${hostLibrariesOf.prefix}/`)) continue;
      mkdirSync(dirname(target), { recursive: true });
      copyFileSync(library, target);
    }
  };
  for (const tool of BARE_TOOLS) {
    const path = spawnSync('sh', ['-c', `command -v ${tool}`], { encoding: 'utf8' }).stdout.trim();
    if (path === '') throw new Error(`bare host: ${tool} is not installed here`);
    copyFileSync(path, join(root, 'usr/bin', tool));
    chmodSync(join(root, 'usr/bin', tool), 0o755);
    copyLibraries(path);
  }
  for (const program of hostLibrariesOf.programs) copyLibraries(program);
  const devNull = spawnSync('mknod', ['-m', '666', join(root, 'dev/null'), 'c', '1', '3'], { encoding: 'utf8' });
  if (devNull.status !== 0 && !existsSync(join(root, 'dev/null')))
    throw new Error(`bare host: mknod /dev/null failed: ${devNull.stderr}`);
  writeFileSync(
    join(root, 'etc/passwd'),
    `root:x:0:0:root:/root:/bin/sh\n${user.name}:x:${user.uid}:${user.gid}::/home/${user.name}:/bin/sh\n`,
  );
  writeFileSync(join(root, 'etc/group'), `root:x:0:\n${user.name}:x:${user.gid}:\n`);
  const home = join(root, 'home', user.name);
  mkdirSync(home, { recursive: true });
  chownSync(home, user.uid, user.gid);
  return {
    root,
    outside: (path) => join(root, path),
    sh: (command) =>
      run([
        '/usr/sbin/chroot',
        `--userspec=${user.uid}:${user.gid}`,
        root,
        '/usr/bin/env',
        '-i',
        'PATH=/usr/bin:/bin',
        `HOME=/home/${user.name}`,
        'sh',
        '-c',
        command,
      ]),
  };
}

function run(command: string[]): { status: number | null; stdout: string; stderr: string } {
  const result = spawnSync(command[0]!, command.slice(1), {
    encoding: 'utf8',
    env: { PATH: '/usr/bin:/bin' },
    timeout: 60_000,
  });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

/** The shared libraries (and loader) a program needs, by their paths here, as `ldd` lists them. */
function librariesOf(program: string): string[] {
  const out = spawnSync('ldd', [program], { encoding: 'utf8' }).stdout;
  const paths: string[] = [];
  for (const line of out.split('\n')) {
    // "NAME => PATH (0x…)" or, for the loader, "PATH (0x…)"; a path may hold blanks.
    const match = /^\s*(?:\S+ => )?(\/.*?) \(0x[0-9a-f]+\)$/.exec(line);
    if (match !== null) paths.push(resolve(match[1]!));
  }
  return paths;
}

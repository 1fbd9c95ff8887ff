/**
 * The build sandbox (docs/recipes.md, "The sandbox"): the build script runs
 * under bubblewrap with no network, no capabilities and its own PID, IPC
 * and mount namespaces; of the host it sees only the toolchain
 * (toolchainView.ts), read only; its work tree and the placeholder prefix
 * are writable, the recipe's directory readable, /tmp is its own.
 *
 * bubblewrap spends time on every bind mount, growing with the number
 * already made (about 4 s for the 1,200 files of a Debian toolchain). So the
 * files of directories that are only partly shown are hard-linked into one
 * tree, which is bound at its place with the directories shown whole on
 * top: some 130 mounts. Where a hard link cannot be made (another file
 * system; an unprivileged user, whom fs.protected_hardlinks stops from
 * linking root's files) every file is bound on its own instead: slower, the
 * same view.
 */
import { spawn } from 'node:child_process';
import { constants, linkSync, mkdirSync, symlinkSync } from 'node:fs';
import { access, rm } from 'node:fs/promises';
import { delimiter, join } from 'node:path';
import { isErrno, KilnError } from '../errors/index.js';
import type { ToolchainView, ViewEntry } from './toolchainView.js';
import { toolchainView } from './toolchainView.js';

/**
 * Namespaces and privileges: no network, its own PIDs, IPC, host name and
 * mounts; no capability (and, as bubblewrap always sets, no_new_privs, so
 * none is regained through a set-user-id program); the build dies with Kiln
 * and cannot reach Kiln's terminal.
 *
 * Users other than root need a user namespace for bubblewrap to mount
 * anything; nested ones are disabled. Root gets none: in one, root holds
 * only the ids mapped into it (its own), so it could no longer reach a work
 * directory it builds in under another user's private directory. Instead
 * bubblewrap, privileged, makes the mounts and then drops every capability:
 * uid 0 remains, able to write only what is bound writable.
 * @example sandboxFlags(0) // ['--unshare-ipc', …, '--cap-drop', 'ALL', …]
 */
export function sandboxFlags(uid: number): string[] {
  const user = uid === 0 ? [] : ['--unshare-user', '--disable-userns'];
  return [
    '--unshare-ipc',
    '--unshare-pid',
    '--unshare-net',
    '--unshare-uts',
    '--unshare-cgroup-try',
    ...user,
    '--cap-drop',
    'ALL',
    '--die-with-parent',
    '--new-session',
  ];
}

/** The flags of this process's builds. */
function flags(): string[] {
  return sandboxFlags(process.getuid?.() ?? -1);
}

/** Whether builds can be sandboxed here: bubblewrap's path, or why not. */
export type SandboxProbe = { usable: true; bwrap: string } | { usable: false; reason: string };

/**
 * Try the sandbox: find `bwrap` on `path` and start `true` in a sandbox
 * with the same namespaces and privileges as a build's. It fails where
 * bubblewrap is missing or namespaces cannot be made (user namespaces
 * disabled by a sysctl or AppArmor; a container without CAP_SYS_ADMIN or
 * whose seccomp filter forbids unshare).
 * @example const probe = await probeSandbox(process.env.PATH ?? ''); // { usable: true, bwrap: '/usr/bin/bwrap' }
 */
export async function probeSandbox(path: string): Promise<SandboxProbe> {
  const bwrap = await findProgram('bwrap', path);
  if (bwrap === undefined) return { usable: false, reason: 'bwrap (Debian package bubblewrap) is not installed' };
  const trial = await new Promise<{ code: number | null; stderr: string }>((done) => {
    const child = spawn(bwrap, [...flags(), '--ro-bind', '/', '/', '--dev', '/dev', '--proc', '/proc', '--', 'true'], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', (error) => done({ code: null, stderr: error.message }));
    child.on('close', (code) => done({ code, stderr }));
  });
  if (trial.code === 0) return { usable: true, bwrap };
  return {
    usable: false,
    reason: `${bwrap} cannot make its namespaces here (${trial.stderr.trim().split('\n')[0] || `exit status ${trial.code}`})`,
  };
}

/** How a session's builds are isolated: in the sandbox, or — only where it cannot be set up and that was allowed — not at all. */
export type BuildIsolation =
  | { kind: 'bubblewrap'; bwrap: string; view: ToolchainView }
  | { kind: 'none'; reason: string };

/** The environment variable that allows building without a sandbox where none can be set up. */
export const ALLOW_UNSANDBOXED = 'KILN_ALLOW_UNSANDBOXED';

/**
 * The sandbox for the builds of one `kiln build` or `kiln bulk`, tried
 * before anything is built. Where it cannot be set up the build is refused
 * (E_SANDBOX) unless `allowUnsandboxed`: never silently unsandboxed.
 * @example const isolation = await chooseIsolation('www-servers/nginx', { allowUnsandboxed: false, path: process.env.PATH ?? '' });
 */
export async function chooseIsolation(
  what: string,
  options: { allowUnsandboxed: boolean; path: string },
): Promise<BuildIsolation> {
  const probe = await probeSandbox(options.path);
  const view = probe.usable ? await toolchainView() : undefined;
  if (probe.usable && view !== undefined) return { kind: 'bubblewrap', bwrap: probe.bwrap, view };
  const reason = probe.usable
    ? "this host has no dpkg database (/var/lib/dpkg/status), so the toolchain's files cannot be told from the rest of the host"
    : probe.reason;
  if (options.allowUnsandboxed) return { kind: 'none', reason };
  throw new KilnError(
    'E_SANDBOX',
    `cannot build ${what}: builds run in a sandbox that shows them only the toolchain, and it cannot be set up here: ${reason}`,
    {
      hint: `install bubblewrap (apt-get install bubblewrap) and let it make namespaces (users other than root need user namespaces: sysctl kernel.unprivileged_userns_clone=1; in a container, one that permits unshare), or set ${ALLOW_UNSANDBOXED}=1 to build without a sandbox: host headers and libraries can then end up in packages unseen`,
    },
  );
}

async function findProgram(name: string, path: string): Promise<string | undefined> {
  for (const dir of path.split(delimiter).filter((entry) => entry.startsWith('/'))) {
    const candidate = join(dir, name);
    try {
      await access(candidate, constants.X_OK);
      return candidate;
    } catch (error) {
      if (!isErrno(error, 'ENOENT') && !isErrno(error, 'EACCES') && !isErrno(error, 'ENOTDIR')) throw error;
    }
  }
  return undefined;
}

export interface SandboxLayout {
  view: ToolchainView;
  /** Where the view's hard links go: a new directory inside a writable path, hidden from the build. */
  links: string;
  /** The work tree and the placeholder prefix. */
  writable: readonly string[];
  /** The recipe's directory. */
  readOnly: readonly string[];
  /** Where the command starts. */
  cwd: string;
}

export interface PreparedSandbox {
  /** bubblewrap's arguments, up to and including `--`; the command follows. */
  args: string[];
  /** How the toolchain was made visible: hard links with its whole directories bound, or every file bound. */
  how: 'links' | 'mounts';
  /** How many bind mounts that took. */
  binds: number;
  /** Why hard links could not be used, when they could not. */
  note?: string;
  /** Remove the hard links: a kept work tree must not hold names of the host's files, which a `chown -R` would change. */
  remove(): Promise<void>;
}

/**
 * The sandbox of one build: the hard-linked view made, and bubblewrap's
 * arguments for it.
 * @example const sandbox = await prepareSandbox({ view, links: join(work, 'toolchain'), writable: [work, placeholder], readOnly: [recipeDir], cwd: sourceDir });
 * spawn(bwrap, [...sandbox.args, 'bash', '-e', script]); … await sandbox.remove();
 */
export async function prepareSandbox(layout: SandboxLayout): Promise<PreparedSandbox> {
  const own = [
    '--dev',
    '/dev',
    '--proc',
    '/proc',
    '--tmpfs',
    '/tmp',
    ...layout.readOnly.flatMap((path) => ['--ro-bind', path, path]),
    ...layout.writable.flatMap((path) => ['--bind', path, path]),
  ];
  // The sandbox's root is bubblewrap's own tmpfs, holding the directories on the way to what is bound: not a place to write.
  const end = ['--remount-ro', '/', '--chdir', layout.cwd, '--'];
  const remove = async (): Promise<void> => rm(layout.links, { recursive: true, force: true });
  const trees: string[] = [];
  let note: string | undefined;
  try {
    mkdirSync(layout.links);
    for (const entry of layout.view.entries) {
      if (entry.kind !== 'directory') continue;
      mkdirSync(layout.links + entry.path);
      linkEntries(entry.entries, layout.links, trees);
    }
  } catch (error) {
    if (!isErrno(error, 'EXDEV') && !isErrno(error, 'EPERM') && !isErrno(error, 'EACCES')) throw error;
    note = `hard links into ${layout.links} are not possible (${error.code}), so each of the toolchain's files is bound on its own`;
  }
  if (note === undefined) {
    const top = layout.view.entries.flatMap((entry) =>
      entry.kind === 'directory' ? ['--ro-bind', layout.links + entry.path, entry.path] : viewArgs([entry]),
    );
    const args = [
      ...flags(),
      ...top,
      ...trees.flatMap((path) => ['--ro-bind', path, path]),
      ...own,
      // The links lead to the host's own files, and the work tree around them is writable.
      '--tmpfs',
      layout.links,
      ...end,
    ];
    return { args, how: 'links', binds: countBinds(args), remove };
  }
  await remove();
  const args = [...flags(), ...viewArgs(layout.view.entries), ...own, ...end];
  return { args, how: 'mounts', binds: countBinds(args), note, remove };
}

function countBinds(args: readonly string[]): number {
  return args.filter((arg) => arg === '--ro-bind' || arg === '--bind').length;
}

/** Hard-link the view's files under `root` (the same paths below it), recreate its links, make the mount points of the directories shown whole (collected in `trees`). */
function linkEntries(entries: readonly ViewEntry[], root: string, trees: string[]): void {
  for (const entry of entries) {
    const at = root + entry.path;
    if (entry.kind === 'directory') {
      mkdirSync(at);
      linkEntries(entry.entries, root, trees);
    } else if (entry.kind === 'tree') {
      mkdirSync(at);
      trees.push(entry.path);
    } else if (entry.kind === 'file') linkFile(entry.path, at);
    else symlinkSync(entry.target, at);
  }
}

function linkFile(path: string, at: string): void {
  try {
    linkSync(path, at);
  } catch (error) {
    // Removed from the host since the view was read (a package upgrade): the sandbox shows what is there.
    if (!isErrno(error, 'ENOENT')) throw error;
  }
}

/** bubblewrap's operations that show the entries one by one. */
function viewArgs(entries: readonly ViewEntry[]): string[] {
  return entries.flatMap((entry) => {
    if (entry.kind === 'directory') return ['--dir', entry.path, ...viewArgs(entry.entries)];
    if (entry.kind === 'link') return ['--symlink', entry.target, entry.path];
    return ['--ro-bind', entry.path, entry.path];
  });
}

/**
 * A push to an rsync mirror over ssh (`[mirrors.NAME] rsync = "HOST:/DIR"`),
 * in the order pushMirrors.ts follows for a directory, made of rsync calls:
 *
 *   1. every file but the pointers (and hidden ones), sizes compared (a
 *      published file never changes), each written by rsync to a hidden
 *      temporary and renamed, fsynced (`--fsync`);
 *   2. each pointer alone, in commit order, one rsync call after the other,
 *      so that a signature is never renamed in before what it signs;
 *   3. a pointer the tree no longer publishes is deleted, after them;
 *   4. with --prune only, every file of the mirror the tree no longer has
 *      (and the hidden temporaries a killed rsync left).
 *
 * rsync and OpenSSH are the system's; the ssh command (`ssh` in the mirror's
 * table) carries the port, the key and the known-hosts file. Host keys are
 * checked as ssh checks them: an unknown or changed host key fails the push
 * (`BatchMode`: never a prompt). The calls of one push share one ssh
 * connection (a control master in a private temporary directory that ends
 * a few seconds after the push), so a push costs one handshake, not one per
 * pointer.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KilnError } from '../errors/index.js';
import type { MirrorPush } from './pushMirrors.js';

export interface RsyncMirror {
  name: string;
  rsync: string;
  ssh?: string | undefined;
}

/** Where rsync writes what it copies: only the owner writes, everyone reads (a web server serves it). */
const MODES = '--chmod=D755,F644';

/** One push: the published tree and its files, the pointers in commit order, and the step hook (tests kill at a step). */
export interface RsyncPush {
  source: string;
  mirror: RsyncMirror;
  files: ReadonlyMap<string, number>;
  pointers: readonly string[];
  serial: number;
  prune: boolean;
  step: () => void;
}

export async function pushOverRsync(push: RsyncPush): Promise<MirrorPush> {
  const control = await mkdtemp(join(tmpdir(), 'kiln-ssh-'));
  try {
    return await pushWith(push, [
      '-e',
      `${push.mirror.ssh ?? 'ssh'} -o BatchMode=yes -o ControlMaster=auto -o ControlPath=${control}/%C -o ControlPersist=5`,
    ]);
  } finally {
    await rm(control, { recursive: true, force: true });
  }
}

async function pushWith(push: RsyncPush, shell: string[]): Promise<MirrorPush> {
  const { source, mirror, files, pointers, serial, prune, step } = push;
  const destination = `${mirror.rsync.replace(/\/+$/, '')}/`;
  const rsync = (args: string[]) => runRsync(mirror, [...shell, ...args]);
  const result: MirrorPush = {
    mirror: mirror.name,
    path: mirror.rsync,
    serial,
    copied: 0,
    bytes: 0,
    pointers: 0,
    pruned: 0,
  };

  // 1. Immutable files.
  const excluded = [...pointers.map((path) => `--exclude=/${path}`), '--exclude=.*'];
  const stats = await rsync([
    '--recursive',
    '--times',
    '--size-only',
    '--fsync',
    '--mkpath',
    MODES,
    '--stats',
    ...excluded,
    `${source}/`,
    destination,
  ]);
  result.copied = statistic(stats, 'Number of regular files transferred');
  result.bytes = statistic(stats, 'Total transferred file size');
  step();
  // 2. The pointers, one call each, in commit order.
  for (const path of pointers) {
    if (!files.has(path)) continue;
    await rsync(['--times', '--fsync', MODES, `${source}/${path}`, `${destination}${path}`]);
    result.pointers++;
    step();
  }
  // 3. Pointers no longer published (a repository that stopped publishing format v1).
  const gone = pointers.filter((path) => !files.has(path));
  if (gone.length > 0)
    await rsync([
      '--recursive',
      '--delete',
      ...gone.map((path) => `--include=/${path}`),
      '--exclude=*',
      `${source}/`,
      destination,
    ]);
  // 4. Only when asked: what the tree no longer has.
  if (prune) {
    const deleted = await rsync([
      '--recursive',
      '--delete',
      '--existing',
      '--ignore-existing',
      '--stats',
      `${source}/`,
      destination,
    ]);
    result.pruned = statistic(deleted, 'Number of deleted files');
  }
  return result;
}

/** A figure of rsync's `--stats`: `Number of regular files transferred: 1,234` → 1234; 0 when absent. */
export function statistic(stats: string, label: string): number {
  const match = new RegExp(`^${label}: ([\\d,]+)`, 'm').exec(stats);
  return match === null ? 0 : Number((match[1] as string).replace(/,/g, ''));
}

function runRsync(mirror: RsyncMirror, args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn('rsync', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (chunk: Buffer) => out.push(chunk));
    child.stderr.on('data', (chunk: Buffer) => err.push(chunk));
    child.on('error', (error: NodeJS.ErrnoException) =>
      reject(
        new KilnError(
          'E_PUSH',
          `cannot push to mirror ${mirror.name} (${mirror.rsync}): cannot run rsync: ${error.message}`,
          {
            hint:
              error.code === 'ENOENT' ? 'install rsync (and ssh): apt-get install rsync openssh-client' : 'check rsync',
            cause: error,
          },
        ),
      ),
    );
    child.on('close', (code, signal) => {
      if (code === 0) {
        resolve(Buffer.concat(out).toString('utf8'));
        return;
      }
      const said = Buffer.concat(err).toString('utf8').trim().split('\n').slice(-4).join('; ');
      reject(
        new KilnError(
          'E_PUSH',
          `cannot push to mirror ${mirror.name} (${mirror.rsync}): rsync ${signal === null ? `exited with ${code}` : `was killed by ${signal}`}${said === '' ? '' : `: ${said}`}`,
          {
            hint: /Host key verification failed|REMOTE HOST IDENTIFICATION HAS CHANGED/.test(said)
              ? "the mirror's ssh host key is unknown or changed: check it, then add it to the known-hosts file the mirror's ssh command uses"
              : "check the mirror's rsync destination and ssh command in .kiln/config.toml, and that ssh to it works",
          },
        ),
      );
    });
  });
}

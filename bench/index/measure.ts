/**
 * Running the measured commands: each as a subprocess, asynchronously (the
 * loopback HTTP server lives in this process and must keep answering), wall
 * time from spawn to the end of its output; optionally followed by `sync`
 * (wall + final sync: the tools leave different amounts of data unwritten when
 * they exit); peak RSS from a separate run under `/usr/bin/time -f %M`, so the
 * timed runs carry no wrapper.
 */
import { spawn, spawnSync } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface Command {
  command: string;
  args: string[];
  env?: NodeJS.ProcessEnv;
}

export interface RunResult {
  ms: number;
  status: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

const running = new Set<ChildProcess>();

/** Kills the commands still running (Ctrl-C, errors). */
export function killRunning(): void {
  for (const child of running) child.kill('SIGTERM');
}

export const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
export const median = (xs: readonly number[]) => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)]!;

export function describe(command: Command): string {
  return [command.command, ...command.args]
    .map((part) => (/^[\w@%+=:,./-]+$/.test(part) ? part : `'${part.replace(/'/g, `'\\''`)}'`))
    .join(' ');
}

/** Runs a command to completion; `ms` is the wall time from spawn to the close of its output. */
export function runTimed(command: Command): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const stdout: Buffer[] = [];
    const stderr: Buffer[] = [];
    const start = process.hrtime.bigint();
    const child = spawn(command.command, command.args, {
      env: command.env ?? process.env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    running.add(child);
    child.stdout.on('data', (chunk: Buffer) => stdout.push(chunk));
    child.stderr.on('data', (chunk: Buffer) => stderr.push(chunk));
    child.on('error', (error) => {
      running.delete(child);
      reject(error);
    });
    child.on('close', (status, signal) => {
      const ms = Number(process.hrtime.bigint() - start) / 1e6;
      running.delete(child);
      resolve({
        ms,
        status,
        signal,
        stdout: Buffer.concat(stdout).toString('utf8'),
        stderr: Buffer.concat(stderr).toString('utf8'),
      });
    });
  });
}

/** `sync`, timed (ms). */
export function syncDisks(): number {
  const start = process.hrtime.bigint();
  spawnSync('sync');
  return Number(process.hrtime.bigint() - start) / 1e6;
}

export const TIME_BINARY = '/usr/bin/time';
export const haveTime = () => existsSync(TIME_BINARY);

/** Runs the command under /usr/bin/time; `rssKiB` is its peak resident set (undefined without /usr/bin/time). */
export async function runWithRss(command: Command): Promise<RunResult & { rssKiB: number | undefined }> {
  if (!haveTime()) return { ...(await runTimed(command)), rssKiB: undefined };
  const dir = mkdtempSync(join(tmpdir(), 'kiln-bench-rss-'));
  const file = join(dir, 'rss');
  try {
    const result = await runTimed({
      ...command,
      command: TIME_BINARY,
      args: ['-f', '%M', '-o', file, command.command, ...command.args],
    });
    const text = existsSync(file) ? (readFileSync(file, 'utf8').trim().split('\n').pop() ?? '') : '';
    const rssKiB = /^\d+$/.test(text) ? Number(text) : undefined;
    return { ...result, rssKiB };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

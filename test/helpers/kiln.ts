/**
 * Running the real `kiln` CLI in end-to-end tests, in temporary directories.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { TestContext } from 'node:test';

/** dist/src/cli/kiln.cjs (the `kiln` command, package.json "bin"), from dist/test/helpers/kiln.js. */
export const KILN_BIN = fileURLToPath(new URL('../../src/cli/kiln.cjs', import.meta.url));

export interface RunResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

export interface RunOptions {
  cwd?: string;
  env?: Record<string, string>;
  input?: string;
}

/**
 * Run `kiln ARGS...` and collect its exit code and output (never rejects on a
 * non-zero exit).
 * @example const result = await kiln(['repo', 'status', repo]); assert.equal(result.code, 0, result.stderr);
 */
export function kiln(args: readonly string[], options: RunOptions = {}): Promise<RunResult> {
  return run(process.execPath, [KILN_BIN, ...args], options);
}

/** Run any program the same way. */
export function run(program: string, args: readonly string[], options: RunOptions = {}): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(program, args, {
      cwd: options.cwd,
      env: {
        PATH: process.env['PATH'] ?? '/usr/bin:/bin',
        // Pinned: the tests never read or write the real user's home.
        HOME: options.cwd ?? tmpdir(),
        // Pinned: output is compared as plain text.
        NO_COLOR: '1',
        LC_ALL: 'C',
        ...options.env,
      },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    const stdout: Buffer[] = [];
    const stderr: Buffer[] = [];
    child.stdout.on('data', (chunk: Buffer) => stdout.push(chunk));
    child.stderr.on('data', (chunk: Buffer) => stderr.push(chunk));
    child.on('error', reject);
    child.on('close', (code) =>
      resolve({ code, stdout: Buffer.concat(stdout).toString('utf8'), stderr: Buffer.concat(stderr).toString('utf8') }),
    );
    child.stdin.on('error', () => undefined);
    child.stdin.end(options.input ?? '');
  });
}

/** A fresh temporary directory, removed when the test ends. */
export async function tempDir(t: TestContext, prefix = 'kiln-test-'): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  t.after(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

/**
 * JSON text, parsed; what `kiln --json` prints is unwrapped from its envelope
 * (`{"formatVersion": 1, "data": ...}`), whose version must be the one the
 * tests know. Other JSON (an index, a report file) is returned as it is.
 */
export function parseJson(text: string): unknown {
  const value: unknown = JSON.parse(text);
  if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
    const keys = Object.keys(value).sort().join(',');
    if (keys === 'data,formatVersion') {
      const envelope = value as { formatVersion: unknown; data: unknown };
      if (envelope.formatVersion !== 1)
        throw new Error(`--json output of format version ${String(envelope.formatVersion)}`);
      return envelope.data;
    }
  }
  return value;
}

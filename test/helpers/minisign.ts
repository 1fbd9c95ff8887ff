/**
 * Runs the real `minisign` for end-to-end tests of `src/sign`. A missing
 * minisign fails the tests (never skips them): `npm test` installs it.
 */
import { spawn } from 'node:child_process';

/**
 * How a minisign run ended.
 *
 * @example
 * const { code, stdout, stderr }: MinisignResult = await minisign(['-v'], { cwd: dir });
 */
export interface MinisignResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/**
 * Where and with what input minisign runs.
 *
 * @example
 * const options: MinisignOptions = { cwd: dir, input: 'pw\npw\n' };
 */
export interface MinisignOptions {
  /** Working directory; also minisign's HOME, so it never reads or writes the user's ~/.minisign. */
  cwd: string;
  /** Written to stdin (minisign reads passwords from there when it is not a terminal); empty when not given. */
  input?: string | undefined;
}

const MISSING =
  'minisign is not installed (no "minisign" on PATH); the end-to-end signature tests need it. ' +
  'Run `npm test`, which installs it (on Debian/Ubuntu: apt-get install minisign).';

/**
 * Runs `minisign` with `args` and resolves with its exit code and output
 * (it never rejects for a non-zero exit; it rejects when minisign is missing).
 *
 * @example
 * const result = await minisign(['-Vm', 'file', '-p', 'kiln.pub'], { cwd: dir });
 * assert.equal(result.code, 0, result.stderr);
 */
export function minisign(args: readonly string[], options: MinisignOptions): Promise<MinisignResult> {
  return new Promise((resolve, reject) => {
    const child = spawn('minisign', args, {
      cwd: options.cwd,
      env: {
        PATH: process.env['PATH'] ?? '/usr/local/bin:/usr/bin:/bin',
        // Pinned so minisign's default key paths point into the test's own directory.
        HOME: options.cwd,
        // Pinned so messages are the untranslated ones the tests match.
        LC_ALL: 'C',
      },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    const stdout: Buffer[] = [];
    const stderr: Buffer[] = [];
    child.stdout.on('data', (chunk: Buffer) => stdout.push(chunk));
    child.stderr.on('data', (chunk: Buffer) => stderr.push(chunk));
    child.on('error', (error: NodeJS.ErrnoException) => {
      reject(error.code === 'ENOENT' ? new Error(MISSING, { cause: error }) : error);
    });
    child.on('close', (code) => {
      resolve({ code, stdout: Buffer.concat(stdout).toString('utf8'), stderr: Buffer.concat(stderr).toString('utf8') });
    });
    // minisign may exit without reading stdin; that broken pipe is not a failure.
    child.stdin.on('error', (error: NodeJS.ErrnoException) => {
      if (error.code !== 'EPIPE') {
        reject(error);
      }
    });
    child.stdin.end(options.input ?? '');
  });
}

/**
 * The version line of the installed minisign (`minisign 0.11`); rejects with
 * a message saying `npm test` installs it when it is missing.
 *
 * @example
 * before(async () => { version = await requireMinisign(); });
 */
export async function requireMinisign(cwd: string): Promise<string> {
  const result = await minisign(['-v'], { cwd });
  const version = result.stdout.trim();
  if (result.code !== 0 || !/^minisign \d+\.\d+/.test(version)) {
    throw new Error(
      `"minisign -v" did not print a minisign version (exit ${result.code}): ${result.stdout}${result.stderr}\n${MISSING}`,
    );
  }
  return version;
}

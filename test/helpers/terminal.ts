/**
 * Running the real CLI on a pseudo-terminal, as a person at a terminal would:
 * Python's pty module gives the child a terminal for stdin, stdout and stderr,
 * and the keys (Ctrl-C, Ctrl-D, an answer) are typed when the output shows a
 * given text. What the terminal showed comes back with the exit status.
 */
import { spawn } from 'node:child_process';
import { tmpdir } from 'node:os';
import { KILN_BIN } from './kiln.js';

const DRIVER = `
import os, pty, select, sys, time
trigger, keys, seconds = sys.argv[1].encode(), sys.argv[2].encode('latin1'), float(sys.argv[3])
pid, fd = pty.fork()
if pid == 0:
    os.execvp(sys.argv[4], sys.argv[4:])
out, sent, deadline = b'', trigger == b'', time.time() + seconds
if sent and keys:
    os.write(fd, keys)
while time.time() < deadline:
    ready, _, _ = select.select([fd], [], [], 0.1)
    if ready:
        try:
            data = os.read(fd, 65536)
        except OSError:
            break
        if not data:
            break
        out += data
    if not sent and trigger in out:
        time.sleep(0.2)
        os.write(fd, keys)
        sent = True
else:
    os.kill(pid, 9)
_, status = os.waitpid(pid, 0)
sys.stdout.buffer.write(out)
sys.stderr.write(str(os.waitstatus_to_exitcode(status)))
`;

export interface TerminalResult {
  /** Everything the terminal showed (stdout and stderr together, with the terminal's \r\n). */
  screen: string;
  /** The exit status (negative: killed by that signal). */
  code: number;
}

/** Runs `kiln ARGS` on a terminal; when `when` appears on it, types `keys`. */
export function kilnOnTerminal(
  args: readonly string[],
  options: { when?: string; keys?: string; cwd?: string; env?: NodeJS.ProcessEnv; seconds?: number } = {},
): Promise<TerminalResult> {
  // A variable given as undefined is left out (NO_COLOR: undefined for a test of colour).
  const env: NodeJS.ProcessEnv = {
    PATH: process.env['PATH'] ?? '/usr/bin:/bin',
    HOME: options.cwd ?? tmpdir(),
    NO_COLOR: '1',
    LC_ALL: 'C',
    TERM: 'xterm',
    ...options.env,
  };
  for (const [key, value] of Object.entries(env)) if (value === undefined) delete env[key];
  return new Promise((resolve, reject) => {
    const child = spawn(
      'python3',
      [
        '-c',
        DRIVER,
        options.when ?? '',
        options.keys ?? '',
        String(options.seconds ?? 60),
        process.execPath,
        KILN_BIN,
        ...args,
      ],
      { cwd: options.cwd, env, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (chunk: Buffer) => out.push(chunk));
    child.stderr.on('data', (chunk: Buffer) => err.push(chunk));
    child.on('error', reject);
    child.on('close', () => {
      const status = Buffer.concat(err).toString('utf8').trim();
      if (!/^-?\d+$/.test(status)) {
        reject(new Error(`the terminal driver failed: ${status}`));
        return;
      }
      resolve({ screen: Buffer.concat(out).toString('utf8'), code: Number(status) });
    });
  });
}

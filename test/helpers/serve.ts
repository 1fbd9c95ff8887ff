/**
 * `kiln serve` started on a loopback port the system chooses (killed when the
 * test ends), and a plain HTTP GET that returns the whole answer.
 */
import type { ChildProcessWithoutNullStreams } from 'node:child_process';
import { spawn } from 'node:child_process';
import type { IncomingHttpHeaders } from 'node:http';
import { request } from 'node:http';
import type { TestContext } from 'node:test';
import { KILN_BIN } from './kiln.js';

export interface Serving {
  url: string;
  port: number;
  child: ChildProcessWithoutNullStreams;
  stdout: () => string;
  stderr: () => string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

export async function serve(t: TestContext, args: string[]): Promise<Serving> {
  const child = spawn(process.execPath, [KILN_BIN, 'serve', ...args, '--listen', '127.0.0.1:0'], {
    env: { PATH: process.env['PATH'] ?? '/usr/bin:/bin', NO_COLOR: '1', LC_ALL: 'C' },
  });
  let out = '';
  let err = '';
  child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString('utf8')));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on('exit', (code, signal) => resolve({ code, signal })),
  );
  t.after(() => child.kill('SIGKILL'));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`kiln serve did not start:\n${err}`)), 15_000);
    child.stderr.on('data', (chunk: Buffer) => {
      err += chunk.toString('utf8');
      const match = / at (http:\/\/[^ ]+?)\/ /.exec(err);
      if (match !== null) {
        clearTimeout(timer);
        resolve(match[1]!);
      }
    });
    child.on('exit', () => reject(new Error(`kiln serve exited:\n${err}`)));
  });
  return { url, port: Number(new URL(url).port), child, stdout: () => out, stderr: () => err, exited };
}

export interface Answer {
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

export function get(url: string, path: string, headers: Record<string, string> = {}, method = 'GET'): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request(`${url}${path}`, { method, headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks) }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

/**
 * kilnd's wire protocol: one JSON object per line, each way, on a Unix
 * socket. A line is at most MAX_LINE bytes: a longer one (or one that is not
 * a JSON object) is answered with an error and the connection is closed, so a
 * client cannot make the daemon hold more than that for it.
 *
 * Client to daemon:
 * - `{"op": "submit", "verb", "packages"?, "remote"?, "url"?, "keys"?, "yes"?, "dryRun"?, "detach"?}`
 * - `{"op": "confirm", "answer": BOOLEAN}` (to a `plan` event)
 * - `{"op": "attach" | "show" | "cancel", "activity": ID}`
 *
 * Daemon to client: `{"type": "accepted", "activity"}`, `{"type": "event", "event"}`,
 * `{"type": "plan", "plan"}`, `{"type": "done", "activity": ACTIVITY}`,
 * `{"type": "denied", "reason"}`, `{"type": "error", "code", "message", "hint"?}`.
 */
import type { Socket } from 'node:net';

export const MAX_LINE = 64 * 1024;

/** Splits a socket's bytes into lines of at most MAX_LINE; `onTooLong` once a line passes it (the rest is dropped). */
export function readLines(socket: Socket, onLine: (line: string) => void, onTooLong: () => void): void {
  let buffered = '';
  let broken = false;
  socket.setEncoding('utf8');
  socket.on('data', (chunk: string) => {
    if (broken) return;
    buffered += chunk;
    for (let end = buffered.indexOf('\n'); end !== -1; end = buffered.indexOf('\n')) {
      const line = buffered.slice(0, end);
      buffered = buffered.slice(end + 1);
      if (Buffer.byteLength(line) > MAX_LINE) {
        buffered = `${'x'.repeat(MAX_LINE)}x`;
        break;
      }
      if (line.trim() !== '') onLine(line);
    }
    if (Buffer.byteLength(buffered) > MAX_LINE) {
      broken = true;
      buffered = '';
      onTooLong();
    }
  });
}

/** Writes one message, unless the socket is gone (a detached client). */
export function send(socket: Socket, message: object): void {
  if (!socket.destroyed && socket.writable) socket.write(`${JSON.stringify(message)}\n`);
}

/** A JSON object, or undefined. */
export function parseMessage(line: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(line);
    return value !== null && typeof value === 'object' && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}

/** The default socket of a prefix: PREFIX/run/kiln/kilnd.sock (/run/kiln/kilnd.sock for /). */
export function socketPathOf(prefix: string): string {
  return `${prefix.replace(/\/+$/, '')}/run/kiln/kilnd.sock`;
}

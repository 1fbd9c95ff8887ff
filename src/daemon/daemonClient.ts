/**
 * The client side of kilnd's protocol (protocol.ts): send one request, then
 * hand each message to the caller until the activity is done, the request is
 * refused, or the caller detaches.
 */
import { createReadStream } from 'node:fs';
import type { Socket } from 'node:net';
import { createConnection } from 'node:net';
import { KilnError } from '../errors/index.js';
import type { PlannedChange, PrefixEvent } from '../install/index.js';
import type { Activity } from './kilnd.js';
import { parseMessage, send } from './protocol.js';

export interface ClientHandlers {
  accepted?: (activity: number) => void;
  event?: (event: PrefixEvent) => void;
  /** A plan; when it needs an answer, the returned promise gives it. */
  plan?: (plan: PlannedChange, needsAnswer: boolean) => Promise<boolean> | boolean | undefined;
}

/**
 * Sends `request` to the daemon at `socketPath`. Resolves with the finished
 * activity (or the activity shown, for `show`; or just its id, for a detached
 * submission). A denial is E_DENIED; an error the daemon reports keeps its code.
 */
export function askDaemon(
  socketPath: string,
  request: Record<string, unknown>,
  handlers: ClientHandlers = {},
  /** The package files the request declares (`files`), in order: their bytes are sent when kilnd asks for them. */
  files: readonly string[] = [],
): Promise<Activity | { id: number; detached: true }> {
  return new Promise((resolve, reject) => {
    let settled = false;
    const settle = (fn: () => void) => {
      if (settled) return;
      settled = true;
      fn();
      socket.end();
    };
    const socket = createConnection(socketPath);
    socket.setEncoding('utf8');
    socket.on('connect', () => send(socket, request));
    socket.on('error', (error: NodeJS.ErrnoException) =>
      settle(() =>
        reject(
          new KilnError('E_DAEMON', `cannot talk to kilnd at ${socketPath}: ${error.message}`, {
            hint: 'is kilnd running for this prefix? (kiln daemon, or its systemd unit: docs/kilnd.md)',
            cause: error,
          }),
        ),
      ),
    );
    socket.on('close', () =>
      settle(() =>
        reject(new KilnError('E_DAEMON', `kilnd at ${socketPath} closed the connection before the activity ended`)),
      ),
    );
    let buffered = '';
    socket.on('data', (chunk: string) => {
      buffered += chunk;
      for (let end = buffered.indexOf('\n'); end !== -1; end = buffered.indexOf('\n')) {
        const message = parseMessage(buffered.slice(0, end));
        buffered = buffered.slice(end + 1);
        if (message !== undefined) void handle(message);
      }
    });
    const handle = async (message: Record<string, unknown>): Promise<void> => {
      switch (message['type']) {
        case 'accepted':
          handlers.accepted?.(Number(message['activity']));
          if (request['detach'] === true) settle(() => resolve({ id: Number(message['activity']), detached: true }));
          break;
        case 'event':
          handlers.event?.(message['event'] as PrefixEvent);
          break;
        case 'send-files':
          // kilnd never opens a path a client names: this process reads its own files and sends the bytes.
          try {
            await sendFiles(socket, files, Number(message['chunk']));
          } catch (error) {
            settle(() => reject(error));
          }
          break;
        case 'plan': {
          const needsAnswer = message['needsAnswer'] === true;
          const answer = await handlers.plan?.(message['plan'] as PlannedChange, needsAnswer);
          if (needsAnswer) send(socket, { op: 'confirm', answer: answer === true });
          break;
        }
        case 'done':
        case 'activity':
          settle(() => resolve(message['activity'] as Activity));
          break;
        case 'denied':
          settle(() =>
            reject(
              new KilnError('E_DENIED', `kilnd refused: ${String(message['reason'])}`, {
                hint: 'kiln policy check USER VERB [NAME] explains it; the administrator changes the policy',
              }),
            ),
          );
          break;
        case 'error':
          settle(() =>
            reject(
              new KilnError(
                /^E_[A-Z_]+$/.test(String(message['code'])) ? (String(message['code']) as 'E_USAGE') : 'E_DAEMON',
                String(message['message']),
                typeof message['hint'] === 'string' ? { hint: message['hint'] } : {},
              ),
            ),
          );
          break;
      }
    };
  });
}

/** Each file's bytes, in chunks of at most `chunk` bytes as `file-data` lines, waiting when the socket is full. */
async function sendFiles(socket: Socket, files: readonly string[], chunk: number): Promise<void> {
  const size = Number.isSafeInteger(chunk) && chunk > 0 && chunk <= 48 * 1024 ? chunk : 32 * 1024;
  for (const file of files) {
    for await (const bytes of createReadStream(file, { highWaterMark: size }) as AsyncIterable<Buffer>) {
      if (!socket.write(`${JSON.stringify({ op: 'file-data', data: bytes.toString('base64') })}\n`))
        // Whichever comes first; the other listener goes too, or a large file would pile them up.
        await new Promise<void>((resolve) => {
          const done = () => {
            socket.off('drain', done);
            socket.off('close', done);
            resolve();
          };
          socket.on('drain', done);
          socket.on('close', done);
        });
      if (socket.destroyed) return;
    }
  }
}

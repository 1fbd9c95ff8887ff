/**
 * The E_FETCH errors of remote transfers, built in one place so that every
 * message names the URL the same way: redacted, as the user configured it.
 * `action` is the verb of the message: "fetch" (index, signature) or
 * "download" (packages).
 */
import { STATUS_CODES } from 'node:http';
import { KilnError } from '../errors/index.js';
import { redactUrl } from './remoteUrl.js';

export type TransferAction = 'fetch' | 'download';

/** `cannot fetch URL: HTTP 503 Service Unavailable` */
export function httpStatusError(
  action: TransferAction,
  url: URL,
  status: number,
  statusText: string | undefined,
): KilnError {
  const text = statusText !== undefined && statusText !== '' ? statusText : (STATUS_CODES[status] ?? 'Unknown Status');
  let hint: string | undefined;
  if (status === 401 || status === 403) hint = 'the server refused access; check the credentials in the remote URL';
  else if (status === 404 || status === 410)
    hint = 'the server does not have this file; sync the repository index again, or check the remote URL';
  else if (status >= 500) hint = 'the server has a problem; try again later';
  return new KilnError('E_FETCH', `cannot ${action} ${redactUrl(url)}: HTTP ${status} ${text}`, { hint });
}

const CONNECTION_STATES = new Map<string, string>([
  ['ECONNREFUSED', 'connection refused'],
  ['ECONNRESET', 'the connection was reset or closed early'],
  ['EPIPE', 'the connection was closed'],
  ['ENOTFOUND', 'host not found'],
  ['EAI_AGAIN', 'host name lookup failed (temporarily)'],
  ['EHOSTUNREACH', 'host unreachable'],
  ['ENETUNREACH', 'network unreachable'],
  ['ETIMEDOUT', 'the connection timed out'],
]);

/** A failed connection, DNS lookup, TLS handshake or a transfer cut short. */
export function connectionError(action: TransferAction, url: URL, cause: unknown): KilnError {
  const code = cause instanceof Error ? (cause as NodeJS.ErrnoException).code : undefined;
  const state =
    (code === undefined ? undefined : CONNECTION_STATES.get(code)) ??
    (cause instanceof Error ? cause.message : String(cause));
  return new KilnError('E_FETCH', `cannot ${action} ${redactUrl(url)}: ${state}`, {
    hint:
      action === 'download'
        ? 'check the network and the remote URL; run the command again to resume the download'
        : 'check the network and the remote URL',
    cause,
  });
}

/** No byte arrived for `timeoutMs`. */
export function timeoutError(action: TransferAction, url: URL, timeoutMs: number): KilnError {
  return new KilnError(
    'E_FETCH',
    `cannot ${action} ${redactUrl(url)}: no data received for ${formatSeconds(timeoutMs)}`,
    {
      hint: 'the server or the network is stalled; try again later',
    },
  );
}

/** The caller's abort signal fired; for a download the partial file stays for a later resume. */
export function interruptedError(action: TransferAction, url: URL, cause: unknown): KilnError {
  return new KilnError('E_FETCH', `${action} of ${redactUrl(url)} interrupted`, { cause });
}

/** Any other failure of the transfer itself (redirects, a response that breaks the protocol). */
export function fetchError(action: TransferAction, url: URL, state: string, hint?: string): KilnError {
  return new KilnError('E_FETCH', `cannot ${action} ${redactUrl(url)}: ${state}`, { hint });
}

function formatSeconds(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000} s` : `${(ms / 1000).toFixed(1)} s`;
}

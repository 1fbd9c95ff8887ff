/**
 * One HTTP(S) GET with node:http/node:https, shared by the fetcher and the
 * downloader: follows up to 5 redirects, ends the exchange after `timeoutMs`
 * without a byte (connecting, waiting for headers or reading the body), and
 * stops at once when the abort signal fires. Every failure is an E_FETCH that
 * names the URL the caller asked for, redacted.
 *
 * Uses Node's global agents, which keep connections alive between requests.
 */
import type { ClientRequest, IncomingHttpHeaders, IncomingMessage } from 'node:http';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { KilnError } from '../errors/index.js';
import type { TransferAction } from './fetchErrors.js';
import { connectionError, fetchError, interruptedError, timeoutError } from './fetchErrors.js';
import { redactUrl } from './remoteUrl.js';
import type { TransferLimits } from './transferLimits.js';
import { DEFAULT_TRANSFER_LIMITS, deadlineError, deadlineFor, slowError } from './transferLimits.js';

export const MAX_REDIRECTS = 5;
const REDIRECT_STATUSES = new Set([301, 302, 303, 307, 308]);

export interface HttpGetOptions {
  /** The verb of error messages. */
  action: TransferAction;
  headers?: Readonly<Record<string, string>>;
  /** Inactivity limit in milliseconds. */
  timeoutMs: number;
  signal?: AbortSignal | undefined;
  /** Minimum rate and deadline (transferLimits.ts); the defaults when absent. */
  limits?: TransferLimits | undefined;
  /** The size the transfer should have (a package's pinned size), for its deadline. */
  expectedBytes?: number | undefined;
  /** The remote the transfer is for, named in the errors of the limits. */
  remote?: string | undefined;
  /** Without `expectedBytes`: derive the deadline from the response's Content-Length, when it has one (source tarballs). */
  sizeFromHeaders?: boolean;
}

export interface HttpResponse {
  /** The URL that answered, after redirects. */
  url: URL;
  status: number;
  statusText: string | undefined;
  headers: IncomingHttpHeaders;
  /** The body, chunk by chunk; ends with an E_FETCH on a broken connection, inactivity or abort. */
  body: AsyncIterable<Buffer>;
  /** Stop the exchange and release its timer; safe to call more than once. */
  close(): void;
}

/**
 * GET `url`, following redirects; resolves once the final response's headers
 * have arrived, whatever its status. The caller reads `body` or calls `close()`.
 * @example const response = await httpGet(url, { action: 'fetch', timeoutMs: 30_000 })
 */
export async function httpGet(url: URL, options: HttpGetOptions): Promise<HttpResponse> {
  let current = url;
  // One deadline for the whole exchange, redirects included.
  const limits = options.limits ?? DEFAULT_TRANSFER_LIMITS;
  const deadlineMs = deadlineFor(limits, options.expectedBytes);
  // The monotonic clock: a wall clock that NTP steps would move the deadline.
  const deadlineAt = performance.now() + deadlineMs;
  for (let redirects = 0; ; redirects++) {
    const response = await requestOnce(current, url, options, { limits, deadlineMs, deadlineAt });
    const location = response.headers.location;
    if (!REDIRECT_STATUSES.has(response.status) || location === undefined) return response;
    response.close();
    if (redirects === MAX_REDIRECTS)
      throw fetchError(
        options.action,
        url,
        `more than ${MAX_REDIRECTS} redirects`,
        'the server redirects in a loop; check the remote URL',
      );
    current = redirectTarget(current, location, url, options.action);
  }
}

/** Where a redirect leads; credentials only follow within the same origin, and https never falls back to http. */
function redirectTarget(from: URL, location: string, original: URL, action: TransferAction): URL {
  let to: URL;
  try {
    to = new URL(location, from);
  } catch {
    throw fetchError(action, original, `the server redirected to an invalid URL "${redactUrl(location)}"`);
  }
  if (to.protocol !== 'http:' && to.protocol !== 'https:')
    throw fetchError(action, original, `the server redirected to an unsupported URL ${redactUrl(to)}`);
  if (from.protocol === 'https:' && to.protocol === 'http:')
    throw fetchError(action, original, `the server redirected from https to an insecure URL ${redactUrl(to)}`);
  if (to.origin !== from.origin) {
    to.username = '';
    to.password = '';
  } else if (to.username === '' && to.password === '') {
    to.username = from.username;
    to.password = from.password;
  }
  to.hash = '';
  return to;
}

interface Bounds {
  limits: TransferLimits;
  deadlineMs: number;
  deadlineAt: number;
}

function requestOnce(target: URL, original: URL, options: HttpGetOptions, bounds: Bounds): Promise<HttpResponse> {
  const { action, signal } = options;
  return new Promise((resolve, reject) => {
    if (signal?.aborted === true) {
      reject(interruptedError(action, original, signal.reason));
      return;
    }
    let request: ClientRequest | undefined;
    let response: IncomingMessage | undefined;
    // Why the exchange was stopped on purpose; wins over the socket error it causes.
    let failure: KilnError | undefined;
    const stop = (error: KilnError): void => {
      failure ??= error;
      response?.destroy(error);
      request?.destroy(error);
    };
    const timer = setTimeout(() => stop(timeoutError(action, original, options.timeoutMs)), options.timeoutMs);
    let deadlineMs = bounds.deadlineMs;
    let deadline = setTimeout(
      () => stop(deadlineError(action, original, deadlineMs, options.remote)),
      Math.max(0, bounds.deadlineAt - performance.now()),
    );
    // The minimum rate, checked at the end of each window over the bytes of that window.
    let windowBytes = 0;
    const { limits } = bounds;
    const rate =
      limits.minRate === 0
        ? undefined
        : setInterval(() => {
            if (windowBytes < (limits.minRate * limits.rateWindowMs) / 1000)
              stop(slowError(action, original, windowBytes, limits, options.remote));
            windowBytes = 0;
          }, limits.rateWindowMs);
    const onAbort = (): void => stop(interruptedError(action, original, signal?.reason));
    signal?.addEventListener('abort', onAbort, { once: true });
    const cleanup = (): void => {
      clearTimeout(timer);
      clearTimeout(deadline);
      if (rate !== undefined) clearInterval(rate);
      signal?.removeEventListener('abort', onAbort);
    };

    const send = target.protocol === 'https:' ? httpsRequest : httpRequest;
    request = send(target, {
      method: 'GET',
      headers: { 'accept-encoding': 'identity', 'user-agent': 'kiln', ...options.headers },
    });
    request.on('error', (error) => {
      cleanup();
      reject(failure ?? connectionError(action, original, error));
    });
    request.on('response', (incoming) => {
      response = incoming;
      timer.refresh();
      const length = Number(incoming.headers['content-length']);
      if (
        options.sizeFromHeaders === true &&
        options.expectedBytes === undefined &&
        Number.isSafeInteger(length) &&
        length > 0
      ) {
        // The size the server announces, at the minimum rate, from when the exchange began.
        const extended = deadlineFor(bounds.limits, length);
        clearTimeout(deadline);
        deadlineMs = extended;
        deadline = setTimeout(
          () => stop(deadlineError(action, original, deadlineMs, options.remote)),
          Math.max(0, bounds.deadlineAt - bounds.deadlineMs + extended - performance.now()),
        );
      }
      // Errors reach the reader through the iterator; this keeps an unread, destroyed body from crashing the process.
      incoming.on('error', () => undefined);
      const close = (): void => {
        cleanup();
        incoming.destroy();
      };
      async function* body(): AsyncGenerator<Buffer> {
        try {
          for await (const chunk of incoming) {
            timer.refresh();
            windowBytes += (chunk as Buffer).length;
            yield chunk as Buffer;
            timer.refresh();
          }
        } catch (error) {
          throw failure ?? connectionError(action, original, error);
        } finally {
          close();
        }
        if (failure !== undefined) throw failure;
      }
      resolve({
        url: target,
        status: incoming.statusCode ?? 0,
        statusText: incoming.statusMessage,
        headers: incoming.headers,
        body: body(),
        close,
      });
    });
    request.end();
  });
}

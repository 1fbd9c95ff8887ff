/**
 * kilnd: run by root, it changes one prefix (the system, `/`) for users who
 * are not root, as its policy allows (policy.ts; docs/kilnd.md).
 *
 * - **Who asks** comes from the kernel: SO_PEERCRED when the connection is
 *   accepted (peerCredentials.ts), named from the account database. Nothing a
 *   client sends can change it.
 * - **What may be asked** is a verb with package names and a remote: the
 *   daemon never opens a path a client names, and it checks the request
 *   against the policy twice: the verb and names when it is submitted, then
 *   each package the plan places with the remote it comes from. A package
 *   file arrives as bytes (fileUploads.ts), is checked as a download is, and
 *   counts as from the remotes whose keys signed it.
 * - **Activities.** An allowed request becomes an activity with an id, kept in
 *   `PREFIX/var/lib/kiln/kilnd.db`, queued and run one at a time, each in one
 *   transaction of the prefix under its writer lock. The client streams its
 *   events, answers its plan (or said `yes`), and may go away: the activity
 *   goes on (a plan that needs an answer from a client that left is not
 *   confirmed). `attach`, `show` and `cancel` find it again; `cancel` stops a
 *   running one before its commit (the change's AbortSignal).
 * - **A crash** of kilnd: at start-up, an activity left `running` is marked
 *   completed when the prefix's history records its transaction, failed
 *   otherwise; the transaction itself is recovered by the prefix as after any
 *   crash. Queued activities run.
 * - **Every decision is logged** with the caller and the rule that made it.
 */
import { chmodSync, mkdirSync, rmSync } from 'node:fs';
import type { Server, Socket } from 'node:net';
import { createServer } from 'node:net';
import { dirname, join } from 'node:path';
import { KilnError, isKilnError } from '../errors/index.js';
import type { ChangeResult, PlannedChange, Prefix, PrefixEvent } from '../install/index.js';
import { openPrefix } from '../install/Prefix.js';
import { acquireLock } from '../db/fileLock.js';
import { openSqlite } from '../db/sqlite.js';
import type { SqliteModule } from '../db/sqlite.js';
import { parseRemoteUrl, redactUrl } from '../remote/index.js';
import { parseRequest } from '../solver/index.js';
import type { Caller, Policy, PolicyRequest, Verb } from './policy.js';
import { callerOf, decide, isVerb, readPolicy } from './policy.js';
import { peerCredentials } from './peerCredentials.js';
import { MAX_LINE, parseMessage, readLines, send } from './protocol.js';
import type { DeclaredFile } from './fileUploads.js';
import {
  CHUNK_BYTES,
  MAX_FILE_BYTES,
  MAX_FILES,
  UploadReceiver,
  removeStaleUploads,
  uploadDirectory,
} from './fileUploads.js';

export type ActivityState = 'queued' | 'running' | 'completed' | 'failed' | 'cancelled';

export interface Activity {
  id: number;
  uid: number;
  user: string;
  verb: Verb;
  packages: string[];
  remote: string | null;
  state: ActivityState;
  createdAt: string;
  finishedAt: string | null;
  /** What it did (the transaction and its plan), once completed. */
  result: unknown;
  /** Why it failed, or was cancelled. */
  error: string | null;
  /** The error's code, when it failed. */
  errorCode: string | null;
}

export interface DaemonOptions {
  prefix: string;
  socket: string;
  policy: string;
  /** One line per decision and activity. */
  log: (line: string) => void;
  /** The account database's root (tests: a throw-away one). */
  accounts?: string;
  /** Connections served at once; more are refused. */
  maxClients?: number;
}

export interface RunningDaemon {
  close(): Promise<void>;
}

interface Submission {
  verb: Verb;
  packages: string[];
  remote: string | undefined;
  url: string | undefined;
  keys: string[];
  /** add-remote: its priority and other URLs. */
  priority?: number;
  mirrors?: string[];
  /** install: package files the client declared it will stream (name and size). */
  declared?: DeclaredFile[];
  /** install: those files as kilnd received them (its own paths), and the remotes whose keys signed each package. */
  files?: string[];
  signedBy?: Record<string, string[]>;
  yes: boolean;
  dryRun: boolean;
}

/** A connection's state between its lines: the files of a submission whose bytes are arriving. */
interface Connection {
  upload?: { receiver: UploadReceiver; submission: Submission; detach: boolean };
}

/** What a running activity's clients hear, and how its plan is answered. */
interface Live {
  listeners: Set<Socket>;
  /** The connection that submitted it, while it stays: it answers the plan. */
  owner: Socket | undefined;
  answer?: (yes: boolean) => void;
  /** Set while it runs: `cancel` stops it before its commit. */
  cancel?: AbortController;
  /** Who cancelled it, for its record. */
  cancelledBy?: string;
}

const NAME = /^[A-Za-z0-9_][A-Za-z0-9._+-]{0,127}$/;
const MAX_PACKAGES = 1024;
const CONFIRM_MS = 10 * 60_000;
/** Activities one user other than root may have queued or running at once. */
const MAX_QUEUED_PER_USER = 16;
/** How long a client has to send its request. */
const REQUEST_MS = 10_000;

export async function startDaemon(options: DaemonOptions): Promise<RunningDaemon> {
  // Only a prefix that exists (E_PREFIX_NOT_FOUND otherwise); opening it also recovers a transaction a crash left.
  (await openPrefix(options.prefix, { reporter: () => undefined })).close();
  const dbPath = join(options.prefix, 'var', 'lib', 'kiln', 'kilnd.db');
  mkdirSync(dirname(dbPath), { recursive: true });
  // One kilnd per prefix, for its whole life: a second would take over the socket and run queued activities twice.
  const instance = await acquireLock(join(dirname(dbPath), 'kilnd.lock'), `kilnd of prefix ${options.prefix}`, {
    wait: false,
    hint: 'another kilnd serves this prefix already (stop it first)',
  });
  const db = openSqlite(dbPath);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = FULL');
  db.exec(`CREATE TABLE IF NOT EXISTS activities (
    id INTEGER PRIMARY KEY, uid INTEGER NOT NULL, user TEXT NOT NULL, verb TEXT NOT NULL, request TEXT NOT NULL,
    state TEXT NOT NULL, created_at TEXT NOT NULL, finished_at TEXT, result TEXT, error TEXT, error_code TEXT)`);
  const live = new Map<number, Live>();
  await recover(db, options);
  // Package files users sent: kept for activities still queued, deleted otherwise.
  const uploads = uploadDirectory(dirname(dbPath));
  const queuedFiles = (
    db.prepare("SELECT request FROM activities WHERE state = 'queued'").all() as { request: string }[]
  ).flatMap((row) => (JSON.parse(row.request) as Submission).files ?? []);
  removeStaleUploads(uploads, new Set(queuedFiles));

  let running = false;
  const pump = async (): Promise<void> => {
    if (running) return;
    running = true;
    try {
      for (;;) {
        const next = db.prepare("SELECT id FROM activities WHERE state = 'queued' ORDER BY id LIMIT 1").get() as
          | { id: number }
          | undefined;
        if (next === undefined) return;
        await runActivity(db, next.id, live, options);
      }
    } finally {
      running = false;
    }
  };

  mkdirSync(dirname(options.socket), { recursive: true });
  rmSync(options.socket, { force: true });
  const clients = new Set<Socket>();
  const server: Server = createServer((socket) => {
    if (clients.size >= (options.maxClients ?? 64)) {
      send(socket, { type: 'error', code: 'E_LOCKED', message: 'kilnd serves too many clients at once; try again' });
      socket.end();
      return;
    }
    clients.add(socket);
    socket.on('close', () => clients.delete(socket));
    socket.on('error', () => undefined);
    // A client that sends no request in time is cut off: idle connections cannot fill the slots.
    socket.setTimeout(REQUEST_MS, () => socket.destroy());
    // Read once, at accept: the kernel's record of who connected.
    let caller: Promise<Caller>;
    try {
      const credentials = peerCredentials(socket);
      caller = callerOf(credentials.uid, credentials.gid, options.accounts ?? '/');
    } catch {
      socket.destroy();
      return;
    }
    // One line at a time, in order: a submission's file data follows it.
    const connection: Connection = {};
    let queue: Promise<unknown> = caller;
    // Lines that arrived are handled even when the client has gone (an activity outlives its client); then
    // the bytes of a file it did not finish sending are deleted.
    socket.on('close', () => {
      queue = queue.then(() => {
        connection.upload?.receiver.discard();
        connection.upload = undefined;
      });
    });
    readLines(
      socket,
      (line) => {
        queue = queue
          .then(async () => {
            await handle(await caller, socket, line, connection);
          })
          .catch((error: unknown) => {
            connection.upload?.receiver.discard();
            connection.upload = undefined;
            fail(socket, error);
          });
      },
      () => {
        send(socket, { type: 'error', code: 'E_USAGE', message: `a request is longer than ${MAX_LINE} bytes` });
        socket.end();
      },
    );
  });

  /** Records an allowed submission as a queued activity; the submitting connection follows it unless it detaches. */
  const queueActivity = (who: Caller, socket: Socket, submission: Submission, detach: boolean): void => {
    const created = db
      .prepare(
        "INSERT INTO activities (uid, user, verb, request, state, created_at) VALUES (?, ?, ?, ?, 'queued', ?) RETURNING id",
      )
      .get(who.uid, who.user, submission.verb, JSON.stringify(submission), new Date().toISOString()) as {
      id: number;
    };
    options.log(
      `kilnd: activity ${created.id} queued: ${who.user} ${submission.verb} ${[...submission.packages, ...(submission.declared ?? []).map((file) => `${file.name} (file)`)].join(' ')}`,
    );
    const watching: Live = { listeners: new Set(detach ? [] : [socket]), owner: socket };
    live.set(created.id, watching);
    socket.on('close', () => {
      watching.listeners.delete(socket);
      if (watching.owner === socket) watching.owner = undefined;
      watching.answer?.(false);
    });
    // It now follows its activity, for as long as that runs.
    socket.setTimeout(0);
    send(socket, { type: 'accepted', activity: created.id });
    if (detach) socket.end();
    void pump();
  };

  const handle = async (who: Caller, socket: Socket, line: string, connection: Connection): Promise<void> => {
    const message = parseMessage(line);
    if (message === undefined) {
      send(socket, { type: 'error', code: 'E_USAGE', message: 'a request is not a JSON object' });
      socket.end();
      return;
    }
    const op = message['op'];
    if (op === 'file-data') {
      const upload = connection.upload;
      const data = message['data'];
      if (upload === undefined || typeof data !== 'string')
        throw new KilnError('E_USAGE', 'file data comes after a submission that declares files, as base64 text');
      upload.receiver.write(Buffer.from(data, 'base64'));
      if (!upload.receiver.complete) return;
      connection.upload = undefined;
      // Checked as a download is, before any decision rests on it: signature by a key a remote trusts, metadata,
      // payload. Its metadata must name the package the client declared.
      const signedBy: Record<string, string[]> = {};
      try {
        const prefix = await openPrefix(options.prefix, { reporter: () => undefined });
        try {
          for (const [at, path] of upload.receiver.paths.entries()) {
            const declared = upload.submission.declared![at]!;
            const checked = await prefix.checkPackageFile(path);
            if (checked.name !== declared.name)
              throw new KilnError(
                'E_DENIED',
                `kilnd refused: the package file declared as ${declared.name} holds ${checked.name} ${checked.version}`,
                { hint: 'send the file under the name its metadata gives' },
              );
            signedBy[checked.name] = checked.remotes;
          }
        } finally {
          prefix.close();
        }
      } catch (error) {
        upload.receiver.discard();
        throw error;
      }
      queueActivity(who, socket, { ...upload.submission, files: upload.receiver.paths, signedBy }, upload.detach);
      return;
    }
    if (op === 'submit') {
      if (connection.upload !== undefined) throw new KilnError('E_USAGE', 'one submission per connection');
      const submission = parseSubmission(message);
      const policy = await readPolicy(options.policy);
      const asked: PolicyRequest = {
        verb: submission.verb,
        packages: [...submission.packages, ...(submission.declared ?? []).map((file) => file.name)],
        ...(submission.remote === undefined ? {} : { remote: submission.remote }),
      };
      const decision = decide(policy, who, asked);
      options.log(`kilnd: ${decision.allowed ? 'allowed' : 'denied'}: ${decision.reason}`);
      if (!decision.allowed) {
        send(socket, { type: 'denied', reason: decision.reason, rule: decision.rule });
        socket.end();
        return;
      }
      // One user's queue is bounded: the activities run one at a time, and others' must not wait behind thousands.
      const waiting = db
        .prepare("SELECT count(*) AS n FROM activities WHERE uid = ? AND state IN ('queued', 'running')")
        .get(who.uid) as { n: number };
      if (who.uid !== 0 && waiting.n >= MAX_QUEUED_PER_USER) {
        options.log(`kilnd: refused: ${who.user} has ${waiting.n} activities queued or running`);
        throw new KilnError(
          'E_LOCKED',
          `kilnd has ${waiting.n} activities of ${who.user} queued or running, the most one user may have`,
          { hint: 'kiln activity wait ID for one of them, or cancel some; then try again' },
        );
      }
      if (submission.declared !== undefined && submission.declared.length > 0) {
        // The files' bytes follow; the activity is queued once they have arrived and passed their checks.
        connection.upload = {
          receiver: new UploadReceiver(uploads, submission.declared),
          submission,
          detach: message['detach'] === true,
        };
        send(socket, { type: 'send-files', chunk: CHUNK_BYTES });
        if (connection.upload.receiver.complete)
          await handle(who, socket, JSON.stringify({ op: 'file-data', data: '' }), connection);
        return;
      }
      queueActivity(who, socket, submission, message['detach'] === true);
      return;
    }
    if (op === 'confirm') {
      for (const watching of live.values())
        if (watching.owner === socket && watching.answer !== undefined) watching.answer(message['answer'] === true);
      return;
    }
    if (op === 'attach' || op === 'show' || op === 'cancel') {
      const id = Number(message['activity']);
      const activity = Number.isInteger(id) ? readActivity(db, id) : undefined;
      // Only root and the user who asked see an activity: its packages are theirs.
      if (activity === undefined || (who.uid !== 0 && activity.uid !== who.uid)) {
        send(socket, {
          type: 'error',
          code: 'E_USAGE',
          message: `no activity ${String(message['activity'])} of yours`,
        });
        socket.end();
        return;
      }
      const finished = activity.state === 'completed' || activity.state === 'failed' || activity.state === 'cancelled';
      if (op === 'show' || finished) {
        send(socket, { type: op === 'show' ? 'activity' : 'done', activity });
        socket.end();
        return;
      }
      if (op === 'cancel' && activity.state === 'running') {
        // A running activity stops at its next check before the commit (Prefix's ChangeOptions.signal) and is
        // rolled back; one already moving files into place completes. The canceller hears how it ended.
        const watching = live.get(id);
        if (watching?.cancel === undefined) {
          send(socket, { type: 'error', code: 'E_USAGE', message: `activity ${id} cannot be cancelled now` });
          socket.end();
          return;
        }
        watching.cancelledBy = who.user;
        watching.cancel.abort();
        watching.answer?.(false);
        options.log(`kilnd: activity ${id} asked to stop by ${who.user}`);
        socket.setTimeout(0);
        watching.listeners.add(socket);
        socket.on('close', () => watching.listeners.delete(socket));
        return;
      }
      if (op === 'cancel') {
        const changed = db
          .prepare(
            "UPDATE activities SET state = 'cancelled', finished_at = ?, error = ? WHERE id = ? AND state = 'queued'",
          )
          .run(new Date().toISOString(), `cancelled by ${who.user}`, id).changes;
        options.log(
          `kilnd: activity ${id} ${changed > 0 ? 'cancelled' : 'not cancelled (it runs already)'} by ${who.user}`,
        );
        send(
          socket,
          changed > 0
            ? { type: 'done', activity: readActivity(db, id) }
            : {
                type: 'error',
                code: 'E_USAGE',
                message: `activity ${id} started meanwhile: cancel it again to stop it`,
              },
        );
        socket.end();
        return;
      }
      const watching = live.get(id) ?? { listeners: new Set<Socket>(), owner: undefined };
      live.set(id, watching);
      socket.setTimeout(0);
      watching.listeners.add(socket);
      socket.on('close', () => watching.listeners.delete(socket));
      return;
    }
    send(socket, { type: 'error', code: 'E_USAGE', message: `unknown op ${JSON.stringify(op)}` });
    socket.end();
  };

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.socket, () => resolve());
  });
  // Anyone may connect; what they may do is the policy's to say.
  chmodSync(options.socket, 0o666);
  options.log(`kilnd: serving prefix ${options.prefix} on ${options.socket} (policy ${options.policy})`);
  void pump();
  return {
    async close() {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const client of clients) client.destroy();
      });
      db.close();
      instance.release();
    },
  };
}

function fail(socket: Socket, error: unknown): void {
  const known = isKilnError(error);
  send(socket, {
    type: 'error',
    code: known ? error.code : 'E_BUG',
    message: (error as Error).message,
    ...(known && error.hint !== undefined ? { hint: error.hint } : {}),
  });
  socket.end();
}

function parseSubmission(message: Record<string, unknown>): Submission {
  const verb = message['verb'];
  if (typeof verb !== 'string' || !isVerb(verb))
    throw new KilnError('E_USAGE', `kilnd does not know the verb ${JSON.stringify(verb)}`, {
      hint: 'install, remove, upgrade, sync or add-remote',
    });
  const packages = message['packages'] ?? [];
  if (!Array.isArray(packages) || packages.length > MAX_PACKAGES || !packages.every((p) => typeof p === 'string'))
    throw new KilnError('E_USAGE', `a request names at most ${MAX_PACKAGES} packages, as strings`);
  // Requests as the resolver reads them (NAME[OPTIONS]RANGE); no paths: kilnd never opens a file a client names.
  for (const text of packages) {
    let request: ReturnType<typeof parseRequest> | undefined;
    try {
      request = parseRequest(text);
    } catch {
      request = undefined;
    }
    if (request === undefined || !NAME.test(request.name))
      throw new KilnError('E_USAGE', `kilnd takes package names, not ${JSON.stringify(text)}`, {
        hint: 'a package file is installed by root, or published to a remote the policy allows',
      });
  }
  const remote = message['remote'];
  if (remote !== undefined && (typeof remote !== 'string' || !NAME.test(remote)))
    throw new KilnError('E_USAGE', `kilnd takes a remote's name, not ${JSON.stringify(remote)}`);
  const url = message['url'];
  const keys = message['keys'] ?? [];
  if (url !== undefined && typeof url !== 'string') throw new KilnError('E_USAGE', 'a remote URL is a string');
  if (!Array.isArray(keys) || keys.length > 16 || !keys.every((key) => typeof key === 'string' && key.length < 4096))
    throw new KilnError('E_USAGE', 'a remote is added with at most 16 public keys, as text');
  if (verb === 'add-remote' && (remote === undefined || url === undefined))
    throw new KilnError('E_USAGE', 'add-remote needs a remote name and its URL');
  const mirrors = message['mirrors'] ?? [];
  if (!Array.isArray(mirrors) || mirrors.length > 16 || !mirrors.every((mirror) => typeof mirror === 'string'))
    throw new KilnError('E_USAGE', 'a remote is added with at most 16 mirrors, as URLs');
  // kilnd reads remotes over the network only: a file:// URL or a path would have root read where the client says.
  for (const text of [...(url === undefined ? [] : [url]), ...(mirrors as string[])])
    if (!['https:', 'http:'].includes(parseRemoteUrl(text).protocol))
      throw new KilnError('E_REMOTE_URL', `kilnd adds remotes by http:// or https:// URL, not ${redactUrl(text)}`, {
        hint: 'a repository on this machine is added by root (kiln remote add), or served over HTTP (kiln serve)',
      });
  const priority = message['priority'] ?? 0;
  if (typeof priority !== 'number' || !Number.isInteger(priority) || Math.abs(priority) > 1000)
    throw new KilnError('E_USAGE', "a remote's priority is a whole number from -1000 to 1000");
  const declared = message['files'] ?? [];
  if (
    !Array.isArray(declared) ||
    declared.length > MAX_FILES ||
    !declared.every(
      (file: unknown) =>
        file !== null &&
        typeof file === 'object' &&
        typeof (file as DeclaredFile).name === 'string' &&
        NAME.test((file as DeclaredFile).name) &&
        Number.isSafeInteger((file as DeclaredFile).size) &&
        (file as DeclaredFile).size > 0 &&
        (file as DeclaredFile).size <= MAX_FILE_BYTES,
    )
  )
    throw new KilnError(
      'E_USAGE',
      `a request sends at most ${MAX_FILES} package files, each declared as {name, size} of at most ${MAX_FILE_BYTES} bytes`,
    );
  if (declared.length > 0 && verb !== 'install') throw new KilnError('E_USAGE', 'package files are sent to install');
  if ((verb === 'install' || verb === 'remove') && packages.length === 0 && declared.length === 0)
    throw new KilnError('E_USAGE', `${verb} needs package names`);
  return {
    verb,
    packages: packages as string[],
    remote: remote as string | undefined,
    url: url as string | undefined,
    keys: keys as string[],
    priority,
    mirrors: mirrors as string[],
    declared: (declared as DeclaredFile[]).map(({ name, size }) => ({ name, size })),
    yes: message['yes'] === true,
    dryRun: message['dryRun'] === true,
  };
}

function readActivity(db: SqliteModule.Database, id: number): Activity | undefined {
  return readRow(db, id)?.activity;
}

/** An activity and the request it was made from. */
function readRow(db: SqliteModule.Database, id: number): { activity: Activity; request: Submission } | undefined {
  const row = db.prepare('SELECT * FROM activities WHERE id = ?').get(id) as Record<string, unknown> | undefined;
  if (row === undefined) return undefined;
  const request = JSON.parse(String(row['request'])) as Submission;
  const activity: Activity = {
    id,
    uid: Number(row['uid']),
    user: String(row['user']),
    verb: request.verb,
    packages: request.packages,
    remote: request.remote ?? null,
    state: row['state'] as ActivityState,
    createdAt: String(row['created_at']),
    finishedAt: row['finished_at'] === null ? null : String(row['finished_at']),
    result: row['result'] === null ? null : (JSON.parse(String(row['result'])) as unknown),
    error: row['error'] === null ? null : String(row['error']),
    errorCode: row['error_code'] === null || row['error_code'] === undefined ? null : String(row['error_code']),
  };
  return { activity, request };
}

/** Activities a crash left running: completed when the prefix recorded their transaction, failed otherwise. */
async function recover(db: SqliteModule.Database, options: DaemonOptions): Promise<void> {
  const stale = db.prepare("SELECT id FROM activities WHERE state = 'running'").all() as { id: number }[];
  if (stale.length === 0) return;
  // Opening the prefix recovers an interrupted transaction (rolled back or completed) first.
  const prefix = await openPrefix(options.prefix, { reporter: () => undefined });
  try {
    const history = prefix.history(1000);
    for (const { id } of stale) {
      const done = history.find((entry) => entry.command === activityCommand(id));
      db.prepare('UPDATE activities SET state = ?, finished_at = ?, error = ?, result = ? WHERE id = ?').run(
        done === undefined ? 'failed' : 'completed',
        new Date().toISOString(),
        done === undefined ? 'kilnd stopped during it; the prefix was recovered and nothing of it was committed' : null,
        done === undefined ? null : JSON.stringify({ transaction: done.id, summary: done.summary }),
        id,
      );
      options.log(
        `kilnd: activity ${id} was interrupted: ${done === undefined ? 'failed' : `completed (transaction ${done.id})`}`,
      );
    }
  } finally {
    prefix.close();
  }
}

/** What the prefix's history records as the command of an activity's transaction. */
export function activityCommand(id: number): string {
  return `kilnd activity ${id}`;
}

async function runActivity(
  db: SqliteModule.Database,
  id: number,
  live: Map<number, Live>,
  options: DaemonOptions,
): Promise<void> {
  const { activity, request: submission } = readRow(db, id)!;
  const watching = live.get(id) ?? { listeners: new Set<Socket>(), owner: undefined };
  live.set(id, watching);
  const emit = (message: object) => {
    for (const socket of watching.listeners) send(socket, message);
  };
  const cancel = new AbortController();
  watching.cancel = cancel;
  db.prepare("UPDATE activities SET state = 'running' WHERE id = ?").run(id);
  options.log(`kilnd: activity ${id} running`);
  let state: ActivityState = 'completed';
  let result: unknown = null;
  let error: string | null = null;
  let errorCode: string | null = null;
  let prefix: Prefix | undefined;
  try {
    const who = await callerOf(activity.uid, activity.uid, options.accounts ?? '/');
    prefix = await openPrefix(options.prefix, {
      reporter: (event: PrefixEvent) => emit({ type: 'event', event }),
    });
    const change = {
      command: activityCommand(id),
      dryRun: submission.dryRun,
      signal: cancel.signal,
      confirm: async (plan: PlannedChange) => {
        // The plan, checked again package by package with the remote each comes from.
        const policy = await readPolicy(options.policy);
        const denied = checkPlan(policy, who, submission, plan);
        if (denied !== undefined) {
          options.log(`kilnd: activity ${id} denied at its plan: ${denied}`);
          throw new KilnError('E_DENIED', `kilnd refused: ${denied}`, {
            hint: 'kiln policy check USER VERB [NAME] --remote REMOTE explains it; the administrator changes the policy',
          });
        }
        emit({ type: 'plan', plan, needsAnswer: !submission.yes && !submission.dryRun });
        if (submission.yes || submission.dryRun) return true;
        if (watching.owner === undefined) return false;
        return new Promise<boolean>((resolve) => {
          const timer = setTimeout(() => resolve(false), CONFIRM_MS);
          watching.answer = (yes) => {
            clearTimeout(timer);
            watching.answer = undefined;
            resolve(yes);
          };
        });
      },
    };
    let changed: ChangeResult | undefined;
    switch (submission.verb) {
      case 'install':
        // Files only as kilnd received and checked them, never unsigned.
        changed = await prefix.install(submission.packages.map(parseRequest), {
          ...change,
          files: submission.files ?? [],
          allowUnsigned: false,
        });
        break;
      case 'remove':
        changed = await prefix.remove(submission.packages, change);
        break;
      case 'upgrade':
        changed = await prefix.upgrade(submission.packages.length === 0 ? 'all' : submission.packages, change);
        break;
      case 'sync':
        // Each remote with how it went, as a direct `kiln sync` reports it.
        result = await prefix.syncEach(submission.remote === undefined ? [] : [submission.remote]);
        break;
      case 'add-remote':
        await prefix.addRemote(
          submission.remote!,
          submission.url!,
          submission.keys,
          submission.priority ?? 0,
          submission.mirrors ?? [],
        );
        result = { added: submission.remote, url: redactUrl(submission.url!), priority: submission.priority ?? 0 };
        break;
    }
    if (changed !== undefined) {
      result = changed;
      if (!changed.applied && !submission.dryRun) {
        state = 'cancelled';
        error = 'the plan was not confirmed';
      }
    }
  } catch (caught) {
    state = cancel.signal.aborted ? 'cancelled' : 'failed';
    error = cancel.signal.aborted ? `cancelled by ${watching.cancelledBy ?? 'root'}` : (caught as Error).message;
    errorCode = isKilnError(caught) ? caught.code : 'E_BUG';
  } finally {
    prefix?.close();
    for (const file of submission.files ?? []) rmSync(file, { force: true });
  }
  db.prepare(
    'UPDATE activities SET state = ?, finished_at = ?, result = ?, error = ?, error_code = ? WHERE id = ?',
  ).run(state, new Date().toISOString(), result === null ? null : JSON.stringify(result), error, errorCode, id);
  options.log(`kilnd: activity ${id} ${state}${error === null ? '' : `: ${error.split('\n')[0]}`}`);
  emit({ type: 'done', activity: readActivity(db, id) });
  for (const socket of watching.listeners) socket.end();
  live.delete(id);
}

/** The first package the plan places from a remote the policy does not allow, in words; undefined when all are. */
function checkPlan(policy: Policy, who: Caller, submission: Submission, plan: PlannedChange): string | undefined {
  if (submission.verb !== 'install' && submission.verb !== 'upgrade') return undefined;
  const named = new Set(submission.packages.map((text) => parseRequest(text).name));
  for (const action of plan.actions) {
    if (action.kind === 'remove' || action.remote === null) continue;
    const signers = submission.signedBy?.[action.name];
    const asked = signers !== undefined || named.has(action.name);
    // A package from a file sent to kilnd counts as from the remotes whose keys signed it: one must be allowed.
    const remotes = signers !== undefined && action.remote === 'file' ? signers : [action.remote];
    const decisions = remotes.map((remote) =>
      decide(policy, who, { verb: submission.verb, ...(asked ? { packages: [action.name] } : {}), remote }),
    );
    if (decisions.length === 0) return `${who.user} may not install ${action.name} from a file no remote's key signed`;
    if (!decisions.some((decision) => decision.allowed)) return decisions[0]!.reason;
  }
  return undefined;
}

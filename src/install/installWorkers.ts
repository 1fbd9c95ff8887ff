/**
 * The threads a transaction's heavy work runs on: extracting the packages
 * (which checks each against its pin as it reads it). One worker per core, at most the prefix's `jobs`; each
 * takes the next task when it is done, so the caller hands out the biggest
 * packages first. Small transactions (and the crash tests, which count every
 * step) run the same tasks in the calling thread.
 *
 * `close()` stops every worker; after it resolves nothing writes into the
 * prefix any more, so a failed transaction closes the pool before it rolls
 * back.
 */
import { availableParallelism } from 'node:os';
import type { MessagePort } from 'node:worker_threads';
import { Worker } from 'node:worker_threads';
import type { ErrorCode } from '../errors/index.js';
import { KilnError } from '../errors/index.js';
import type { PackageFile } from '../format/openPackage.js';
import { openPackage } from '../format/openPackage.js';
import { verifyPackageSignature } from '../format/packageSignature.js';
import { parsePublicKey } from '../sign/parsePublicKey.js';
import { kilnPath } from '../util/kilnRoot.js';
import type { ExtractJob, ExtractResult } from './extractPackage.js';
import { extractPackage } from './extractPackage.js';
import { fillStore, isStored, linkPackage } from './unpackedStore.js';

export type WorkerTask =
  /** Open a package file, checking its signature with `keys`. */
  | {
      kind: 'open';
      path: string;
      keys: string[];
      keySource: string;
      /** A package file installed with --allow-unsigned: its signature, if any, is not checked. */
      skipSignature?: boolean;
    }
  | { kind: 'extract'; job: ExtractJob }
  /** Place a package from the unpacked store entry `entry`, unpacking it there first (with its metadata bytes) when it is not there; `owner` is this process's claim on the store. */
  | { kind: 'link'; job: ExtractJob; entry: string; metadataBytes: Uint8Array; owner: string };

export type TaskResult = { kind: 'open'; pkg: PackageFile } | { kind: 'extract'; result: ExtractResult };

type SerializedError =
  | { kiln: true; code: ErrorCode; message: string; hint: string | undefined }
  | {
      kiln: false;
      message: string;
      stack: string | undefined;
      errno: string | undefined;
      syscall: string | undefined;
      path: string | undefined;
    };

export type Reply = { id: number; ok: true; result: TaskResult } | { id: number; ok: false; error: SerializedError };

/** Run one task here; what a worker does with each message. */
export async function runTask(task: WorkerTask, written?: (path: string) => void): Promise<TaskResult> {
  if (task.kind === 'extract') return { kind: 'extract', result: extractPackage(task.job, written) };
  if (task.kind === 'link') {
    if (!isStored(task.entry)) fillStore(task.job, task.entry, task.metadataBytes, task.owner);
    return { kind: 'extract', result: linkPackage(task.job, task.entry, written) };
  }
  const pkg = await openPackage(task.path);
  // The index pins the file's sha256; a package's own signature is checked too when it has one.
  if (pkg.signatureText !== undefined && task.skipSignature !== true) {
    const keys = task.keys.map((key) => parsePublicKey(key, task.keySource));
    verifyPackageSignature(task.path, pkg.metadata, pkg.metadataBytes, pkg.signatureText, keys);
  }
  return { kind: 'open', pkg };
}

/** A worker thread's loop: answers each task with its result or its error, as plain data. */
export function serveInstallTasks(port: MessagePort): void {
  port.on('message', ({ id, task }: { id: number; task: WorkerTask }) => {
    runTask(task).then(
      (result) => port.postMessage({ id, ok: true, result } satisfies Reply),
      (error: unknown) => port.postMessage({ id, ok: false, error: serialize(error) } satisfies Reply),
    );
  });
}

export function serialize(error: unknown): SerializedError {
  if (error instanceof KilnError) return { kiln: true, code: error.code, message: error.message, hint: error.hint };
  const err = error as NodeJS.ErrnoException;
  return {
    kiln: false,
    message: err.message ?? String(error),
    stack: err.stack,
    errno: err.code,
    syscall: err.syscall,
    path: err.path,
  };
}

function revive(error: SerializedError): Error {
  if (error.kiln) return new KilnError(error.code, error.message, { hint: error.hint });
  const revived = new Error(error.message) as NodeJS.ErrnoException;
  if (error.stack !== undefined) revived.stack = error.stack;
  if (error.errno !== undefined) revived.code = error.errno;
  if (error.syscall !== undefined) revived.syscall = error.syscall;
  if (error.path !== undefined) revived.path = error.path;
  return revived;
}

interface Pending {
  id: number;
  task: WorkerTask;
  resolve: (result: TaskResult) => void;
  reject: (error: Error) => void;
}

export class InstallWorkers {
  private readonly idle: Worker[] = [];
  private readonly running = new Map<Worker, Pending>();
  private readonly queue: Pending[] = [];
  private nextId = 0;
  private closed = false;
  private failed = false;

  /** `threads` of 1 or less runs every task in the calling thread. */
  constructor(
    threads: number,
    private readonly written?: (path: string) => void,
  ) {
    if (written !== undefined) return;
    for (let i = 0; i < threads && threads > 1; i++) {
      // A small young generation: a worker's objects are short-lived and few (its buffers are used again); measured
      // 202 -> 195 MiB peak installing 300 packages on two threads.
      const worker = new Worker(kilnPath('dist', 'src', 'install', 'installWorker.cjs'), {
        resourceLimits: { maxYoungGenerationSizeMb: 4 },
      });
      worker.on('message', (reply: Reply) => this.settle(worker, reply));
      worker.on('error', (error) => this.fail(worker, error));
      this.idle.push(worker);
    }
  }

  /** How many threads a transaction of `packages` packages and `bytes` compressed bytes gets. */
  static threadsFor(packages: number, bytes: number, jobs: number, forced: number | undefined): number {
    if (forced !== undefined) return forced;
    // Below this, starting threads costs more than it saves.
    if (packages < 2 || bytes < 4 << 20) return 1;
    return Math.max(1, Math.min(jobs, availableParallelism(), packages));
  }

  get threads(): number {
    return this.idle.length + this.running.size;
  }

  run(task: WorkerTask): Promise<TaskResult> {
    if (this.closed) return Promise.reject(new Error('Assertion failed: task given to a closed worker pool'));
    if (this.threads === 0) {
      // In this thread the tasks run one after the other as they are given; after a failure, no further one starts.
      if (this.failed)
        return Promise.reject(
          new KilnError('E_ABORTED', 'cannot go on: the transaction stopped', { hint: 'nothing was changed' }),
        );
      return runTask(task, this.written).catch((error: unknown) => {
        this.failed = true;
        throw error;
      });
    }
    return new Promise<TaskResult>((resolve, reject) => {
      this.queue.push({ id: this.nextId++, task, resolve, reject });
      this.dispatch();
    });
  }

  private dispatch(): void {
    while (this.idle.length > 0 && this.queue.length > 0) {
      const worker = this.idle.pop()!;
      const pending = this.queue.shift()!;
      this.running.set(worker, pending);
      worker.postMessage({ id: pending.id, task: pending.task });
    }
  }

  private settle(worker: Worker, reply: Reply): void {
    const pending = this.running.get(worker);
    this.running.delete(worker);
    if (!this.closed) this.idle.push(worker);
    if (pending !== undefined && pending.id === reply.id) {
      if (reply.ok) pending.resolve(reply.result);
      else pending.reject(revive(reply.error));
    }
    if (!this.closed) this.dispatch();
  }

  private fail(worker: Worker, error: Error): void {
    const pending = this.running.get(worker);
    this.running.delete(worker);
    pending?.reject(error);
  }

  /** Stop every worker (tasks not started are refused); resolves when none runs any more. */
  async close(): Promise<void> {
    this.closed = true;
    for (const pending of this.queue.splice(0))
      pending.reject(
        new KilnError('E_ABORTED', 'cannot go on: the transaction stopped', { hint: 'nothing was changed' }),
      );
    const workers = [...this.idle, ...this.running.keys()];
    this.idle.length = 0;
    await Promise.all(workers.map((worker) => worker.terminate()));
    for (const pending of this.running.values())
      pending.reject(
        new KilnError('E_ABORTED', 'cannot go on: the transaction stopped', { hint: 'nothing was changed' }),
      );
    this.running.clear();
  }
}

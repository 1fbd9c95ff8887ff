/** The entry of an install worker thread (installWorkers.ts): answers each task with its result or its error, as plain data. */
import { parentPort } from 'node:worker_threads';
import type { Reply, WorkerTask } from './installWorkers.js';
import { runTask, serialize } from './installWorkers.js';

const port = parentPort!;
port.on('message', ({ id, task }: { id: number; task: WorkerTask }) => {
  runTask(task).then(
    (result) => port.postMessage({ id, ok: true, result } satisfies Reply),
    (error: unknown) => port.postMessage({ id, ok: false, error: serialize(error) } satisfies Reply),
  );
});

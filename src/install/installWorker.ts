/** An install worker thread's entry when the command runs from its modules (installWorker.cts decides). */
import { parentPort } from 'node:worker_threads';
import { serveInstallTasks } from './installWorkers.js';

serveInstallTasks(parentPort!);

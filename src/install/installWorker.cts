/**
 * The entry of an install worker thread (installWorkers.ts), in CommonJS as
 * the command's own (cli/kiln.cts): it runs the bundle the command runs, with
 * its code cache, or, when the command runs from its modules, installWorker.js.
 * Loading the modules cost each thread about 0.1 s of CPU.
 */
import { parentPort } from 'node:worker_threads';
import { bundleToRun } from '../cli/kiln.cjs';

const bundle = bundleToRun();
if (bundle === undefined) void import('./installWorker.js');
else void bundle.serveInstallTasks(parentPort!);

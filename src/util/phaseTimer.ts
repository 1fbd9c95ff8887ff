/**
 * Where a command's time goes, for `KILN_TIMINGS=1`: each `mark(label)` ends
 * the phase that began at the previous mark (or at process start), and the
 * phases are printed to stderr when the process exits, each with the
 * process's resident memory at its end (all threads) and this thread's heap
 * and external memory (buffers). Costs nothing when the variable is unset.
 */
import { isMainThread } from 'node:worker_threads';

const enabled = process.env['KILN_TIMINGS'] === '1' && isMainThread;
const phases: { label: string; ms: number; memory: string }[] = [];
const MIB = 1024 * 1024;
let last = 0;

if (enabled) {
  process.on('exit', () => {
    if (phases.length === 0) return;
    const total = phases.reduce((sum, phase) => sum + phase.ms, 0);
    const lines = phases.map((phase) => `${phase.ms.toFixed(0).padStart(7)} ms  ${phase.memory}  ${phase.label}`);
    process.stderr.write(`timings:\n${lines.join('\n')}\n${total.toFixed(0).padStart(7)} ms  total since start\n`);
  });
}

export function mark(label: string): void {
  if (!enabled) return;
  const now = performance.now();
  const { rss, heapUsed, external } = process.memoryUsage();
  const memory = `rss ${(rss / MIB).toFixed(0).padStart(4)} heap ${(heapUsed / MIB).toFixed(0).padStart(4)} ext ${(external / MIB).toFixed(0).padStart(4)} MiB`;
  phases.push({ label, ms: now - last, memory });
  last = now;
}

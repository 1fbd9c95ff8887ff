import { FarmQueue } from '../../farm/farmQueue.js';
import { WORKER_ALIVE_MS, listWorkers } from '../../farm/farmWorkers.js';
import { noMorePositionals } from '../args.js';
import type { Command } from '../command.js';
import { withCatalog } from '../farmCatalog.js';
import { table } from '../render.js';

const command: Command = {
  words: ['farm', 'status'],
  summary: "the build farm's steps by state, and its workers",
  usage: 'kiln farm status [--catalog URL|FILE] [--json]\nExample: kiln farm status --catalog /srv/farm/catalog.sqlite',
  options: { catalog: { type: 'string' } },
  async run(invocation) {
    noMorePositionals(invocation, command, 0);
    const now = invocation.settings.now().getTime();
    const { counts, workers } = await withCatalog(invocation, async (db) => ({
      counts: await new FarmQueue(db).counts(),
      workers: await listWorkers(db),
    }));
    const stateOf = (worker: (typeof workers)[number]): string =>
      worker.revokedAt !== null
        ? 'revoked'
        : worker.lastSeen === null
          ? 'never seen'
          : now - worker.lastSeen <= WORKER_ALIVE_MS
            ? 'alive'
            : 'gone';
    const lines = [
      `steps: ${Object.entries(counts)
        .map(([state, n]) => `${n} ${state}`)
        .join(', ')}`,
    ];
    if (workers.length === 0) lines.push('no workers (kiln farm worker add NAME)');
    else
      lines.push(
        table([
          ['WORKER', 'STATE', 'TARGET', 'JOBS', 'LOAD', 'LAST SEEN'],
          ...workers.map((worker) => [
            worker.name,
            stateOf(worker),
            worker.arch === undefined ? '-' : `${worker.arch}/${worker.libc} ${worker.cpuLevel}`,
            worker.jobs === undefined ? '-' : String(worker.jobs),
            worker.load === undefined ? '-' : worker.load.toFixed(2),
            worker.lastSeen === null ? '-' : new Date(worker.lastSeen).toISOString(),
          ]),
        ]),
      );
    return {
      data: { steps: counts, workers: workers.map((worker) => ({ ...worker, state: stateOf(worker) })) },
      text: lines.join('\n'),
    };
  },
};

export default command;

import { addWorker } from '../../farm/farmWorkers.js';
import { noMorePositionals, positional } from '../args.js';
import type { Command } from '../command.js';
import { withCatalog } from '../farmCatalog.js';

const command: Command = {
  words: ['farm', 'worker', 'add'],
  summary: 'add a build farm worker and print its token (shown once)',
  usage:
    'kiln farm worker add NAME [--catalog URL|FILE] [--json]\nExample: kiln farm worker add builder-1 --catalog postgresql://farm@db/kiln',
  options: { catalog: { type: 'string' } },
  async run(invocation) {
    const name = positional(invocation, command, 0, 'NAME');
    noMorePositionals(invocation, command, 1);
    const token = await withCatalog(invocation, (db) => addWorker(db, name, invocation.settings.now().getTime()));
    return {
      data: { worker: name, token },
      text: token,
      notes: [`worker ${name} added; its token is shown this once (the catalog keeps only its sha256)`],
    };
  },
};

export default command;

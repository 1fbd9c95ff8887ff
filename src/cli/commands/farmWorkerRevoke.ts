import { revokeWorker } from '../../farm/farmWorkers.js';
import { noMorePositionals, positional } from '../args.js';
import type { Command } from '../command.js';
import { withCatalog } from '../farmCatalog.js';

const command: Command = {
  words: ['farm', 'worker', 'revoke'],
  summary: "revoke a build farm worker's token",
  usage: 'kiln farm worker revoke NAME [--catalog URL|FILE]\nExample: kiln farm worker revoke builder-1',
  options: { catalog: { type: 'string' } },
  async run(invocation) {
    const name = positional(invocation, command, 0, 'NAME');
    noMorePositionals(invocation, command, 1);
    await withCatalog(invocation, (db) => revokeWorker(db, name, invocation.settings.now().getTime()));
    return { data: { worker: name, revoked: true }, text: `worker ${name}: token revoked` };
  },
};

export default command;

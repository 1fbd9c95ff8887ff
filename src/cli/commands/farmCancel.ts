import { FarmQueue } from '../../farm/farmQueue.js';
import { noMorePositionals, positional, usageError } from '../args.js';
import type { Command } from '../command.js';
import { withCatalog } from '../farmCatalog.js';

const command: Command = {
  words: ['farm', 'cancel'],
  summary: 'cancel a build farm build: its steps that have not started, and its running ones at their next heartbeat',
  usage: [
    'kiln farm cancel BUILD [--catalog URL|FILE] [--json]',
    "Waiting and ready steps of BUILD are cancelled at once; a running step's worker is told in the answer to its next",
    'heartbeat, stops the build and publishes nothing.',
    'Example: kiln farm cancel 12 --catalog postgresql://farm@db/kiln',
  ].join('\n'),
  options: { catalog: { type: 'string' } },
  async run(invocation) {
    const text = positional(invocation, command, 0, 'BUILD');
    noMorePositionals(invocation, command, 1);
    if (!/^\d{1,15}$/.test(text)) throw usageError(command, `BUILD is a build's number, not "${text}"`);
    const result = await withCatalog(invocation, (db) =>
      new FarmQueue(db).cancelBuild(Number(text), invocation.settings.now().getTime()),
    );
    return {
      data: { build: Number(text), ...result },
      text: `build ${text}: ${result.cancelled} step(s) cancelled, ${result.stopping} running step(s) told to stop`,
    };
  },
};

export default command;

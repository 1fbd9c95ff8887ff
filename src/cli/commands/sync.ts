import type { Command } from '../command.js';
import { withPrefix } from '../prefixSession.js';
import { count, table, time } from '../render.js';

const command: Command = {
  words: ['sync'],
  summary: 'download and verify every remote\'s index',
  usage: [
    'kiln sync [REMOTE...]',
    '',
    'Refuses an index that is not signed by a trusted key of its remote, one older than the last',
    'accepted (rollback), and one that has expired (freeze); the previous index stays in use.',
    'Example: kiln sync main',
  ].join('\n'),
  options: {},
  async run(invocation) {
    return withPrefix(invocation, async (prefix) => {
      const results = await prefix.sync(invocation.positionals);
      const rows = results.map((r) => [r.remote, r.status, `serial ${r.previousSerial === null || r.previousSerial === r.serial ? r.serial : `${r.previousSerial} -> ${r.serial}`}`, count(r.packages, 'package'), `expires ${time(r.expires)}`]);
      return { data: results, text: table(rows) };
    });
  },
};

export default command;

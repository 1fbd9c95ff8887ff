import { integerOption, noMorePositionals } from '../args.js';
import type { Command } from '../command.js';
import { withPrefix } from '../prefixSession.js';
import { table, time } from '../render.js';

const command: Command = {
  words: ['history'],
  summary: 'list the transactions committed in the prefix',
  usage: 'kiln history [--limit N] [--json]\nExample: kiln history --limit 5',
  options: { limit: { type: 'string' } },
  async run(invocation) {
    noMorePositionals(invocation, command, 0);
    const limit = integerOption(invocation, command, 'limit', 1, 100000) ?? 20;
    return withPrefix(invocation, async (prefix) => {
      const rows = prefix.history(limit);
      if (rows.length === 0) return { data: rows, text: '', notes: ['no transactions yet'] };
      return {
        data: rows,
        text: table([
          ['ID', 'DATE', 'CHANGES', 'COMMAND'],
          ...rows.map((row) => [row.id, time(row.finishedAt), row.summary, row.command]),
        ]),
      };
    });
  },
};

export default command;

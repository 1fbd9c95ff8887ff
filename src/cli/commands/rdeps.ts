import { noMorePositionals, positional } from '../args.js';
import type { Command } from '../command.js';
import { withPrefix } from '../prefixSession.js';
import { table } from '../render.js';

const command: Command = {
  words: ['rdeps'],
  summary: 'show which installed packages depend on a package',
  usage: 'kiln rdeps NAME [--json]\nExample: kiln rdeps zlib',
  options: {},
  async run(invocation) {
    const name = positional(invocation, command, 0, 'NAME');
    noMorePositionals(invocation, command, 1);
    return withPrefix(invocation, async (prefix) => {
      const rows = prefix.rdeps(name);
      const text =
        rows.length === 0
          ? `no installed package depends on ${name}`
          : table(rows.map((row) => [row.name, row.version, `needs ${name} ${row.range === '' ? '*' : row.range}`]));
      return { data: rows, text };
    });
  },
};

export default command;

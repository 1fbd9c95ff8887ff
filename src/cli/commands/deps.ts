import { noMorePositionals, positional } from '../args.js';
import type { Command } from '../command.js';
import { withPrefix } from '../prefixSession.js';
import { table } from '../render.js';

const command: Command = {
  words: ['deps'],
  summary: 'show what a package depends on',
  usage:
    "kiln deps NAME [--json]\nFor an installed package, its recorded dependencies; otherwise the newest available one's.\nExample: kiln deps nginx",
  options: {},
  async run(invocation) {
    const name = positional(invocation, command, 0, 'NAME');
    noMorePositionals(invocation, command, 1);
    return withPrefix(invocation, async (prefix) => {
      const rows = await prefix.deps(name);
      const text =
        rows.length === 0
          ? `${name} depends on nothing`
          : table(
              rows.map((row) => [
                row.name,
                row.range === '' ? '*' : row.range,
                row.installed === null ? 'not installed' : `installed ${row.installed}`,
              ]),
            );
      return { data: rows, text };
    });
  },
};

export default command;

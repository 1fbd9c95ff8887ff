import { noMorePositionals, positional } from '../args.js';
import type { Command } from '../command.js';
import { withPrefix } from '../prefixSession.js';

const command: Command = {
  words: ['files'],
  summary: 'list the files an installed package owns',
  usage:
    'kiln files NAME [--json]\nPaths are relative to the prefix; directories end in "/".\nExample: kiln files zlib',
  options: {},
  async run(invocation) {
    const name = positional(invocation, command, 0, 'NAME');
    noMorePositionals(invocation, command, 1);
    return withPrefix(invocation, async (prefix) => {
      const files = prefix.files(name);
      const text = files
        .map(
          (file) =>
            `${file.path}${file.type === 'dir' ? '/' : ''}${file.type === 'symlink' ? ` -> ${file.target}` : ''}${file.config ? ' (config)' : ''}`,
        )
        .join('\n');
      return { data: files, text };
    });
  },
};

export default command;

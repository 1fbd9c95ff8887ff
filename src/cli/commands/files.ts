import { flag, noMorePositionals, positional } from '../args.js';
import type { Command } from '../command.js';
import { withPrefix } from '../prefixSession.js';

const command: Command = {
  words: ['files'],
  summary: 'list the files an installed package owns, or an available one installs',
  usage: [
    'kiln files NAME [--available] [--json]',
    'Paths are relative to the prefix; directories end in "/".',
    "--available: the files of the newest package the synced remotes offer, from the repository's file list",
    '(as pacman -Fl), fetched on first use and checked against the signed index.',
    'Example: kiln files zlib',
  ].join('\n'),
  options: { available: { type: 'boolean' } },
  async run(invocation) {
    const name = positional(invocation, command, 0, 'NAME');
    noMorePositionals(invocation, command, 1);
    return withPrefix(invocation, async (prefix) => {
      if (flag(invocation, 'available')) {
        const found = await prefix.availableFiles(name);
        const text = found.files
          .map(
            ([path, type, target]) => `${path}${type === 'dir' ? '/' : ''}${type === 'symlink' ? ` -> ${target}` : ''}`,
          )
          .join('\n');
        return { data: found, text };
      }
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

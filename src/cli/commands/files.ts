import { flag, noMorePositionals, positional } from '../args.js';
import type { Command } from '../command.js';
import { withPrefix } from '../prefixSession.js';
import { withInstalled } from '../querySession.js';
import type { InstalledFile } from '../../db/types.js';

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
    const text = (files: InstalledFile[]): string =>
      files
        .map(
          (file) =>
            `${file.path}${file.type === 'dir' ? '/' : ''}${file.type === 'symlink' ? ` -> ${file.target}` : ''}${file.config ? ' (config)' : ''}`,
        )
        .join('\n');
    if (!flag(invocation, 'available')) {
      // An installed package's files come from the database alone, as list and owns do (querySession.ts).
      const files = await withInstalled(invocation, (source) =>
        source.store.getInstalled(name) === undefined ? undefined : source.store.filesOf(name),
      );
      if (files !== undefined) return { data: files, text: text(files) };
    }
    return withPrefix(invocation, async (prefix) => {
      if (flag(invocation, 'available')) {
        const found = await prefix.availableFiles(name);
        const listing = found.files
          .map(
            ([path, type, target]) => `${path}${type === 'dir' ? '/' : ''}${type === 'symlink' ? ` -> ${target}` : ''}`,
          )
          .join('\n');
        return { data: found, text: listing };
      }
      // Not installed: the full open says why (with a hint), as it does for every command.
      const files = prefix.files(name);
      return { data: files, text: text(files) };
    });
  },
};

export default command;

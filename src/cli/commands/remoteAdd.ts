import { readFile } from 'node:fs/promises';
import { isErrno } from '../../errors/index.js';
import { integerOption, listOption, noMorePositionals, positional, usageError } from '../args.js';
import type { Command } from '../command.js';
import { withPrefix } from '../prefixSession.js';

const command: Command = {
  words: ['remote', 'add'],
  summary: 'add a remote repository with its trusted keys',
  usage: [
    'kiln remote add NAME URL --key PUBKEY... [--priority N]',
    '',
    'URL: file:///path, /path, http://… or https://…. PUBKEY: a public key file or its base64 line;',
    'give --key twice while a repository rotates keys. Higher --priority wins (default 0).',
    'Example: kiln remote add main https://pkg.example.org/stable --key stable.pub --priority 10',
  ].join('\n'),
  options: { key: { type: 'string', multiple: true }, priority: { type: 'string' } },
  async run(invocation) {
    const name = positional(invocation, command, 0, 'NAME');
    const url = positional(invocation, command, 1, 'URL');
    noMorePositionals(invocation, command, 2);
    const keyArgs = listOption(invocation, 'key');
    if (keyArgs.length === 0) throw usageError(command, 'missing --key PUBKEY');
    const keys = await Promise.all(keyArgs.map(async (arg) => {
      try {
        return await readFile(arg, 'utf8');
      } catch (error) {
        if (isErrno(error, 'ENOENT') || isErrno(error, 'ENAMETOOLONG')) return arg;
        throw error;
      }
    }));
    const priorityText = invocation.values['priority'];
    const priority = typeof priorityText === 'string' && priorityText.startsWith('-') ? -(integerOption({ ...invocation, values: { priority: priorityText.slice(1) } }, command, 'priority', 0, 1000) ?? 0) : (integerOption(invocation, command, 'priority', 0, 1000) ?? 0);
    return withPrefix(invocation, async (prefix) => {
      const remote = await prefix.addRemote(name, url, keys, priority);
      return { data: remote, text: `added remote ${name} (${url}), priority ${priority}\nnext: kiln sync` };
    });
  },
};

export default command;

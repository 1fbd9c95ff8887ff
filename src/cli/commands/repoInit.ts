import { initRepository } from '../../repo/index.js';
import { integerOption, noMorePositionals, positional, requiredOption, stringOption } from '../args.js';
import type { Command } from '../command.js';

const command: Command = {
  words: ['repo', 'init'],
  summary: 'create a repository (binhost) signed by a key, and publish its empty first index',
  usage: [
    'kiln repo init DIR --key SECRETKEY [--name NAME] [--expire-days N]',
    '',
    'DIR must be new or empty. The key\'s public half goes to DIR/keys/; the path of the secret',
    'key is kept in DIR/.kiln/config.toml (private: never publish DIR/.kiln).',
    'Example: kiln repo init /srv/binhost --key ~/.kiln-keys/kiln.key --name main',
  ].join('\n'),
  options: { key: { type: 'string', short: 'k' }, name: { type: 'string' }, 'expire-days': { type: 'string' } },
  async run(invocation) {
    const dir = positional(invocation, command, 0, 'DIR');
    noMorePositionals(invocation, command, 1);
    const index = await initRepository(dir, {
      keyPath: requiredOption(invocation, command, 'key'),
      name: stringOption(invocation, 'name'),
      expireDays: integerOption(invocation, command, 'expire-days', 1, 3650),
      password: invocation.settings.password,
      now: invocation.settings.now,
    });
    return {
      data: { path: dir, name: index.name, serial: index.serial, keys: index.keys, expires: index.expires },
      text: `created repository ${index.name} in ${dir}\n  signed by key ${index.keys.join(', ')}; index serial ${index.serial}, expires ${index.expires}`,
    };
  },
};

export default command;

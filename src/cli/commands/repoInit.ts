import { initRepository, repositoryPaths } from '../../repo/index.js';
import { integerOption, noMorePositionals, positional, requiredOption, stringOption } from '../args.js';
import type { Command } from '../command.js';

const command: Command = {
  words: ['repo', 'init'],
  summary: 'create a repository (binhost) signed by a key, and publish its empty first index',
  usage: [
    'kiln repo init DIR --key SECRETKEY [--name NAME] [--expire-days N]',
    '',
    'DIR must be new or empty. DIR/public/ is the published tree, the only directory to serve;',
    "clients add its URL. The key's public half goes to DIR/public/keys/; the path of the secret key",
    'is kept in DIR/.kiln/config.toml, the maintainer\'s private state beside it. Every "kiln repo"',
    'command takes DIR.',
    'Example: kiln repo init /srv/binhost --key ~/.kiln-keys/kiln.key --name main   (serve /srv/binhost/public)',
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
    const paths = repositoryPaths(dir);
    return {
      data: {
        path: dir,
        public: paths.public,
        name: index.name,
        serial: index.serial,
        keys: index.keys,
        expires: index.expires,
      },
      text: [
        `created repository ${index.name} in ${dir}`,
        `  signed by key ${index.keys.join(', ')}; index serial ${index.serial}, expires ${index.expires}`,
        `  serve ${paths.public} (only that directory); clients add its URL with its key from ${paths.keys}`,
      ].join('\n'),
    };
  },
};

export default command;

import type { CommitOptions } from '../../repo/index.js';
import { commitRepository } from '../../repo/index.js';
import { flag, integerOption, noMorePositionals, positional, stringOption } from '../args.js';
import type { Command, Invocation } from '../command.js';
import { count, time } from '../render.js';
import { repositoryLocking } from '../lockWaiting.js';

/** What a commit and a revert take from the command line: the message, the validity, the key's password, the lock. */
export function commitOptions(invocation: Invocation, of: Pick<Command, 'usage' | 'words'>): CommitOptions {
  return {
    message: stringOption(invocation, 'message'),
    expireDays: integerOption(invocation, of, 'expire-days', 1, 3650),
    password: invocation.settings.password,
    now: invocation.settings.now,
    ...repositoryLocking(invocation),
  };
}

const command: Command = {
  words: ['repo', 'commit'],
  summary: 'publish the staged changes: write the new index (serial + 1) and sign it',
  usage: [
    'kiln repo commit DIR [-m MESSAGE] [--allow-empty] [--expire-days N]',
    '',
    'Publishing is atomic: a reader sees the old index or the new one, never a mix.',
    '--allow-empty republishes with nothing staged, to renew the expiry time.',
    'Example: kiln repo commit /srv/binhost -m "nginx 1.24.0 with +uwsgi"',
  ].join('\n'),
  options: {
    message: { type: 'string', short: 'm' },
    'allow-empty': { type: 'boolean' },
    'expire-days': { type: 'string' },
  },
  async run(invocation) {
    const dir = positional(invocation, command, 0, 'DIR');
    noMorePositionals(invocation, command, 1);
    const result = await commitRepository(dir, {
      ...commitOptions(invocation, command),
      allowEmpty: flag(invocation, 'allow-empty'),
    });
    const { index } = result;
    return {
      data: {
        serial: index.serial,
        created: index.created,
        expires: index.expires,
        packages: index.packages.length,
        added: result.added.length,
        retired: result.retired.length,
      },
      text: `published ${index.name} serial ${index.serial}: ${result.added.length} added, ${result.retired.length} retired, ${count(index.packages.length, 'package')}; expires ${time(index.expires)}`,
      notes: (result.notes ?? []).map((note) => `note: ${note}`),
    };
  },
};

export default command;

import { readFile } from 'node:fs/promises';
import { rotateKeys } from '../../repo/rotateKeys.js';
import { integerOption, listOption, positional, stringOption, usageError } from '../args.js';
import type { Command, Invocation } from '../command.js';
import { repositoryLocking } from '../lockWaiting.js';

const ROTATE_OPTIONS = {
  add: { type: 'string', multiple: true },
  retire: { type: 'string', multiple: true },
  threshold: { type: 'string' },
  key: { type: 'string', multiple: true },
  'signing-key': { type: 'string' },
  'expire-days': { type: 'string' },
} as const;

/** `repo key add`, `retire` and `rotate`: one change of the key root, told three ways. */
export function keyRootCommand(
  words: string[],
  summary: string,
  usage: string,
  given: (invocation: Invocation, command: Command) => { add: string[]; retire: string[] },
): Command {
  const command: Command = {
    words,
    summary,
    usage,
    options: ROTATE_OPTIONS,
    async run(invocation) {
      const dir = positional(invocation, command, 0, 'DIR');
      const { add, retire } = given(invocation, command);
      const signWith = listOption(invocation, 'key');
      if (signWith.length === 0)
        throw usageError(
          command,
          "--key FILE: the secret keys that sign the change (the current keys' and the new ones')",
        );
      const addedKeys = await Promise.all(add.map((file) => readFile(file, 'utf8')));
      const result = await rotateKeys(dir, {
        add: addedKeys,
        retire,
        threshold: integerOption(invocation, command, 'threshold', 1, 64),
        signWith,
        signingKey: stringOption(invocation, 'signing-key'),
        expireDays: undefined,
        rootExpireDays: integerOption(invocation, command, 'expire-days', 1, 3650),
        password: invocation.settings.password,
        now: invocation.settings.now,
        ...repositoryLocking(invocation),
      });
      return {
        data: result,
        text: `key root ${result.version}: keys ${result.keys.join(', ')}, threshold ${result.threshold}; signed by ${result.signedBy.join(', ')}; published with serial ${result.serial}`,
        notes: ['clients follow the rotation at their next "kiln sync"'],
      };
    },
  };
  return command;
}

export default keyRootCommand(
  ['repo', 'key', 'rotate'],
  "change the repository's keys: a new key root signed by the keys before it",
  [
    'kiln repo key rotate DIR [--add PUBKEY]... [--retire KEYID]... [--threshold N] --key SECRET... [--signing-key SECRET]',
    '                     [--expire-days N]',
    '',
    'Publishes key root N+1 (keys added and retired, a threshold) signed with every --key that is in root N or N+1; it',
    "is refused unless root N's threshold of its keys and N+1's threshold of its own signed it. --signing-key names the",
    'key that signs indexes from now on (required when the one signing now is retired). A new index follows, signed',
    'by it; clients walk from the root they trust to the new one at their next sync. Roots expire (365 days).',
    'Example: kiln repo key rotate /srv/binhost --add new.pub --retire 6B7BC42F2B3A01E0 --key old.key --key new.key --signing-key new.key',
  ].join('\n'),
  (invocation) => ({ add: listOption(invocation, 'add'), retire: listOption(invocation, 'retire') }),
);

import { redactUrl } from '../../remote/index.js';
import { parsePublicKey } from '../../sign/index.js';
import { positional, usageError } from '../args.js';
import type { Command } from '../command.js';
import { readKeyArgument } from '../keyArgument.js';
import { withPrefix } from '../prefixSession.js';

const command: Command = {
  words: ['remote', 'key', 'remove'],
  summary: 'stop trusting a key for a remote',
  usage: [
    'kiln remote key remove NAME KEY...',
    '',
    'KEY: a key id (16 hex digits, as "kiln remote list" shows), a public key file or its base64 line.',
    'A remote keeps at least one key.',
    'Example: kiln remote key remove main 6744BF67204979A5',
  ].join('\n'),
  options: {},
  async run(invocation) {
    const name = positional(invocation, command, 0, 'NAME');
    const args = invocation.positionals.slice(1);
    if (args.length === 0) throw usageError(command, 'missing KEY');
    const keys = await Promise.all(
      args.map(async (arg) => (/^[0-9A-Fa-f]{16}$/.test(arg) ? arg : await readKeyArgument(arg))),
    );
    return withPrefix(invocation, async (prefix) => {
      const remote = await prefix.changeRemoteKeys(name, { remove: keys });
      const ids = remote.keys.map((key) => parsePublicKey(key, name).keyId);
      return {
        data: { ...remote, url: redactUrl(remote.url), keyIds: ids },
        text: `remote ${name} trusts ${ids.join(', ')}`,
      };
    });
  },
};

export default command;

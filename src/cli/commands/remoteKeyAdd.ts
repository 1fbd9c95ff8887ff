import { redactUrl } from '../../remote/index.js';
import { parsePublicKey } from '../../sign/index.js';
import { positional, usageError } from '../args.js';
import type { Command } from '../command.js';
import { readPublicKeyArguments } from '../keyArgument.js';
import { withPrefix } from '../prefixSession.js';

const command: Command = {
  words: ['remote', 'key', 'add'],
  summary: "trust another key for a remote's index and packages",
  usage: [
    'kiln remote key add NAME PUBKEY...',
    '',
    'PUBKEY: a public key file or its base64 line (what "kiln key show" prints).',
    'A repository that rotates its key signs with both for a while: add the new one, then',
    'remove the old one with "kiln remote key remove".',
    'Example: kiln remote key add main new-stable.pub',
  ].join('\n'),
  options: {},
  async run(invocation) {
    const name = positional(invocation, command, 0, 'NAME');
    const args = invocation.positionals.slice(1);
    if (args.length === 0) throw usageError(command, 'missing PUBKEY');
    const keys = await readPublicKeyArguments(args);
    return withPrefix(invocation, async (prefix) => {
      const remote = await prefix.changeRemoteKeys(name, { add: keys });
      const ids = remote.keys.map((key) => parsePublicKey(key, name).keyId);
      return {
        data: { ...remote, url: redactUrl(remote.url), keyIds: ids },
        text: `remote ${name} trusts ${ids.join(', ')}\nnext: kiln sync ${name}`,
      };
    });
  },
};

export default command;

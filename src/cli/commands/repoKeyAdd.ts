import { positional } from '../args.js';
import { keyRootCommand } from './repoKeyRotate.js';

export default keyRootCommand(
  ['repo', 'key', 'add'],
  'add a key to the repository: a new key root signed by the keys before it',
  [
    'kiln repo key add DIR PUBKEY --key SECRET... [--threshold N] [--signing-key SECRET]',
    '',
    'As "kiln repo key rotate DIR --add PUBKEY": the new key root is signed by the current keys (their threshold)',
    "and by the new root's own threshold of its keys (the new key's secret is among --key when that needs it).",
    'Example: kiln repo key add /srv/binhost second.pub --key main.key --key second.key',
  ].join('\n'),
  (invocation, command) => ({ add: [positional(invocation, command, 1, 'PUBKEY')], retire: [] }),
);

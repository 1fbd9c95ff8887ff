import { positional } from '../args.js';
import { keyRootCommand } from './repoKeyRotate.js';

export default keyRootCommand(
  ['repo', 'key', 'retire'],
  'retire a key of the repository: a new key root without it, signed by the keys before it',
  [
    'kiln repo key retire DIR KEYID --key SECRET... [--signing-key SECRET]',
    '',
    'As "kiln repo key rotate DIR --retire KEYID". Clients stop trusting the key at their next sync.',
    'Example: kiln repo key retire /srv/binhost 6B7BC42F2B3A01E0 --key second.key',
  ].join('\n'),
  (invocation, command) => ({ add: [], retire: [positional(invocation, command, 1, 'KEYID')] }),
);

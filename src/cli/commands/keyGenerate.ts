import { writeKeyPair } from '../../sign/index.js';
import { flag, noMorePositionals, requiredOption, stringOption, usageError } from '../args.js';
import type { Command } from '../command.js';

const command: Command = {
  words: ['key', 'generate'],
  summary: 'generate an Ed25519 signing key pair in minisign format',
  usage: [
    'kiln key generate --out DIR [--name BASENAME] [--encrypt [--password-file FILE]] [--force]',
    '',
    'Writes DIR/BASENAME.key (secret, mode 0600) and DIR/BASENAME.pub (default BASENAME: kiln).',
    'With --encrypt the secret key is encrypted with the password from --password-file or',
    'KILN_KEY_PASSWORD (scrypt, as minisign does).',
    'Example: kiln key generate --out ~/.kiln-keys',
  ].join('\n'),
  options: {
    out: { type: 'string', short: 'o' },
    name: { type: 'string' },
    encrypt: { type: 'boolean' },
    force: { type: 'boolean' },
  },
  async run(invocation) {
    noMorePositionals(invocation, command, 0);
    const out = requiredOption(invocation, command, 'out');
    const encrypt = flag(invocation, 'encrypt');
    if (encrypt && invocation.settings.password === undefined)
      throw usageError(command, '--encrypt needs a password: pass --password-file FILE or set KILN_KEY_PASSWORD');
    const result = await writeKeyPair(out, {
      password: encrypt ? invocation.settings.password : undefined,
      force: flag(invocation, 'force'),
      basename: stringOption(invocation, 'name') ?? 'kiln',
    });
    const notes = encrypt
      ? []
      : ['note: the secret key is not encrypted; keep it private (or generate with --encrypt)'];
    return {
      data: result,
      text: `key ${result.keyId}\nsecret key: ${result.secretKeyPath}\npublic key: ${result.publicKeyPath}`,
      notes,
    };
  },
};

export default command;

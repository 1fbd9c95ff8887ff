import { readPublicKeyFile, verifyFile } from '../../sign/index.js';
import { listOption, noMorePositionals, positional, stringOption, usageError } from '../args.js';
import type { Command } from '../command.js';

const command: Command = {
  words: ['verify'],
  summary: 'verify a detached minisign signature',
  usage: [
    'kiln verify FILE --trust PUBKEY... [--sig SIGFILE]',
    '',
    'Checks FILE against FILE.minisig (or --sig) with any of the trusted public keys;',
    'signatures made by minisign itself are accepted.',
    'Example: kiln verify index.json --trust keys/6B7BC42F2B3A01E0.pub',
  ].join('\n'),
  options: { trust: { type: 'string', multiple: true }, sig: { type: 'string', short: 'x' } },
  async run(invocation) {
    const file = positional(invocation, command, 0, 'FILE');
    noMorePositionals(invocation, command, 1);
    const trustPaths = listOption(invocation, 'trust');
    if (trustPaths.length === 0) throw usageError(command, 'missing --trust PUBKEY');
    const trusted = await Promise.all(trustPaths.map((path) => readPublicKeyFile(path)));
    const sig = stringOption(invocation, 'sig') ?? `${file}.minisig`;
    const result = await verifyFile(file, sig, trusted);
    return {
      data: { file, signature: sig, keyId: result.publicKey.keyId, trustedComment: result.signature.trustedComment },
      text: `signature valid: ${file} signed by key ${result.publicKey.keyId}\ntrusted comment: ${result.signature.trustedComment}`,
    };
  },
};

export default command;

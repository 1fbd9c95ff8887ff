import { readFile } from 'node:fs/promises';
import { KilnError, isErrno } from '../../errors/index.js';
import { formatPublicKey, parsePublicKey, parseSecretKey, publicKeyOf } from '../../sign/index.js';
import type { PublicKey } from '../../sign/index.js';
import { noMorePositionals, positional } from '../args.js';
import type { Command } from '../command.js';

const command: Command = {
  words: ['key', 'show'],
  summary: 'print the key id and public key of a public or secret key file',
  usage: 'kiln key show KEYFILE\nExample: kiln key show ~/.kiln-keys/kiln.pub',
  options: {},
  async run(invocation) {
    const path = positional(invocation, command, 0, 'KEYFILE');
    noMorePositionals(invocation, command, 1);
    let text: string;
    try {
      text = await readFile(path, 'utf8');
    } catch (error) {
      if (isErrno(error, 'ENOENT'))
        throw new KilnError('E_IO', `cannot read key ${path}: no such file`, { cause: error });
      throw error;
    }
    let key: PublicKey;
    let kind: 'public' | 'secret';
    try {
      key = parsePublicKey(text, path);
      kind = 'public';
    } catch (error) {
      if (!(error instanceof KilnError)) throw error;
      key = publicKeyOf(await parseSecretKey(text, { source: path, password: invocation.settings.password }));
      kind = 'secret';
    }
    const publicText = formatPublicKey(key);
    const base64 = publicText.split('\n')[1] ?? '';
    return {
      data: { keyId: key.keyId, kind, publicKey: base64 },
      text: `key ${key.keyId} (${kind} key file)\npublic key: ${base64}`,
    };
  },
};

export default command;

import { basename } from 'node:path';
import { formatSignature, readSecretKeyFile, signFile } from '../../sign/index.js';
import { writeFileAtomic } from '../../util/atomicWrite.js';
import { noMorePositionals, positional, requiredOption, stringOption } from '../args.js';
import type { Command } from '../command.js';

const command: Command = {
  words: ['sign'],
  summary: 'sign a file with a detached minisign signature',
  usage: [
    'kiln sign FILE --key SECRETKEY [--out SIGFILE] [--trusted-comment TEXT]',
    '',
    'Writes FILE.minisig unless --out is given; `minisign -Vm FILE -p KEY.pub` verifies it.',
    'Example: kiln sign release.tar.gz --key ~/.kiln-keys/kiln.key',
  ].join('\n'),
  options: {
    key: { type: 'string', short: 'k' },
    out: { type: 'string', short: 'o' },
    'trusted-comment': { type: 'string', short: 't' },
  },
  async run(invocation) {
    const file = positional(invocation, command, 0, 'FILE');
    noMorePositionals(invocation, command, 1);
    const key = await readSecretKeyFile(requiredOption(invocation, command, 'key'), {
      password: invocation.settings.password,
    });
    const out = stringOption(invocation, 'out') ?? `${file}.minisig`;
    const trustedComment =
      stringOption(invocation, 'trusted-comment') ??
      `timestamp:${Math.floor(invocation.settings.now().getTime() / 1000)}\tfile:${basename(file)}\thashed`;
    await writeFileAtomic(out, formatSignature(await signFile(file, key, { trustedComment })));
    return {
      data: { file, signature: out, keyId: key.keyId, trustedComment },
      text: `signed ${file} with key ${key.keyId}: ${out}`,
    };
  },
};

export default command;

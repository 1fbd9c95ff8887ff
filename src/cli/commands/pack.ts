import { fullVersion, pack, readPackInput } from '../../format/index.js';
import { readSecretKeyFile } from '../../sign/index.js';
import { integerOption, noMorePositionals, positional, requiredOption, stringOption } from '../args.js';
import type { Command } from '../command.js';
import { bytes, optionList } from '../render.js';

const command: Command = {
  words: ['pack'],
  summary: 'make a package from a staged tree (a DESTDIR) and its metadata',
  usage: [
    'kiln pack STAGEDIR --meta META.toml|META.json --out DIR [--key SECRETKEY] [--level 1-19]',
    '',
    'Writes DIR/NAME-VERSION[-rN]-VARIANT.kpkg. The same tree and metadata always give a',
    'byte-identical package. With --key the package carries its own signature.',
    'Example: kiln pack ./stage --meta zlib.toml --out ./packages --key ~/.kiln-keys/kiln.key',
  ].join('\n'),
  options: {
    meta: { type: 'string', short: 'm' },
    out: { type: 'string', short: 'o' },
    key: { type: 'string', short: 'k' },
    level: { type: 'string' },
  },
  async run(invocation) {
    const stageDir = positional(invocation, command, 0, 'STAGEDIR');
    noMorePositionals(invocation, command, 1);
    const input = await readPackInput(requiredOption(invocation, command, 'meta'));
    const outDir = requiredOption(invocation, command, 'out');
    const keyPath = stringOption(invocation, 'key');
    const secretKey =
      keyPath === undefined ? undefined : await readSecretKeyFile(keyPath, { password: invocation.settings.password });
    const result = await pack({
      stageDir,
      input,
      outDir,
      secretKey,
      level: integerOption(invocation, command, 'level', 1, 19),
    });
    const meta = result.metadata;
    return {
      data: {
        path: result.path,
        name: meta.name,
        version: fullVersion(meta),
        variant: meta.variant,
        options: meta.options,
        target: meta.target,
        files: meta.files.length,
        size: meta.payload.size,
        installedSize: meta.installedSize,
        provides: meta.provides.sonames,
        needs: meta.needs.sonames,
        signed: result.signed,
      },
      text: [
        result.path,
        `  ${meta.name} ${fullVersion(meta)} variant ${meta.variant} [${optionList(meta.options)}] ${meta.target.arch}/${meta.target.cpu}/${meta.target.libc}-${meta.target.libcVersion}`,
        `  ${meta.files.length} entries, ${bytes(meta.installedSize)} installed, ${bytes(meta.payload.size)} compressed, ${result.signed ? 'signed' : 'unsigned'}`,
        `  provides ${meta.provides.sonames.join(' ') || '-'}; needs ${meta.needs.sonames.join(' ') || '-'}`,
      ].join('\n'),
      notes: [
        ...result.notes,
        ...(result.signed ? [] : ['note: the package is unsigned; sign it with --key, or with "kiln repo add --sign"']),
      ],
    };
  },
};

export default command;

import { verifyRepository } from '../../repo/index.js';
import { shellQuote } from '../../util/shellQuote.js';
import { readPublicKeyFile } from '../../sign/index.js';
import { flag, listOption, noMorePositionals, positional } from '../args.js';
import type { Command } from '../command.js';
import { count } from '../render.js';

const command: Command = {
  words: ['repo', 'verify'],
  summary: 'verify the index against the keys, every package against the index, and that nothing private is published',
  usage: [
    'kiln repo verify DIR [--trust PUBKEY...] [--quick]',
    '',
    "By default the repository's own public/keys/ are trusted; --trust checks against the keys a",
    'client would hold instead. --quick checks hashes and signatures but does not decompress.',
    'Fails too if DIR/public holds maintainer state (.kiln) or a secret key, or links to them.',
    'Example: kiln repo verify /srv/binhost --trust ~/main.pub',
  ].join('\n'),
  options: { trust: { type: 'string', multiple: true }, quick: { type: 'boolean' } },
  async run(invocation) {
    const dir = positional(invocation, command, 0, 'DIR');
    noMorePositionals(invocation, command, 1);
    const trustPaths = listOption(invocation, 'trust');
    const trusted =
      trustPaths.length > 0 ? await Promise.all(trustPaths.map((path) => readPublicKeyFile(path))) : undefined;
    const report = await verifyRepository(dir, {
      trusted,
      quick: flag(invocation, 'quick'),
      now: invocation.settings.now(),
    });
    const notes =
      report.unreferenced.length > 0
        ? [
            `note: ${report.unreferenced.length} package file(s) are not in the index ("kiln repo prune ${shellQuote(dir)}" removes them once no kept index needs them)`,
          ]
        : [];
    return {
      data: report,
      text: `repository ${report.index.name} serial ${report.index.serial}: index signed by key ${report.signer}, ${count(report.packages, 'package')} verified`,
      notes,
    };
  },
};

export default command;

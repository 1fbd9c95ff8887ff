import { readPublicKeyFile, verifyFile } from '../../sign/index.js';
import { listOption, noMorePositionals, positional, stringOption } from '../args.js';
import type { Command, CommandOutput, Invocation } from '../command.js';
import { withPrefix } from '../prefixSession.js';
import { table } from '../render.js';

async function verifyPrefix(invocation: Invocation): Promise<CommandOutput> {
  noMorePositionals(invocation, command, 1);
  const name = invocation.positionals[0];
  return withPrefix(invocation, async (prefix) => {
    const report = prefix.verify(name, invocation.values['unowned'] === true ? { unowned: true } : {});
    const rows = report.problems.map((p) => [
      p.problem,
      p.path,
      p.package ?? '-',
      p.expected === undefined ? '' : `expected ${p.expected}${p.actual === undefined ? '' : `, found ${p.actual}`}`,
      p.config === true ? '(config)' : '',
    ]);
    const lines = rows.length === 0 ? [] : [table(rows)];
    for (const problem of report.database) lines.push(`database: ${problem}`);
    const bad = report.problems.length + report.database.length;
    lines.push(
      bad === 0
        ? `ok: ${report.checked} entries match the database`
        : `${bad} problem(s) in ${report.checked} entries checked`,
    );
    return { data: report, text: lines.join('\n'), exitCode: bad === 0 ? 0 : 1 };
  });
}

const command: Command = {
  words: ['verify'],
  summary: 'check installed files against the database, or a detached signature',
  usage: [
    'kiln verify [NAME] [--unowned]',
    '',
    'Reports missing and modified files (content, type, link target, mode, owner) of one installed',
    'package or, without NAME, of all of them plus, in a user prefix (or with --unowned), files no',
    'package owns; exit status 1 if any.',
    '',
    'kiln verify FILE --trust PUBKEY... [--sig SIGFILE]',
    '',
    'Checks FILE against FILE.minisig (or --sig) with any of the trusted public keys;',
    'signatures made by minisign itself are accepted, prehashed (its default) or legacy (-l).',
    'Example: kiln verify index.json --trust keys/6B7BC42F2B3A01E0.pub',
  ].join('\n'),
  options: {
    trust: { type: 'string', multiple: true },
    sig: { type: 'string', short: 'x' },
    unowned: { type: 'boolean' },
  },
  async run(invocation) {
    const trustPaths = listOption(invocation, 'trust');
    if (trustPaths.length === 0 && stringOption(invocation, 'sig') === undefined) return verifyPrefix(invocation);
    const file = positional(invocation, command, 0, 'FILE');
    noMorePositionals(invocation, command, 1);
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

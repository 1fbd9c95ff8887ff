import type { CachedFile } from '../../install/packageCache.js';
import { flag, noMorePositionals, stringOption, usageError } from '../args.js';
import type { Command, CommandOutput } from '../command.js';
import { CHANGE_OPTIONS, withPrefix } from '../prefixSession.js';
import { bytes, count } from '../render.js';

const command: Command = {
  words: ['cache', 'prune'],
  summary: 'delete all but the newest versions of each cached package',
  usage: [
    'kiln cache prune --keep N [--dry-run]',
    '',
    'As paccache -rk N: of each package, the N newest versions stay (every variant of them), and the',
    'one installed here; older versions, partial downloads and files that are not packages go.',
    'Example: kiln cache prune --keep 2',
  ].join('\n'),
  options: { keep: { type: 'string' }, 'dry-run': CHANGE_OPTIONS['dry-run'] },
  async run(invocation) {
    noMorePositionals(invocation, command, 0);
    const keepText = stringOption(invocation, 'keep');
    if (keepText === undefined) throw usageError(command, 'missing --keep N');
    if (!/^\d{1,4}$/.test(keepText)) throw usageError(command, `--keep must be a whole number, not "${keepText}"`);
    const dryRun = flag(invocation, 'dry-run');
    return withPrefix(invocation, async (prefix) =>
      cleanOutput(await prefix.cleanCache({ keep: Number(keepText), dryRun }), dryRun),
    );
  },
};

/** What a clean or prune removed (or, with --dry-run, would remove). */
export function cleanOutput(result: { removed: CachedFile[]; bytes: number }, dryRun: boolean): CommandOutput {
  const lines = result.removed.map(
    (file) =>
      `  ${file.name === null ? file.file : `${file.name} ${file.version ?? ''}`.trimEnd()}  ${bytes(file.size)}`,
  );
  const summary =
    result.removed.length === 0
      ? 'nothing to remove'
      : `${dryRun ? 'would remove' : 'removed'} ${count(result.removed.length, 'file')}, ${dryRun ? 'freeing' : 'freed'} ${bytes(result.bytes)}`;
  return { data: { ...result, dryRun }, text: [...lines, summary].join('\n') };
}

export default command;

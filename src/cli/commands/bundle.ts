import type { TrimClass } from '../../bundle/index.js';
import { parseRequest } from '../../solver/index.js';
import { flag, listOption, requiredOption, stringOption, usageError } from '../args.js';
import type { Command, Invocation } from '../command.js';
import { KilnError, isKilnError } from '../../errors/index.js';
import type { Prefix } from '../../install/index.js';
import { ADVISORY_OPTIONS, renderPlan, withPrefix } from '../prefixSession.js';
import { bytes } from '../render.js';
import { shellLine } from '../../util/shellQuote.js';
import type { BundleResult } from '../../bundle/index.js';

const command: Command = {
  words: ['bundle'],
  summary: 'pack installed packages and their dependencies into a tarball that runs anywhere without Kiln',
  usage: [
    'kiln bundle NAME... --out FILE.tar.zst|FILE.tar.gz [--with dev|docs]... [--relocate-to DIR] [--from-remotes]',
    '',
    'Writes the runtime closure of the installed packages NAME (they and every package they depend on),',
    'trimmed of headers, static libraries, pkg-config and CMake files (--with dev keeps them) and of',
    'manual pages and documentation (--with docs), with a manifest of every file (sha256, relocation)',
    'and the glibc version and CPU level it needs. On the target, no Kiln, Node or root is needed:',
    '  mkdir -p DIR && tar -xf FILE -C DIR && DIR/bin/kiln-relocate',
    'kiln-relocate (POSIX sh) checks the host and rewrites the paths the files hold for DIR; run it',
    'again after moving DIR. --relocate-to DIR writes the files already relocated for DIR.',
    "--from-remotes installs the packages into a throw-away prefix with this one's remotes and",
    'settings instead of taking them from this prefix. docs/bundle.md has the details.',
    'Example: kiln bundle nginx --out nginx.tar.gz',
  ].join('\n'),
  options: {
    out: { type: 'string', short: 'o' },
    with: { type: 'string', multiple: true },
    'relocate-to': { type: 'string' },
    'from-remotes': { type: 'boolean' },
    ...ADVISORY_OPTIONS,
  },
  async run(invocation) {
    if (invocation.positionals.length === 0) throw usageError(command, 'missing NAME');
    const out = requiredOption(invocation, command, 'out');
    const keep = listOption(invocation, 'with').flatMap((value) => value.split(','));
    for (const name of keep)
      if (name !== 'dev' && name !== 'docs') throw usageError(command, `--with takes dev or docs, not "${name}"`);
    const relocateTo = stringOption(invocation, 'relocate-to');
    const options = {
      out,
      keep: keep as TrimClass[],
      ...(relocateTo === undefined ? {} : { prefix: relocateTo }),
      now: invocation.settings.now(),
    };
    return bundleFrom(invocation, async (prefix) => {
      if (!flag(invocation, 'from-remotes')) {
        const result = await prefix.bundle({ ...options, names: invocation.positionals });
        return { data: result, text: describe(result) };
      }
      const allowed = listOption(invocation, 'allow-advisory');
      const result = await prefix.bundleFromRemotes(invocation.positionals.map(parseRequest), {
        ...options,
        command: `kiln ${shellLine(invocation.argv)}`,
        ...(allowed.length > 0 ? { allowAdvisories: allowed } : {}),
      });
      return { data: result, text: `${renderPlan(result.plan)}\n${describe(result)}` };
    });
  },
};

/**
 * withPrefix, with a hint for a --prefix that is not a prefix: --prefix
 * names the prefix to bundle from, and whoever meant the directory on the
 * target needs --relocate-to.
 */
async function bundleFrom<T>(invocation: Invocation, fn: (prefix: Prefix) => Promise<T>): Promise<T> {
  try {
    return await withPrefix(invocation, fn);
  } catch (error) {
    if (!isKilnError(error, 'E_PREFIX_NOT_FOUND')) throw error;
    throw new KilnError(error.code, error.message, {
      hint: `--prefix names the prefix to bundle from; for files already relocated for a directory on the target, use --relocate-to DIR${error.hint === undefined ? '' : ` (or: ${error.hint})`}`,
      cause: error,
    });
  }
}

function describe(result: BundleResult): string {
  const { requires } = result;
  return [
    `wrote ${result.out} (${bytes(result.archiveBytes)}, ${result.compression}): ${result.packages.map((pkg) => `${pkg.name}-${pkg.version}`).join(' ')}`,
    `  ${result.entries} entries, ${bytes(result.bytes)} of files; trimmed ${result.trimmedFiles} files (${bytes(result.trimmedBytes)})`,
    `  needs ${requires.arch}, ${requires.libc} ${requires.libcVersion} or newer, CPU level ${requires.cpu}${result.room === null ? '' : `; unpack into a path of at most ${result.room} bytes`}`,
    '  on the target: mkdir -p DIR && tar -xf FILE -C DIR && DIR/bin/kiln-relocate',
  ].join('\n');
}

export default command;

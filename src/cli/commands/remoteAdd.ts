import { existsSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { KilnError } from '../../errors/index.js';
import { readPublicKeyArguments } from '../keyArgument.js';
import { parseRemoteUrl, redactUrl } from '../../remote/index.js';
import { publishedTreeOf, repositoryPaths } from '../../repo/index.js';
import { listOption, stringOption, noMorePositionals, positional, usageError } from '../args.js';
import type { Command } from '../command.js';
import { withPrefix } from '../prefixSession.js';
import { daemonChange, daemonSocket } from '../daemonSession.js';

const command: Command = {
  words: ['remote', 'add'],
  summary: 'add a remote repository with its trusted keys',
  usage: [
    'kiln remote add NAME URL --key PUBKEY... [--mirror URL]... [--priority N]',
    '',
    "URL: file:///path, a directory, http://… or https://… — a repository's published tree (DIR/public",
    'of "kiln repo init DIR"). PUBKEY: a public key file or its base64 line;',
    'give --key twice while a repository rotates keys. Higher --priority wins (default 0).',
    '--mirror: another URL of the same repository, tried in order when URL fails, is too slow or serves an older serial.',
    'Example: kiln remote add main https://pkg.example.org/stable --key stable.pub --priority 10',
  ].join('\n'),
  options: {
    key: { type: 'string', multiple: true },
    mirror: { type: 'string', multiple: true },
    priority: { type: 'string' },
  },
  async run(invocation) {
    const name = positional(invocation, command, 0, 'NAME');
    const given = positional(invocation, command, 1, 'URL');
    // A relative path to an existing directory means that directory, as in every other command.
    const local = (text: string) =>
      !text.includes('://') && !isAbsolute(text) && existsSync(text) ? resolve(text) : text;
    const url = local(given);
    noMorePositionals(invocation, command, 2);
    refuseMaintainerDirectory(name, url);
    const mirrors = listOption(invocation, 'mirror').map(local);
    for (const mirror of mirrors) refuseMaintainerDirectory(name, mirror);
    const keyArgs = listOption(invocation, 'key');
    if (keyArgs.length === 0) throw usageError(command, 'missing --key PUBKEY');
    const keys = await readPublicKeyArguments(keyArgs);
    const priorityText = stringOption(invocation, 'priority') ?? '0';
    if (!/^-?\d{1,4}$/.test(priorityText) || Math.abs(Number(priorityText)) > 1000)
      throw usageError(command, `--priority must be a whole number from -1000 to 1000, not "${priorityText}"`);
    const priority = Number(priorityText);
    // A user who cannot write the system prefix asks its kilnd, if the policy lets them add remotes (add-remote).
    const socket = daemonSocket(invocation);
    if (socket !== undefined)
      return daemonChange(invocation, socket, 'add-remote', [], { remote: name, url, keys, priority, mirrors });
    return withPrefix(invocation, async (prefix) => {
      const remote = await prefix.addRemote(name, url, keys, priority, mirrors);
      const shownMirrors = (remote.mirrors ?? []).map((mirror) => redactUrl(mirror));
      return {
        data: { ...remote, url: redactUrl(remote.url), mirrors: shownMirrors },
        text: `added remote ${name} (${redactUrl(remote.url)}${shownMirrors.length > 0 ? `; mirrors ${shownMirrors.join(', ')}` : ''}), priority ${priority}\nnext: kiln sync`,
      };
    });
  },
};

/** A local URL naming a repository's maintainer directory (DIR/.kiln beside DIR/public) is refused before it is written into the configuration. */
function refuseMaintainerDirectory(name: string, url: string): void {
  const parsed = parseRemoteUrl(url);
  if (parsed.protocol !== 'file:') return;
  const paths = repositoryPaths(fileURLToPath(parsed));
  if (!existsSync(paths.config) || !existsSync(paths.public)) return;
  throw new KilnError(
    'E_REPO_NOT_FOUND',
    `cannot add remote ${name}: ${paths.root} is a repository's maintainer directory, not its published tree`,
    {
      hint: `use ${publishedTreeOf(url)}, the directory the repository publishes (its .kiln/ is private)`,
    },
  );
}

export default command;

import { KilnError } from '../../errors/index.js';
import { noMorePositionals, positional } from '../args.js';
import type { Command } from '../command.js';
import { completionScript, SHELLS, type Shell } from '../completion.js';
import { COMMANDS } from '../registry.js';

const command: Command = {
  words: ['completion'],
  summary: 'print the shell completion script for bash, zsh or fish',
  usage: [
    'kiln completion bash|zsh|fish',
    '',
    "Completes command words, each command's options and their values, and package names",
    '(installed or available, from "kiln list -q" in the prefix the line names).',
    'Examples: kiln completion zsh > ~/.zfunc/_kiln    source <(kiln completion bash)    kiln completion fish | source',
  ].join('\n'),
  options: {},
  async run(invocation) {
    const shell = positional(invocation, command, 0, 'SHELL');
    noMorePositionals(invocation, command, 1);
    if (!(SHELLS as readonly string[]).includes(shell)) {
      throw new KilnError('E_USAGE', `cannot run "kiln completion": no completion for shell "${shell}"`, {
        hint: `give one of ${SHELLS.join(', ')}`,
      });
    }
    const commands = await Promise.all(COMMANDS.map((entry) => entry.load()));
    const script = completionScript(shell as Shell, commands);
    return { data: { shell, script }, text: script.trimEnd() };
  },
};

export default command;

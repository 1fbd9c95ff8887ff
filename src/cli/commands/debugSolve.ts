import { readFile } from 'node:fs/promises';
import { KilnError } from '../../errors/index.js';
import { parseProblem, solve } from '../../solver/index.js';
import { ioError } from '../../util/ioError.js';
import type { Command } from '../command.js';

const command: Command = {
  words: ['debug', 'solve'],
  summary: 'solve a problem written in the neutral JSON form and print the plan',
  usage: [
    'kiln debug solve FILE.json     (FILE "-" reads standard input)',
    '',
    'Reads a problem in the neutral form of docs/solver.md (packages, installed, request, and',
    'optionally remotes and config) and prints the plan as JSON: install, remove and keep with',
    'versions, the ordered steps with a reason each, and where cycles were broken; or, when',
    'there is no solution, the explanation and a hint (exit status 1). Touches no prefix.',
    'Example: kiln debug solve problem.json',
  ].join('\n'),
  options: {},
  async run(invocation) {
    const [file, ...rest] = invocation.positionals;
    if (file === undefined || rest.length > 0) {
      throw new KilnError('E_USAGE', 'cannot run "kiln debug solve": give exactly one problem file', {
        hint: 'kiln debug solve FILE.json (or - for standard input)',
      });
    }
    let text: string;
    try {
      text = file === '-' ? await readStdin() : await readFile(file, 'utf8');
    } catch (error) {
      throw ioError(error, 'read solver problem', file) ?? error;
    }
    const result = solve(parseProblem(text));
    return { data: result, text: JSON.stringify(result, null, 2), exitCode: result.solved ? 0 : 1 };
  },
};

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

export default command;

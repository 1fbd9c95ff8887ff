import { lintRecipes, openPortsTree } from '../../build/index.js';
import { TREE_OPTIONS, recipesDir } from '../buildSettings.js';
import type { Command } from '../command.js';

const command: Command = {
  words: ['lint'],
  summary: 'check recipes and explain each problem',
  usage: [
    'kiln lint [CATEGORY/NAME...] [--recipes DIR]',
    '',
    'Checks every recipe of the ports tree (or those named): the recipe format, that the build',
    'script and patches exist, that dependencies name recipes of the tree in a range it has,',
    'that options are used, and common mistakes in build scripts. Exit status 1 on any error.',
    'Example: kiln lint www-servers/nginx',
  ].join('\n'),
  options: { ...TREE_OPTIONS },
  async run(invocation) {
    const tree = await openPortsTree(recipesDir(invocation));
    const problems = await lintRecipes(tree, invocation.positionals.length > 0 ? invocation.positionals : tree.ids);
    const errors = problems.filter((problem) => problem.severity === 'error').length;
    const lines = problems.map(
      (problem) =>
        `${problem.recipe}: ${problem.severity}: ${problem.problem}${problem.hint === undefined ? '' : `\n  hint: ${problem.hint}`}`,
    );
    const checked = invocation.positionals.length > 0 ? invocation.positionals.length : tree.ids.length;
    return {
      data: { checked, problems },
      text: lines.join('\n'),
      notes: [`${checked} recipe(s) checked: ${errors} error(s), ${problems.length - errors} warning(s)`],
      exitCode: errors > 0 ? 1 : 0,
    };
  },
};

export default command;

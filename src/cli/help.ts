/**
 * Help for people: the list of commands, each group's commands, each
 * command's options (from optionHelp.ts), and the usage errors that suggest
 * what was meant. Rendered from the same tables the man pages and shell
 * completions come from.
 */
import { KilnError } from '../errors/index.js';
import { didYouMean, suggest } from '../util/suggest.js';
import type { Command } from './command.js';
import { optionFlags, optionRows } from './optionHelp.js';
import { COMMANDS } from './registry.js';
import { table } from './render.js';

export const TAGLINE = 'build once per variant, publish signed binary packages, install into any prefix';

/** Words other tools use for a Kiln command, and the command(s) they mean. */
const ALIASES: Readonly<Record<string, readonly string[]>> = {
  uninstall: ['remove'],
  erase: ['remove'],
  rm: ['remove'],
  delete: ['remove'],
  purge: ['remove'],
  update: ['sync', 'upgrade'],
  refresh: ['sync'],
  add: ['install'],
  get: ['install'],
  show: ['info'],
  query: ['list', 'info'],
  ls: ['list'],
  find: ['search'],
  provides: ['owns'],
  which: ['owns'],
  clean: ['autoremove'],
  'dist-upgrade': ['upgrade'],
  'full-upgrade': ['upgrade'],
};

/** The command groups (`remote`, `repo`, `key`, `debug`): a first word shared by several commands. */
/** Every group: the words that begin longer commands (`remote`, `remote key`, `repo`). */
export function commandGroups(): string[] {
  return [
    ...new Set(COMMANDS.flatMap((entry) => entry.words.slice(1).map((_, i) => entry.words.slice(0, i + 1).join(' ')))),
  ];
}

/** The longest group that `words` begin with (`remote key` for `remote key add`), or undefined. */
export function groupOf(words: readonly string[]): string | undefined {
  const groups = commandGroups();
  let found: string | undefined;
  for (let n = 1; n <= words.length; n++) {
    const group = words.slice(0, n).join(' ');
    if (groups.includes(group)) found = group;
    else break;
  }
  return found;
}

/** The commands and groups that may follow `group`, each with its summary. */
function groupMembers(group: string): { word: string; summary: string }[] {
  const depth = group.split(' ').length;
  const members = new Map<string, string>();
  for (const entry of COMMANDS) {
    if (entry.words.length <= depth || entry.words.slice(0, depth).join(' ') !== group) continue;
    const word = entry.words[depth]!;
    const own = entry.words.length === depth + 1;
    if (own || !members.has(word))
      members.set(word, own ? entry.summary : (GROUP_SUMMARIES[`${group} ${word}`] ?? `the ${group} ${word} commands`));
  }
  return [...members].map(([word, summary]) => ({ word, summary }));
}

export function generalHelp(): string {
  const rows = COMMANDS.map((entry) => [`  kiln ${entry.words.join(' ')}`, entry.summary]);
  return [
    `kiln — ${TAGLINE}`,
    '',
    'Usage: kiln [--prefix DIR] COMMAND [ARGS...] [--json] [--help]',
    '',
    'Commands:',
    table(rows),
    '',
    'Run "kiln COMMAND --help" (or "kiln help COMMAND") for a command\'s options, "man kiln-COMMAND" for its page.',
    'Documentation: docs/commands.md',
  ].join('\n');
}

/** `kiln remote --help`, `kiln help repo`: the group's commands. */
export function groupHelp(group: string): string {
  const rows = COMMANDS.filter((entry) => entry.words.join(' ').startsWith(`${group} `)).map((entry) => [
    `  kiln ${entry.words.join(' ')}`,
    entry.summary,
  ]);
  return [
    `kiln ${group} — ${GROUP_SUMMARIES[group] ?? `the ${group} commands`}`,
    '',
    `Usage: kiln ${group} COMMAND [ARGS...]`,
    '',
    'Commands:',
    table(rows),
    '',
    `Run "kiln ${group} COMMAND --help" for a command's options.`,
  ].join('\n');
}

const GROUP_SUMMARIES: Readonly<Record<string, string>> = {
  remote: 'the repositories a prefix installs from, and the keys it trusts for each',
  repo: 'make and maintain a signed repository (a binhost)',
  key: 'signing keys (minisign format)',
  cache: 'the downloaded packages a prefix keeps',
  'remote key': "the keys a remote's index and packages must be signed with",
  debug: 'tools for looking inside Kiln',
};

/** A command's help: summary, usage with its example, then every option it takes and the global ones. */
export function commandHelp(command: Command): string {
  const rows = optionRows(command);
  const own = rows
    .filter((row) => !row.global)
    .map((row) => [
      `  ${optionFlags(row)}`,
      row.doc.text + (row.multiple && !row.doc.text.includes('repeatable') ? ' (repeatable)' : ''),
    ]);
  const global = rows.filter((row) => row.global).map((row) => [`  ${optionFlags(row)}`, row.doc.text]);
  const parts = [command.summary, '', 'Usage:', command.usage.replace(/^/gm, '  ').replace(/^ +$/gm, '')];
  if (own.length > 0) parts.push('', 'Options:', table(own));
  parts.push('', 'Global options:', table(global));
  return `${parts.join('\n')}\n`;
}

/** The usage error for words that name no command, with what was probably meant. */
export function unknownCommand(words: readonly string[]): KilnError {
  const first = words[0] ?? '';
  const group = groupOf(words);
  if (group !== undefined) {
    // A known group with an unknown or missing subcommand: suggest within the group.
    const members = groupMembers(group).map((member) => member.word);
    const next = words[group.split(' ').length];
    const listHint = `"kiln ${group} --help" lists its commands`;
    if (next === undefined || next.startsWith('-')) {
      return new KilnError('E_USAGE', `cannot run "kiln ${group}": it needs a command (${members.join(', ')})`, {
        hint: listHint,
      });
    }
    const close = suggest(next, members).map((word) => `kiln ${group} ${word}`);
    return new KilnError('E_USAGE', `cannot run "kiln ${group} ${next}": no such command`, {
      hint: didYouMean(close, (s) => `"${s}"`) ?? listHint,
    });
  }
  const firstWords = [...new Set(COMMANDS.map((entry) => entry.words[0]!))];
  // A word from another tool means its Kiln command; otherwise the closest spellings.
  const candidates = (Object.hasOwn(ALIASES, first) ? ALIASES[first]! : suggest(first, firstWords)).map(
    (word) => `kiln ${word}`,
  );
  return new KilnError('E_USAGE', `cannot run "kiln ${first}": no such command`, {
    hint: didYouMean(candidates, (s) => `"${s}"`) ?? 'run "kiln help" for the list of commands',
  });
}

/**
 * A usage error for what `util.parseArgs` refused, in one line, with the
 * option the user probably meant; instead of Node's own message.
 */
export function optionError(command: Command, error: Error & { code?: string }): KilnError {
  const words = `kiln ${command.words.join(' ')}`;
  const helpHint = `"${words} --help" lists its options`;
  const named = /'(-[^' ]+)/.exec(error.message)?.[1];
  const rows = optionRows(command);
  if (error.code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION' && named !== undefined) {
    const bare = named.replace(/^-+/, '').replace(/=.*$/, '');
    const longNames = rows.map((row) => row.name);
    const close = suggest(bare, longNames).map((name) => `--${name}`);
    return new KilnError('E_USAGE', `cannot run "${words}": unknown option ${named}`, {
      hint: didYouMean(close) ?? helpHint,
    });
  }
  if (error.code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE' && named !== undefined) {
    const name = named.replace(/^-+/, '');
    const row = rows.find((candidate) => candidate.name === name || candidate.short === name);
    if (row !== undefined && row.doc.value !== undefined) {
      return new KilnError('E_USAGE', `cannot run "${words}": --${row.name} needs a value (${row.doc.value})`, {
        hint: `write --${row.name} ${row.doc.value}; a value that starts with "-" is written --${row.name}=VALUE`,
      });
    }
    if (row !== undefined)
      return new KilnError('E_USAGE', `cannot run "${words}": --${row.name} takes no value`, { hint: helpHint });
  }
  return new KilnError('E_USAGE', `cannot run "${words}": ${error.message.split('. ')[0]}`, { hint: helpHint });
}

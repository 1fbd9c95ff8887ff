/**
 * Man pages, rendered from the tables `--help` uses (registry, usage texts,
 * optionHelp) and, for kiln.toml(5), from docs/config.md: `kiln(1)`, one
 * `kiln-WORDS(1)` per command, and `kiln.toml(5)`. Plain man(7) macros, so
 * that man-db, mandoc and groff all read them.
 */
import type { Command } from './command.js';
import { commandGroups, TAGLINE } from './help.js';
import { optionFlags, optionRows } from './optionHelp.js';

/** A page's file name (`kiln-repo-add.1`) and its roff source. */
export interface ManPage {
  readonly file: string;
  readonly text: string;
}

/**
 * Escapes text for roff: backslashes, hyphens (as minus signs, so that options
 * can be searched and pasted), a leading dot or quote that would start a
 * request, and every character past ASCII as a named Unicode escape (so that
 * the pages need no input encoding).
 */
export function roffEscape(text: string): string {
  return text
    .replace(/\\/g, '\\e')
    .replace(/-/g, '\\-')
    .replace(/^([.'])/gm, '\\&$1')
    .replace(/[^\x00-\x7e]/gu, (c) => `\\[u${c.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')}]`);
}

/** `roffEscape` plus the inline markup of Markdown: `code` and **bold** in bold, *em* in italics, [links](…) as their text. */
function inlineMarkdown(text: string): string {
  const pieces: string[] = [];
  const pattern = /`([^`]+)`|\*\*([^*]+)\*\*|\*([^*\s][^*]*)\*|\[([^\]]+)\]\([^)]*\)/g;
  let at = 0;
  for (let match = pattern.exec(text); match !== null; match = pattern.exec(text)) {
    pieces.push(roffEscape(text.slice(at, match.index)));
    if (match[1] !== undefined || match[2] !== undefined) pieces.push(`\\fB${roffEscape(match[1] ?? match[2]!)}\\fR`);
    else if (match[3] !== undefined) pieces.push(`\\fI${roffEscape(match[3])}\\fR`);
    else pieces.push(roffEscape(match[4]!));
    at = match.index + match[0].length;
  }
  pieces.push(roffEscape(text.slice(at)));
  // A line that now starts with a dot or quote (after markup) still must not read as a request.
  return pieces.join('').replace(/^([.'])/gm, '\\&$1');
}

function header(name: string, section: number, version: string, title: string): string {
  return `.TH ${name.toUpperCase().replace(/-/g, '\\-')} ${section} "" "Kiln ${version}" "${title}"\n`;
}

function pageName(words: readonly string[]): string {
  return `kiln-${words.join('-')}`;
}

/** The page of one command: name, synopsis (its usage), description, options, global options, see also. */
export function commandPage(command: Command, version: string): ManPage {
  const name = pageName(command.words);
  const [synopsis, ...rest] = command.usage.split('\n\n');
  const lines: string[] = [header(name, 1, version, 'Kiln Manual').trimEnd()];
  lines.push('.SH NAME', `${roffEscape(name)} \\- ${roffEscape(command.summary)}`);
  lines.push(
    '.SH SYNOPSIS',
    '.nf',
    roffEscape(
      synopsis!
        .split('\n')
        .filter((line) => line.startsWith('kiln ') || line.startsWith(' '))
        .join('\n') || synopsis!.split('\n')[0]!,
    ),
    '.fi',
  );
  const description = [
    ...synopsis!.split('\n').filter((line) => !line.startsWith('kiln ') && !line.startsWith(' ')),
    ...rest.flatMap((block) => block.split('\n')),
  ];
  const examples = description.filter((line) => /^Examples?: /.test(line));
  const prose = description.filter((line) => !/^Examples?: /.test(line));
  lines.push('.SH DESCRIPTION', `${roffEscape(command.summary.charAt(0).toUpperCase() + command.summary.slice(1))}.`);
  for (const line of prose)
    lines.push(
      line.trim() === '' ? '.PP' : line.startsWith('kiln ') ? `.PP\n.B ${roffEscape(line)}` : roffEscape(line),
    );
  const rows = optionRows(command);
  const own = rows.filter((row) => !row.global);
  if (own.length > 0) {
    lines.push('.SH OPTIONS');
    for (const row of own) lines.push('.TP', `.B ${roffEscape(optionFlags(row))}`, roffEscape(row.doc.text));
  }
  lines.push('.SH GLOBAL OPTIONS');
  for (const row of rows.filter((candidate) => candidate.global))
    lines.push('.TP', `.B ${roffEscape(optionFlags(row))}`, roffEscape(row.doc.text));
  if (examples.length > 0) {
    lines.push('.SH EXAMPLES');
    for (const line of examples) {
      for (const example of line.replace(/^Examples?: /, '').split(/ {3,}/))
        lines.push('.PP', '.nf', roffEscape(example.trim()), '.fi');
    }
  }
  lines.push(
    '.SH EXIT STATUS',
    '0 on success, 1 on an error, 2 on a usage error, 70 on a bug in Kiln, 130 when interrupted.',
  );
  lines.push('.SH SEE ALSO', '.BR kiln (1),', '.BR kiln.toml (5)');
  return { file: `${name}.1`, text: `${lines.join('\n')}\n` };
}

/** kiln(1): what Kiln is, every command with its page, the global options, the environment and the files. */
export function mainPage(commands: readonly Command[], version: string): ManPage {
  const lines: string[] = [header('kiln', 1, version, 'Kiln Manual').trimEnd()];
  lines.push('.SH NAME', `kiln \\- ${roffEscape(TAGLINE)}`);
  lines.push(
    '.SH SYNOPSIS',
    '.B kiln',
    '[\\fB\\-\\-prefix\\fR \\fIDIR\\fR] \\fICOMMAND\\fR [\\fIARGS\\fR...] [\\fB\\-\\-json\\fR] [\\fB\\-\\-help\\fR]',
  );
  lines.push(
    '.SH DESCRIPTION',
    "Kiln builds software from source recipes once per variant, publishes the results in a signed binary repository, and installs them into any prefix: a whole system as root, or a directory in a user's home without root. Each command has its own page, named after its words.",
  );
  lines.push('.SH COMMANDS');
  for (const command of commands) lines.push('.TP', `.BR ${pageName(command.words)} (1)`, roffEscape(command.summary));
  lines.push(
    '.PP',
    `Command groups: ${commandGroups().join(', ')}; \\fBkiln GROUP \\-\\-help\\fR lists a group's commands.`,
  );
  lines.push('.SH GLOBAL OPTIONS');
  for (const row of optionRows({ words: [], options: {} }))
    lines.push('.TP', `.B ${roffEscape(optionFlags(row))}`, roffEscape(row.doc.text));
  lines.push('.SH ENVIRONMENT');
  const environment: [string, string][] = [
    ['KILN_PREFIX', 'the prefix when \\-\\-prefix is not given (ignored when empty)'],
    ['KILN_CACHE', 'a package cache shared between prefixes'],
    ['KILN_RECIPES', 'the ports tree for builds'],
    ['KILN_KEY_PASSWORD', 'the password of an encrypted secret key'],
    ['NO_COLOR', 'no colour in the output'],
  ];
  for (const [variable, meaning] of environment) lines.push('.TP', `.B ${variable}`, meaning);
  lines.push('.SH FILES');
  for (const [path, meaning] of [
    ['PREFIX/etc/kiln/config.toml', "the prefix's configuration, see kiln.toml(5)"],
    ['PREFIX/var/lib/kiln/kiln.db', 'the installed-package database'],
    ['PREFIX/var/cache/kiln/packages/', 'downloaded packages'],
  ] as const) {
    lines.push('.TP', `.I ${roffEscape(path)}`, roffEscape(meaning));
  }
  lines.push(
    '.SH EXIT STATUS',
    '0 on success, 1 on an error, 2 on a usage error, 70 on a bug in Kiln, 130 when interrupted.',
  );
  lines.push(
    '.SH SEE ALSO',
    '.BR kiln.toml (5),',
    'and the documentation in docs/ of the Kiln source: commands.md, config.md, security.md.',
  );
  return { file: 'kiln.1', text: `${lines.join('\n')}\n` };
}

/**
 * A page rendered from a Markdown document of docs/: its first heading is the
 * page's description, `##` headings are sections, `###` subsections, fenced
 * blocks are shown as written, table rows become tagged paragraphs.
 */
export function markdownPage(
  file: string,
  section: number,
  markdown: string,
  summary: string,
  version: string,
): ManPage {
  const name = file.replace(/\.\d$/, '');
  const lines: string[] = [
    header(name, section, version, 'Kiln File Formats').trimEnd(),
    '.SH NAME',
    `${roffEscape(name)} \\- ${roffEscape(summary)}`,
  ];
  let inCode = false;
  let startedSection = false;
  for (const raw of markdown.split('\n')) {
    if (raw.startsWith('```')) {
      lines.push(inCode ? '.fi\n.RE' : '.RS 2\n.nf');
      inCode = !inCode;
      continue;
    }
    if (inCode) {
      lines.push(roffEscape(raw) || '\\&');
      continue;
    }
    const heading = /^(#{1,3}) (.*)$/.exec(raw);
    if (heading !== null) {
      const title = heading[2]!.replace(/`/g, '');
      if (heading[1] === '#') lines.push('.SH DESCRIPTION');
      else
        lines.push(
          heading[1] === '##'
            ? `.SH "${roffEscape(title.toUpperCase()).replace(/"/g, '')}"`
            : `.SS "${roffEscape(title).replace(/"/g, '')}"`,
        );
      startedSection = true;
      continue;
    }
    if (!startedSection) continue;
    if (/^\|[-| :]+\|$/.test(raw.trim())) continue;
    if (raw.startsWith('|')) {
      const cells = raw
        .split('|')
        .slice(1, -1)
        .map((cell) => cell.trim());
      lines.push(
        '.TP',
        inlineMarkdown(cells[0] ?? ''),
        inlineMarkdown(
          cells
            .slice(1)
            .filter((cell) => cell !== '')
            .join(' \u2014 '),
        ),
      );
      continue;
    }
    if (raw.trim() === '') {
      lines.push('.PP');
      continue;
    }
    const item = /^(\s*)(?:[-*]|\d+\.) (.*)$/.exec(raw);
    if (item !== null) {
      lines.push('.IP \\(bu 2', inlineMarkdown(item[2]!));
      continue;
    }
    lines.push(inlineMarkdown(raw.trim()));
  }
  // Collapse runs of paragraph breaks.
  const text = lines
    .join('\n')
    .replace(/(\n\.PP)+/g, '\n.PP')
    .replace(/\n\.PP\n(\.S[HS] )/g, '\n$1');
  return { file, text: `${text}\n` };
}

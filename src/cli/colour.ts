/**
 * Colour for what deserves it on a terminal: errors, warnings and notes, and
 * the actions of a plan. It is applied to text already escaped
 * (escapeText.ts), by the lines' shape, so nothing a package or index says can
 * choose a colour or send an escape sequence of its own. No colour off a
 * terminal, with NO_COLOR set (no-color.org) or TERM=dumb.
 */

const RESET = '\x1b[0m';
const STYLE = {
  error: '\x1b[1;31m',
  warning: '\x1b[1;33m',
  note: '\x1b[36m',
  hint: '\x1b[1m',
  add: '\x1b[32m',
  change: '\x1b[33m',
  remove: '\x1b[31m',
  heading: '\x1b[1m',
} as const;

/** Whether a stream gets colour. */
export function wantsColour(stream: NodeJS.WritableStream, env: NodeJS.ProcessEnv): boolean {
  return Boolean((stream as NodeJS.WriteStream).isTTY) && env['NO_COLOR'] === undefined && env['TERM'] !== 'dumb';
}

const ACTION: Readonly<Record<string, keyof typeof STYLE>> = {
  install: 'add',
  build: 'add',
  upgrade: 'change',
  downgrade: 'change',
  reinstall: 'change',
  change: 'change',
  mark: 'change',
  remove: 'remove',
};

/** `text` (escaped already) with its known line shapes coloured. */
export function colourLines(text: string): string {
  return text
    .split('\n')
    .map((line) => {
      let match = /^(kiln: (?:error\[[A-Z0-9_]+\]|internal error[^:]*):)(.*)$/.exec(line);
      if (match !== null) return `${STYLE.error}${match[1]}${RESET}${match[2]}`;
      match = /^((?:kiln: )?warning:)(.*)$/.exec(line);
      if (match !== null) return `${STYLE.warning}${match[1]}${RESET}${match[2]}`;
      match = /^((?:kiln: )?note:)(.*)$/.exec(line);
      if (match !== null) return `${STYLE.note}${match[1]}${RESET}${match[2]}`;
      match = /^(hint:)(.*)$/.exec(line);
      if (match !== null) return `${STYLE.hint}${match[1]}${RESET}${match[2]}`;
      match = /^( {2})([a-z]+)( .*)$/.exec(line);
      const style = match === null ? undefined : ACTION[match[2]!];
      if (match !== null && style !== undefined) return `${match[1]}${STYLE[style]}${match[2]}${RESET}${match[3]}`;
      return line;
    })
    .join('\n');
}

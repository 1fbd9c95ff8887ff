/**
 * A command is data plus a handler: its words, usage text and option table
 * (for `util.parseArgs`), and `run`, which returns data. Only `main.ts` prints.
 */
import type { ParseArgsConfig } from 'node:util';
import type { Settings } from './settings.js';

export type OptionTable = NonNullable<ParseArgsConfig['options']>;

export interface Invocation {
  /** The whole command line as given, after "kiln" (recorded in the prefix's history). */
  argv: readonly string[];
  /** Positional arguments after the command words. */
  positionals: string[];
  /** Parsed options (strings, booleans, or arrays for `multiple`). */
  values: Record<string, string | boolean | (string | boolean)[] | undefined>;
  settings: Settings;
  /** Ask a yes/no question on the terminal (main.ts owns the terminal). */
  confirm: (question: string) => Promise<boolean>;
  /** Write a line for people on stderr at once (progress, waiting, notices). */
  tell: (line: string) => void;
  /** Redraw a progress line on stderr (a terminal only); null clears it. */
  progress: (line: string | null) => void;
}

export interface CommandOutput {
  /** What `--json` prints. */
  data: unknown;
  /** What a person reads on stdout (defaults to nothing). */
  text?: string;
  /** Notes for people, printed on stderr. */
  notes?: string[];
  /** Exit status when not 0 without an error (for example problems found by `kiln verify`). */
  exitCode?: number;
}

export interface Command {
  /** Command words: ['repo', 'add']. */
  words: string[];
  summary: string;
  /** Usage lines after "kiln", with examples. */
  usage: string;
  options: OptionTable;
  /** SIGINT, SIGTERM and SIGHUP are the command's own (a server that stops gracefully), not an interruption. */
  handlesSignals?: boolean;
  run(invocation: Invocation): Promise<CommandOutput>;
}

/** Options every command accepts. */
export const COMMON_OPTIONS: OptionTable = {
  json: { type: 'boolean' },
  prefix: { type: 'string' },
  'no-wait': { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
};

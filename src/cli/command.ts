/**
 * A command is data plus a handler: its words, usage text and option table
 * (for `util.parseArgs`), and `run`, which returns data. Only `main.ts` prints.
 */
import type { ParseArgsConfig } from 'node:util';
import type { Settings } from './settings.js';

export type OptionTable = NonNullable<ParseArgsConfig['options']>;

export interface Invocation {
  /** Positional arguments after the command words. */
  positionals: string[];
  /** Parsed options (strings, booleans, or arrays for `multiple`). */
  values: Record<string, string | boolean | (string | boolean)[] | undefined>;
  settings: Settings;
}

export interface CommandOutput {
  /** What `--json` prints. */
  data: unknown;
  /** What a person reads on stdout (defaults to nothing). */
  text?: string;
  /** Notes for people, printed on stderr. */
  notes?: string[];
}

export interface Command {
  /** Command words: ['repo', 'add']. */
  words: string[];
  summary: string;
  /** Usage lines after "kiln", with examples. */
  usage: string;
  options: OptionTable;
  run(invocation: Invocation): Promise<CommandOutput>;
}

/** Options every command accepts. */
export const COMMON_OPTIONS: OptionTable = {
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
};

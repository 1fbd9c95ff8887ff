/** Reading positionals and option values in command handlers, with usage errors that name what is wrong. */
import { KilnError } from '../errors/index.js';
import type { Command, Invocation } from './command.js';

/**
 * The positional argument at `index`. An empty one is a usage error unless
 * `allowEmpty` (a search term): '' is never a name, and as a path it would
 * quietly mean the current directory.
 */
export function positional(
  invocation: Invocation,
  command: Pick<Command, 'usage' | 'words'>,
  index: number,
  name: string,
  allowEmpty = false,
): string {
  const value = invocation.positionals[index];
  if (value === undefined) throw usageError(command, `missing ${name}`);
  if (value === '' && !allowEmpty) throw usageError(command, `${name} is empty`);
  return value;
}

export function noMorePositionals(
  invocation: Invocation,
  command: Pick<Command, 'usage' | 'words'>,
  count: number,
): void {
  const extra = invocation.positionals[count];
  if (extra !== undefined) throw usageError(command, `unexpected argument "${extra}"`);
}

export function stringOption(invocation: Invocation, name: string): string | undefined {
  const value = invocation.values[name];
  return typeof value === 'string' ? value : undefined;
}

export function requiredOption(
  invocation: Invocation,
  command: Pick<Command, 'usage' | 'words'>,
  name: string,
): string {
  const value = stringOption(invocation, name);
  if (value === undefined) throw usageError(command, `missing --${name}`);
  return value;
}

export function listOption(invocation: Invocation, name: string): string[] {
  const value = invocation.values[name];
  if (Array.isArray(value)) return value.filter((item): item is string => typeof item === 'string');
  return typeof value === 'string' ? [value] : [];
}

export function flag(invocation: Invocation, name: string): boolean {
  return invocation.values[name] === true;
}

export function integerOption(
  invocation: Invocation,
  command: Pick<Command, 'usage' | 'words'>,
  name: string,
  min: number,
  max: number,
): number | undefined {
  const text = stringOption(invocation, name);
  if (text === undefined) return undefined;
  const value = Number(text);
  if (!/^\d+$/.test(text) || value < min || value > max)
    throw usageError(command, `--${name} must be a whole number from ${min} to ${max}, not "${text}"`);
  return value;
}

export function usageError(command: Pick<Command, 'usage' | 'words'>, problem: string): KilnError {
  return new KilnError('E_USAGE', `cannot run "kiln ${command.words.join(' ')}": ${problem}`, {
    hint: `usage:\n${command.usage}`,
  });
}

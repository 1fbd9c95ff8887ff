/**
 * Settings are resolved once, from defaults, environment and flags, into one
 * typed object before dispatch; handlers never read `process.env`.
 */
import { readFile } from 'node:fs/promises';
import { KilnError, isErrno } from '../errors/index.js';

export interface Settings {
  json: boolean;
  /** Colour and progress only when stderr is a terminal and NO_COLOR is unset. */
  color: boolean;
  /** Password for encrypted secret keys (KILN_KEY_PASSWORD or --password-file). */
  password: string | undefined;
  now: () => Date;
}

export interface SettingsInput {
  env: NodeJS.ProcessEnv;
  json: boolean;
  passwordFile: string | undefined;
  stderrIsTTY: boolean;
}

export async function resolveSettings(input: SettingsInput): Promise<Settings> {
  let password = input.env['KILN_KEY_PASSWORD'];
  if (input.passwordFile !== undefined) {
    try {
      password = (await readFile(input.passwordFile, 'utf8')).replace(/\r?\n$/, '');
    } catch (error) {
      if (isErrno(error, 'ENOENT')) throw new KilnError('E_IO', `cannot read password file ${input.passwordFile}: no such file`, { cause: error });
      throw error;
    }
  }
  // KILN_NOW pins the clock (ISO 8601), so that tests can check expiry without waiting.
  const pinned = input.env['KILN_NOW'];
  const pinnedTime = pinned === undefined ? undefined : Date.parse(pinned);
  if (pinnedTime !== undefined && Number.isNaN(pinnedTime)) {
    throw new KilnError('E_USAGE', `cannot use KILN_NOW=${pinned}: not an ISO 8601 time`, { hint: 'for example KILN_NOW=2026-01-31T12:00:00Z' });
  }
  return {
    json: input.json,
    color: input.stderrIsTTY && input.env['NO_COLOR'] === undefined,
    password,
    now: pinnedTime === undefined ? () => new Date() : () => new Date(pinnedTime),
  };
}

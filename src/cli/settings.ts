/**
 * Settings are resolved once, from defaults, environment and flags, into one
 * typed object before dispatch; handlers never read `process.env`.
 */
import { readFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { defaultPrefix } from '../config/prefixLayout.js';
import { KilnError, isErrno } from '../errors/index.js';

export interface Settings {
  json: boolean;
  /** Colour and progress only when stderr is a terminal and NO_COLOR is unset. */
  color: boolean;
  /** Password for encrypted secret keys (KILN_KEY_PASSWORD or --password-file). */
  password: string | undefined;
  now: () => Date;
  /** The prefix: --prefix, else KILN_PREFIX, else the default for this user. */
  prefix: string;
  /** Whether a second writer waits for the lock (false with --no-wait). */
  wait: boolean;
  /** Progress bars: only when stderr is a terminal. */
  progress: boolean;
  /** Whether questions can be asked (stdin and stderr are terminals). */
  interactive: boolean;
  /** KILN_TEST_KILL_AT_STEP: the crash-injection tests' hook (see PrefixOptions.killAtStep). */
  killAtStep: number | undefined;
  /** KILN_FARM_CATALOG: the build farm's catalog when --catalog is not given. */
  farmCatalog: string | undefined;
}

export interface SettingsInput {
  env: NodeJS.ProcessEnv;
  json: boolean;
  passwordFile: string | undefined;
  stderrIsTTY: boolean;
  stdinIsTTY?: boolean;
  prefix?: string | undefined;
  noWait?: boolean;
}

export async function resolveSettings(input: SettingsInput): Promise<Settings> {
  let password = input.env['KILN_KEY_PASSWORD'];
  if (input.passwordFile !== undefined) {
    try {
      password = (await readFile(input.passwordFile, 'utf8')).replace(/\r?\n$/, '');
    } catch (error) {
      if (isErrno(error, 'ENOENT'))
        throw new KilnError('E_IO', `cannot read password file ${input.passwordFile}: no such file`, { cause: error });
      throw error;
    }
  }
  // KILN_NOW pins the clock (ISO 8601), so that tests can check expiry without waiting.
  const pinned = input.env['KILN_NOW'];
  const pinnedTime = pinned === undefined ? undefined : Date.parse(pinned);
  if (pinnedTime !== undefined && Number.isNaN(pinnedTime)) {
    throw new KilnError('E_USAGE', `cannot use KILN_NOW=${pinned}: not an ISO 8601 time`, {
      hint: 'for example KILN_NOW=2026-01-31T12:00:00Z',
    });
  }
  const killText = input.env['KILN_TEST_KILL_AT_STEP'];
  const killAtStep = killText === undefined || killText === '' ? undefined : Number(killText);
  if (killAtStep !== undefined && !(Number.isInteger(killAtStep) && killAtStep > 0)) {
    throw new KilnError('E_USAGE', `cannot use KILN_TEST_KILL_AT_STEP=${killText}: not a positive whole number`);
  }
  const uid = process.getuid?.() ?? 0;
  if (input.prefix === '')
    throw new KilnError('E_USAGE', 'cannot use an empty prefix', {
      hint: 'give --prefix a directory; an empty KILN_PREFIX is ignored',
    });
  return {
    prefix: input.prefix ?? (input.env['KILN_PREFIX'] || defaultPrefix(uid, input.env['HOME'] ?? homedir())),
    wait: input.noWait !== true,
    progress: input.stderrIsTTY && !input.json,
    interactive: input.stderrIsTTY && input.stdinIsTTY === true,
    killAtStep,
    farmCatalog: input.env['KILN_FARM_CATALOG'] || undefined,
    json: input.json,
    color: input.stderrIsTTY && input.env['NO_COLOR'] === undefined,
    password,
    now: pinnedTime === undefined ? () => new Date() : () => new Date(pinnedTime),
  };
}

/**
 * A prefix's configuration file, `etc/kiln/config.toml` (docs/config.md):
 * what kind of prefix it is and which remotes it installs from, each with its
 * trusted keys and priority (Gentoo's binrepos.conf).
 */
import { shellQuote } from '../util/shellQuote.js';
import { readFile } from 'node:fs/promises';
import { stringify as stringifyToml } from 'smol-toml';
import { KilnError, isErrno } from '../errors/index.js';
import type { PublicKey } from '../sign/types.js';
import { parsePublicKey } from '../sign/parsePublicKey.js';
import type { CpuLevelSetting } from '../solver/cpuLevel.js';
import { X86_64_LEVELS } from '../solver/cpuLevel.js';
import { writeFileAtomic } from '../util/atomicWrite.js';
import type { Fail } from '../util/shape.js';
import { parseTomlDocument, placeSetting } from '../util/toml.js';
import { expectArray, expectInteger, expectObject, expectString } from '../util/shape.js';
import type { PrefixPaths } from './prefixLayout.js';
import { dict } from '../util/dict.js';
import type { TransferLimits } from '../remote/transferLimits.js';
import { DEFAULT_TRANSFER_LIMITS } from '../remote/transferLimits.js';

export const CONFIG_FORMAT = 1;

/**
 * `system`: the prefix is the root of a system (its own etc/passwd); as root,
 * users and groups are created there by name and owners and setuid bits are
 * applied. `user`: a directory tree; files belong to whoever installs.
 */
export type PrefixMode = 'system' | 'user';

export interface RemoteConfig {
  name: string;
  url: string;
  /** Trusted public keys, each the base64 line of a minisign public key. More than one during a key rotation. */
  keys: string[];
  /** Higher wins when several remotes offer a package. */
  priority: number;
  /** Other URLs of the same repository, tried in order when `url` fails, is too slow or serves an older serial. */
  mirrors?: string[];
  /** The key root `keys` come from (`kiln sync` follows rotations: docs/security.md); absent: the keys given, as root 0. */
  rootVersion?: number;
  /** That root's threshold (1 when absent). */
  rootThreshold?: number;
  /**
   * Keys of earlier roots, retired since: only a package's own signature may be
   * by one (the signed index pins the file, so a package published before the
   * rotation still installs); indexes and files given by path never.
   */
  retiredKeys?: string[];
}

export interface PrefixConfig {
  format: typeof CONFIG_FORMAT;
  mode: PrefixMode;
  /** Packages downloaded at once. */
  jobs: number;
  /** Flush file data to disk before the database records a transaction (off only for throw-away prefixes). */
  fsync: boolean;
  /** Refuse a change the file systems cannot hold, before anything is downloaded (`check-space`, as pacman's CheckSpace). */
  checkSpace: boolean;
  remotes: RemoteConfig[];
  /** How the resolver chooses (`[solver]`); absent settings take the solver's defaults. */
  solver: SolverSettings;
  /** A package cache shared with other prefixes (absolute path); unpacked packages there are hard-linked into the prefix. */
  cache?: string;
  /** The highest CPU level binaries and builds may have (`cpu-level`, `cpu-level-force`); absent: what the host runs. */
  cpuLevel?: CpuLevelSetting;
  /** Transfer limits (`min-rate` bytes/s, `min-rate-window` s, `fetch-deadline` s), each set only when written. */
  transfer?: { minRate?: number; rateWindowSeconds?: number; deadlineSeconds?: number };
}

/** The transfer limits of a configuration: the defaults, with what it sets. */
export function transferLimitsOf(config: Pick<PrefixConfig, 'transfer'>): TransferLimits {
  const set = config.transfer ?? {};
  return {
    minRate: set.minRate ?? DEFAULT_TRANSFER_LIMITS.minRate,
    rateWindowMs:
      set.rateWindowSeconds === undefined ? DEFAULT_TRANSFER_LIMITS.rateWindowMs : set.rateWindowSeconds * 1000,
    deadlineMs: set.deadlineSeconds === undefined ? DEFAULT_TRANSFER_LIMITS.deadlineMs : set.deadlineSeconds * 1000,
  };
}

/** The `[solver]` table (docs/config.md). */
export interface SolverSettings {
  /** Global option settings, like USE in make.conf: `+ssl`, `-gzip`. */
  options?: Record<string, boolean>;
  /** Per-package option settings by name pattern. */
  packageOptions?: { pattern: string; options: Record<string, boolean> }[];
  respectOptions?: boolean;
  binaryAllow?: string[];
  binaryDeny?: string[];
  acceptLicenses?: string[];
  /** Advisory ids whose packages may be installed all the same (`allow-advisories`). */
  allowAdvisories?: string[];
  /** Never removed implicitly (cascade, autoremove). */
  protected?: string[];
  /** Held at the version installed: upgrades leave them (and what would need them newer) as they are (`kiln hold`). */
  hold?: string[];
}

export const REMOTE_NAME_PATTERN = /^[A-Za-z0-9_][A-Za-z0-9_.-]*$/;
/** A remote's name is a directory name in the prefix (var/lib/kiln/indexes/NAME). */
export const MAX_REMOTE_NAME = 128;

export function defaultConfig(mode: PrefixMode): PrefixConfig {
  return { format: CONFIG_FORMAT, mode, jobs: 4, fsync: true, checkSpace: true, remotes: [], solver: {} };
}

export function parsePrefixConfig(text: string, path: string): PrefixConfig {
  const fail: Fail = (where, problem) => {
    throw new KilnError('E_CONFIG', `cannot read ${path}: ${placeSetting(text, where)} ${problem}`, {
      hint: 'fix the file; docs/config.md describes every setting',
    });
  };
  const data = parseTomlDocument(text, fail);
  const table = expectObject(data, '(top level)', fail, [
    'format',
    'mode',
    'jobs',
    'fsync',
    'check-space',
    'remotes',
    'solver',
    'cache',
    'cpu-level',
    'cpu-level-force',
    'min-rate',
    'min-rate-window',
    'fetch-deadline',
  ]);
  if (table['format'] !== CONFIG_FORMAT) fail('format', `must be ${CONFIG_FORMAT}`);
  const mode = table['mode'] ?? 'user';
  if (mode !== 'user' && mode !== 'system') fail('mode', 'must be "user" or "system"');
  const fsync = table['fsync'] ?? true;
  if (typeof fsync !== 'boolean') fail('fsync', 'must be true or false');
  const checkSpace = table['check-space'] ?? true;
  if (typeof checkSpace !== 'boolean') fail('check-space', 'must be true or false');
  const cache = table['cache'] === undefined ? undefined : expectString(table['cache'], 'cache', fail);
  if (cache !== undefined && !cache.startsWith('/')) fail('cache', 'must be an absolute path');
  const cpuLevel = parseCpuLevel(table, fail);
  const transfer: NonNullable<PrefixConfig['transfer']> = {};
  if (table['min-rate'] !== undefined)
    transfer.minRate = expectInteger(table['min-rate'], 'min-rate', fail, 0, 1 << 30);
  if (table['min-rate-window'] !== undefined)
    transfer.rateWindowSeconds = expectInteger(table['min-rate-window'], 'min-rate-window', fail, 1, 3600);
  if (table['fetch-deadline'] !== undefined)
    transfer.deadlineSeconds = expectInteger(table['fetch-deadline'], 'fetch-deadline', fail, 1, 7 * 24 * 3600);
  const remotes: RemoteConfig[] = [];
  const remoteTable = expectObject(table['remotes'] ?? {}, 'remotes', fail);
  for (const [name, value] of Object.entries(remoteTable)) {
    const where = `remotes.${name}`;
    if (!REMOTE_NAME_PATTERN.test(name) || name.length > MAX_REMOTE_NAME)
      fail(where, `is not a valid remote name (up to ${MAX_REMOTE_NAME} letters, digits, "_", "-", ".")`);
    const remote = expectObject(value, where, fail, [
      'url',
      'keys',
      'priority',
      'mirrors',
      'root-version',
      'root-threshold',
      'retired-keys',
    ]);
    const keys = expectArray(remote['keys'], `${where}.keys`, fail).map((key, i) =>
      expectString(key, `${where}.keys[${i}]`, fail),
    );
    if (keys.length === 0) fail(`${where}.keys`, 'must name at least one trusted key');
    for (const key of keys) parsePublicKey(key, `${path} (${where}.keys)`);
    const mirrors =
      remote['mirrors'] === undefined
        ? []
        : expectArray(remote['mirrors'], `${where}.mirrors`, fail).map((url, i) =>
            expectString(url, `${where}.mirrors[${i}]`, fail),
          );
    remotes.push({
      name,
      url: expectString(remote['url'], `${where}.url`, fail),
      keys,
      priority: expectInteger(remote['priority'] ?? 0, `${where}.priority`, fail, -1000, 1000),
      ...(mirrors.length > 0 ? { mirrors } : {}),
      ...(remote['root-version'] === undefined
        ? {}
        : { rootVersion: expectInteger(remote['root-version'], `${where}.root-version`, fail, 0) }),
      ...(remote['root-threshold'] === undefined
        ? {}
        : { rootThreshold: expectInteger(remote['root-threshold'], `${where}.root-threshold`, fail, 1, keys.length) }),
      ...(remote['retired-keys'] === undefined
        ? {}
        : {
            retiredKeys: expectArray(remote['retired-keys'], `${where}.retired-keys`, fail).map((key, i) => {
              const text = expectString(key, `${where}.retired-keys[${i}]`, fail);
              parsePublicKey(text, `${path} (${where}.retired-keys)`);
              return text;
            }),
          }),
    });
  }
  return {
    format: CONFIG_FORMAT,
    mode: mode as PrefixMode,
    jobs: expectInteger(table['jobs'] ?? 4, 'jobs', fail, 1, 64),
    fsync: fsync as boolean,
    checkSpace: checkSpace as boolean,
    remotes,
    solver: parseSolverSettings(table['solver'], fail),
    ...(cache === undefined ? {} : { cache }),
    ...(cpuLevel === undefined ? {} : { cpuLevel }),
    ...(Object.keys(transfer).length === 0 ? {} : { transfer }),
  };
}

function parseCpuLevel(table: Record<string, unknown>, fail: Fail): CpuLevelSetting | undefined {
  const force = table['cpu-level-force'] ?? false;
  if (typeof force !== 'boolean') fail('cpu-level-force', 'must be true or false');
  if (table['cpu-level'] === undefined) {
    // Forcing nothing is a sign of a typo in cpu-level, not a setting.
    if (table['cpu-level-force'] !== undefined) fail('cpu-level-force', 'needs a cpu-level to force');
    return undefined;
  }
  const level = expectString(table['cpu-level'], 'cpu-level', fail);
  const known: readonly string[] = X86_64_LEVELS;
  if (!known.includes(level))
    fail('cpu-level', `${JSON.stringify(level)} is not a CPU level Kiln knows (${known.join(', ')})`);
  return { level, force };
}

function parseSolverSettings(value: unknown, fail: Fail): SolverSettings {
  if (value === undefined) return {};
  const table = expectObject(value, 'solver', fail, [
    'options',
    'package-options',
    'respect-options',
    'binary-allow',
    'binary-deny',
    'accept-licenses',
    'allow-advisories',
    'protected',
    'hold',
  ]);
  const strings = (key: string, pattern: RegExp, what: string): string[] | undefined => {
    if (table[key] === undefined) return undefined;
    return expectArray(table[key], `solver.${key}`, fail).map((item, i) => {
      const text = expectString(item, `solver.${key}[${i}]`, fail);
      if (!pattern.test(text)) fail(`solver.${key}[${i}]`, `${JSON.stringify(text)} is not ${what}`);
      return text;
    });
  };
  const settings = (list: string[]): Record<string, boolean> =>
    Object.fromEntries(list.map((item) => [item.replace(/^[+-]/, ''), !item.startsWith('-')]));
  const OPTION = /^[+-]?[a-z0-9][a-z0-9_-]*$/;
  const NAME_PATTERN = /^[A-Za-z0-9+_.*?-]+$/;
  const out: SolverSettings = {};
  const options = strings('options', OPTION, 'an option setting such as "+ssl" or "-gzip"');
  if (options !== undefined) out.options = settings(options);
  if (table['package-options'] !== undefined) {
    const perPackage = expectObject(table['package-options'], 'solver.package-options', fail);
    out.packageOptions = Object.entries(perPackage).map(([pattern, list]) => {
      if (!NAME_PATTERN.test(pattern)) fail(`solver.package-options.${pattern}`, 'is not a name pattern');
      return {
        pattern,
        options: settings(
          expectArray(list, `solver.package-options.${pattern}`, fail).map((item, i) => {
            const text = expectString(item, `solver.package-options.${pattern}[${i}]`, fail);
            if (!OPTION.test(text))
              fail(
                `solver.package-options.${pattern}[${i}]`,
                `${JSON.stringify(text)} is not an option setting such as "+uwsgi"`,
              );
            return text;
          }),
        ),
      };
    });
  }
  if (table['respect-options'] !== undefined) {
    if (typeof table['respect-options'] !== 'boolean') fail('solver.respect-options', 'must be true or false');
    out.respectOptions = table['respect-options'];
  }
  const allow = strings('binary-allow', NAME_PATTERN, 'a name pattern ("*" and "?" as wildcards)');
  if (allow !== undefined) out.binaryAllow = allow;
  const deny = strings('binary-deny', NAME_PATTERN, 'a name pattern ("*" and "?" as wildcards)');
  if (deny !== undefined) out.binaryDeny = deny;
  const licenses = strings('accept-licenses', /^[A-Za-z0-9.+-]+$/, 'an SPDX license id');
  if (licenses !== undefined) out.acceptLicenses = licenses;
  const allowed = strings('allow-advisories', /^[A-Za-z][A-Za-z0-9]*-[A-Za-z0-9._:-]{1,100}$/, 'an advisory id');
  if (allowed !== undefined) out.allowAdvisories = allowed;
  const protectedNames = strings('protected', /^[A-Za-z0-9_][A-Za-z0-9+_.-]*$/, 'a package name');
  if (protectedNames !== undefined) out.protected = protectedNames;
  const held = strings('hold', /^[A-Za-z0-9_][A-Za-z0-9+_-]*$/, 'a package name');
  if (held !== undefined) out.hold = held;
  return out;
}

function formatSolverSettings(settings: SolverSettings): Record<string, unknown> | undefined {
  const flags = (options: Record<string, boolean>): string[] =>
    Object.entries(options).map(([name, on]) => (on ? '+' : '-') + name);
  const out: Record<string, unknown> = dict();
  if (settings.options !== undefined) out['options'] = flags(settings.options);
  if (settings.respectOptions !== undefined) out['respect-options'] = settings.respectOptions;
  if (settings.binaryAllow !== undefined) out['binary-allow'] = settings.binaryAllow;
  if (settings.binaryDeny !== undefined) out['binary-deny'] = settings.binaryDeny;
  if (settings.acceptLicenses !== undefined) out['accept-licenses'] = settings.acceptLicenses;
  if (settings.allowAdvisories !== undefined) out['allow-advisories'] = settings.allowAdvisories;
  if (settings.protected !== undefined) out['protected'] = settings.protected;
  if (settings.hold !== undefined && settings.hold.length > 0) out['hold'] = settings.hold;
  if (settings.packageOptions !== undefined)
    out['package-options'] = Object.fromEntries(
      settings.packageOptions.map((entry) => [entry.pattern, flags(entry.options)]),
    );
  return Object.keys(out).length === 0 ? undefined : out;
}

export function formatPrefixConfig(config: PrefixConfig): string {
  const remotes: Record<string, unknown> = dict();
  for (const remote of config.remotes)
    remotes[remote.name] = {
      url: remote.url,
      ...(remote.mirrors === undefined || remote.mirrors.length === 0 ? {} : { mirrors: remote.mirrors }),
      priority: remote.priority,
      keys: remote.keys,
      ...(remote.rootVersion === undefined ? {} : { 'root-version': remote.rootVersion }),
      ...(remote.rootThreshold === undefined ? {} : { 'root-threshold': remote.rootThreshold }),
      ...(remote.retiredKeys === undefined || remote.retiredKeys.length === 0
        ? {}
        : { 'retired-keys': remote.retiredKeys }),
    };
  const solver = formatSolverSettings(config.solver);
  const cpu =
    config.cpuLevel === undefined
      ? {}
      : { 'cpu-level': config.cpuLevel.level, ...(config.cpuLevel.force ? { 'cpu-level-force': true } : {}) };
  const t = config.transfer ?? {};
  const transfer = {
    ...(t.minRate === undefined ? {} : { 'min-rate': t.minRate }),
    ...(t.rateWindowSeconds === undefined ? {} : { 'min-rate-window': t.rateWindowSeconds }),
    ...(t.deadlineSeconds === undefined ? {} : { 'fetch-deadline': t.deadlineSeconds }),
  };
  const body = stringifyToml({
    format: config.format,
    mode: config.mode,
    jobs: config.jobs,
    fsync: config.fsync,
    ...(config.checkSpace ? {} : { 'check-space': false }),
    ...(config.cache === undefined ? {} : { cache: config.cache }),
    ...cpu,
    ...transfer,
    remotes,
    ...(solver === undefined ? {} : { solver }),
  });
  return `# Kiln prefix configuration (docs/config.md).\n${body}\n`;
}

export async function readPrefixConfig(paths: PrefixPaths): Promise<PrefixConfig> {
  let text: string;
  try {
    text = await readFile(paths.config, 'utf8');
  } catch (error) {
    if (isErrno(error, 'ENOENT') || isErrno(error, 'ENOTDIR')) {
      throw new KilnError('E_PREFIX_NOT_FOUND', `cannot open prefix ${paths.root}: it has no ${paths.config}`, {
        hint: `create it with "kiln --prefix ${shellQuote(paths.root)} init"`,
        cause: error,
      });
    }
    throw error;
  }
  return parsePrefixConfig(text, paths.config);
}

export async function writePrefixConfig(paths: PrefixPaths, config: PrefixConfig): Promise<void> {
  // A remote URL with credentials in it makes the file a secret.
  const secret = config.remotes.some((remote) => /^[a-z]+:\/\/[^/]*@/i.test(remote.url));
  await writeFileAtomic(paths.config, formatPrefixConfig(config), { mode: secret ? 0o600 : 0o644 });
}

/** The trusted keys of a remote, parsed. */
export function remoteKeys(remote: RemoteConfig, path: string): PublicKey[] {
  return remote.keys.map((key) => parsePublicKey(key, `${path} (remotes.${remote.name}.keys)`));
}

/**
 * Users and groups of a system root, created by name at install time the way
 * pkgsrc does it: a package names the accounts it needs, and the numeric ids
 * are allocated on the target, in `ROOT/etc/passwd` and `ROOT/etc/group`.
 *
 * Accounts that already exist are looked up, never modified. Every file is
 * replaced atomically, groups before users, so that a crash never leaves a user
 * whose primary group is missing, and running again finishes the job.
 */
import type { Stats } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import { chmod, chown, mkdir, open, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { KilnError, isErrno } from '../errors/index.js';
import type { GroupSpec, UserSpec } from '../format/metadata.js';
import { ACCOUNT_PATTERN } from '../format/metadata.js';
import { writeFileAtomic } from '../util/atomicWrite.js';
import { ioError } from '../util/ioError.js';

/** The accounts of a system root, by name. The first entry of a name wins, as with getpwnam(3). */
export interface AccountTable {
  users: Map<string, { uid: number; gid: number }>;
  groups: Map<string, number>;
}

interface IdRange {
  first: number;
  last: number;
}

/** Ids for system accounts (`system: true`) and for the others. */
const SYSTEM_IDS: IdRange = { first: 100, last: 999 };
const REGULAR_IDS: IdRange = { first: 1000, last: 59999 };
const MAX_ID = 0xffff_ffff;
const DAY_MS = 86_400_000;

const ROOT_USER_LINE = 'root:x:0:0:root:/root:/bin/sh';
const ROOT_GROUP_LINE = 'root:x:0:';
const DEFAULT_HOME = '/nonexistent';
const DEFAULT_SHELL = '/usr/sbin/nologin';
const ACCOUNT_NAME_RULE =
  'lower-case letters, digits, "_" and "-", starting with a letter or "_", at most 32 characters';

/** One of the four account files, as read: raw bytes (kept byte for byte on rewrite) and its stat. */
interface AccountFile {
  path: string;
  content: Buffer | undefined;
  stats: Stats | undefined;
}

/**
 * Read the users and groups of the system root `root` from `root/etc/passwd`
 * and `root/etc/group`. A missing file is an empty table. Blank lines, `#`
 * comments and NIS `+`/`-` lines are skipped; any other malformed line is an
 * E_ACCOUNT error naming the file and line.
 *
 * @example
 * const table = await readAccounts('/');
 * table.users.get('root'); // { uid: 0, gid: 0 }
 */
export async function readAccounts(root: string): Promise<AccountTable> {
  const etc = join(root, 'etc');
  const [passwd, group] = await Promise.all([
    readAccountFile(join(etc, 'passwd')),
    readAccountFile(join(etc, 'group')),
  ]);
  return { users: parsePasswd(passwd), groups: parseGroup(group) };
}

/**
 * Make sure the given groups and users exist in the system root `root`,
 * creating the missing ones: first the groups (those declared, plus the
 * primary group of each new user, which defaults to a group named like the
 * user), then the users. System accounts get the lowest free id in 100..999,
 * the others the lowest free id in 1000..59999; a new user takes uid = its
 * primary gid when that uid is free and in its range.
 *
 * A new line goes to `etc/shadow` and `etc/gshadow` (locked password) when
 * those files exist. A missing `etc/passwd` or `etc/group` is created with the
 * root account as soon as any account is asked for. Running it twice creates
 * nothing the second time.
 *
 * @example
 * const { createdUsers, table } = await ensureAccounts(root, [{ name: 'nginx', system: true }], []);
 * // createdUsers: ['nginx']; etc/group gains "nginx:x:100:", etc/passwd
 * // "nginx:x:100:100::/nonexistent:/usr/sbin/nologin"
 */
export async function ensureAccounts(
  root: string,
  users: readonly UserSpec[],
  groups: readonly GroupSpec[],
): Promise<{ createdUsers: string[]; createdGroups: string[]; table: AccountTable }> {
  checkSpecs(users, groups);
  const etc = join(root, 'etc');
  const passwdFile = await readAccountFile(join(etc, 'passwd'));
  const groupFile = await readAccountFile(join(etc, 'group'));
  const table: AccountTable = { users: parsePasswd(passwdFile), groups: parseGroup(groupFile) };
  const wanted = users.length > 0 || groups.length > 0;
  // A file about to be created starts with the root account: count it now so
  // that "root" is never created a second time.
  const createPasswd = wanted && passwdFile.content === undefined;
  const createGroup = wanted && groupFile.content === undefined;
  if (createPasswd && !table.users.has('root')) table.users.set('root', { uid: 0, gid: 0 });
  if (createGroup && !table.groups.has('root')) table.groups.set('root', 0);

  const newUsers = new Map<string, UserSpec>();
  for (const user of users) if (!table.users.has(user.name) && !newUsers.has(user.name)) newUsers.set(user.name, user);
  // Group name → system flag, in order: declared groups, then primary groups of new users.
  const wantedGroups = new Map<string, boolean>();
  for (const group of groups) if (!wantedGroups.has(group.name)) wantedGroups.set(group.name, group.system);
  for (const user of newUsers.values()) {
    const primary = primaryGroupOf(user);
    if (!wantedGroups.has(primary)) wantedGroups.set(primary, user.system);
  }

  const usedGids = new Set(table.groups.values());
  const createdGroups: string[] = [];
  const groupLines: string[] = [];
  for (const [name, system] of wantedGroups) {
    if (table.groups.has(name)) continue;
    const range = system ? SYSTEM_IDS : REGULAR_IDS;
    const gid = lowestFree(usedGids, range);
    if (gid === undefined) throw noFreeId('group', name, 'gid', range, groupFile.path);
    usedGids.add(gid);
    table.groups.set(name, gid);
    createdGroups.push(name);
    groupLines.push(`${name}:x:${gid}:`);
  }

  const usedUids = new Set([...table.users.values()].map((ids) => ids.uid));
  const createdUsers: string[] = [];
  const userLines: string[] = [];
  for (const user of newUsers.values()) {
    const gid = table.groups.get(primaryGroupOf(user));
    if (gid === undefined) throw new Error(`Assertion failed: primary group of ${user.name} was not created`);
    const range = user.system ? SYSTEM_IDS : REGULAR_IDS;
    const uid = inRange(gid, range) && !usedUids.has(gid) ? gid : lowestFree(usedUids, range);
    if (uid === undefined) throw noFreeId('user', user.name, 'uid', range, passwdFile.path);
    usedUids.add(uid);
    table.users.set(user.name, { uid, gid });
    createdUsers.push(user.name);
    const home = user.home === undefined ? DEFAULT_HOME : `/${user.home}`;
    userLines.push(`${user.name}:x:${uid}:${gid}:${user.comment ?? ''}:${home}:${user.shell ?? DEFAULT_SHELL}`);
  }

  const writeGroup = createGroup || groupLines.length > 0;
  const writePasswd = createPasswd || userLines.length > 0;
  if (!writeGroup && !writePasswd) return { createdUsers, createdGroups, table };

  // Read the shadow files before changing anything, so that an unreadable one
  // stops the install with nothing half done.
  const gshadowFile = createdGroups.length > 0 ? await readAccountFile(join(etc, 'gshadow')) : undefined;
  const shadowFile = createdUsers.length > 0 ? await readAccountFile(join(etc, 'shadow')) : undefined;
  if (createPasswd || createGroup) await makeDirectory(etc);

  // Each shadow file is written before its main file: after a crash in
  // between, the next run sees the account as missing and writes its shadow
  // line again, replacing the one left behind.
  if (gshadowFile?.content !== undefined) {
    await replaceFile(
      gshadowFile,
      withLines(
        gshadowFile.content,
        new Set(createdGroups),
        createdGroups.map((name) => `${name}:!::`),
      ),
      0o640,
    );
  }
  if (writeGroup)
    await replaceFile(
      groupFile,
      withLines(groupFile.content ?? Buffer.from(`${ROOT_GROUP_LINE}\n`), new Set(), groupLines),
      0o644,
    );
  if (shadowFile?.content !== undefined) {
    const days = Math.floor(Date.now() / DAY_MS);
    await replaceFile(
      shadowFile,
      withLines(
        shadowFile.content,
        new Set(createdUsers),
        createdUsers.map((name) => `${name}:!:${days}::::::`),
      ),
      0o640,
    );
  }
  if (writePasswd)
    await replaceFile(
      passwdFile,
      withLines(passwdFile.content ?? Buffer.from(`${ROOT_USER_LINE}\n`), new Set(), userLines),
      0o644,
    );
  return { createdUsers, createdGroups, table };
}

/**
 * The numeric ids for a file's owner and group, by name. `where` names the
 * file or directory in the message.
 *
 * @example
 * accountIds(table, 'nginx', 'www', 'var/log/nginx'); // { uid: 101, gid: 100 }
 */
export function accountIds(
  table: AccountTable,
  owner: string,
  group: string,
  where: string,
): { uid: number; gid: number } {
  // root is uid and gid 0 on every system, even a fresh root directory without etc/passwd.
  const user = table.users.get(owner) ?? (owner === 'root' ? { uid: 0, gid: 0 } : undefined);
  if (user === undefined) {
    throw new KilnError(
      'E_ACCOUNT',
      `cannot apply owner ${owner} to ${where}: no such user in etc/passwd of the system root`,
      {
        hint: `the package does not declare user ${owner}; create it on the system first (useradd ${owner}) or ask the packager to declare it`,
      },
    );
  }
  const gid = table.groups.get(group) ?? (group === 'root' ? 0 : undefined);
  if (gid === undefined) {
    throw new KilnError(
      'E_ACCOUNT',
      `cannot apply group ${group} to ${where}: no such group in etc/group of the system root`,
      {
        hint: `the package does not declare group ${group}; create it on the system first (groupadd ${group}) or ask the packager to declare it`,
      },
    );
  }
  return { uid: user.uid, gid };
}

function primaryGroupOf(user: UserSpec): string {
  return user.group ?? user.name;
}

/** Reject names and fields that would not make one valid passwd or group line. */
function checkSpecs(users: readonly UserSpec[], groups: readonly GroupSpec[]): void {
  for (const group of groups) checkName(group.name, 'group', `group ${JSON.stringify(group.name)}`);
  for (const user of users) {
    const subject = `user ${JSON.stringify(user.name)}`;
    checkName(user.name, 'user', subject);
    if (user.group !== undefined) checkName(user.group, 'group', `the primary group of ${subject}`);
    for (const [field, value] of [
      ['comment', user.comment],
      ['home', user.home],
      ['shell', user.shell],
    ] as const) {
      if (value !== undefined && /[:\n\r\0]/.test(value)) {
        throw new KilnError(
          'E_ACCOUNT',
          `cannot create ${subject}: its ${field} ${JSON.stringify(value)} contains ":", a line break or a NUL`,
          {
            hint: 'the package metadata is invalid; report it to the packager',
          },
        );
      }
    }
  }
}

function checkName(name: string, kind: 'user' | 'group', subject: string): void {
  if (ACCOUNT_PATTERN.test(name)) return;
  throw new KilnError('E_ACCOUNT', `cannot create ${subject}: ${JSON.stringify(name)} is not a valid ${kind} name`, {
    hint: `account names are ${ACCOUNT_NAME_RULE}; the package metadata is invalid, report it to the packager`,
  });
}

function inRange(id: number, range: IdRange): boolean {
  return id >= range.first && id <= range.last;
}

function lowestFree(used: ReadonlySet<number>, range: IdRange): number | undefined {
  for (let id = range.first; id <= range.last; id++) if (!used.has(id)) return id;
  return undefined;
}

function noFreeId(
  kind: 'user' | 'group',
  name: string,
  idName: 'uid' | 'gid',
  range: IdRange,
  path: string,
): KilnError {
  const system = range === SYSTEM_IDS ? 'system ' : '';
  return new KilnError(
    'E_ACCOUNT',
    `cannot create ${system}${kind} ${name} in ${path}: no free ${idName} in ${range.first}..${range.last}`,
    {
      hint: `every ${idName} in that range is taken; remove ${kind}s that are no longer used from ${path}`,
    },
  );
}

function parsePasswd(file: AccountFile): Map<string, { uid: number; gid: number }> {
  const users = new Map<string, { uid: number; gid: number }>();
  for (const { fields, line } of entries(file)) {
    if (fields.length !== 7)
      malformed(file.path, line, `has ${fields.length} fields, expected 7 (name:password:uid:gid:comment:home:shell)`);
    const [name = '', , uidText = '', gidText = ''] = fields;
    if (name === '') malformed(file.path, line, 'has an empty user name');
    const uid = parseId(uidText, file.path, line, 'uid');
    const gid = parseId(gidText, file.path, line, 'gid');
    if (!users.has(name)) users.set(name, { uid, gid });
  }
  return users;
}

function parseGroup(file: AccountFile): Map<string, number> {
  const groups = new Map<string, number>();
  for (const { fields, line } of entries(file)) {
    if (fields.length !== 4)
      malformed(file.path, line, `has ${fields.length} fields, expected 4 (name:password:gid:members)`);
    const [name = '', , gidText = ''] = fields;
    if (name === '') malformed(file.path, line, 'has an empty group name');
    const gid = parseId(gidText, file.path, line, 'gid');
    if (!groups.has(name)) groups.set(name, gid);
  }
  return groups;
}

/** The entries of an account file with their 1-based line numbers, without blank, comment and NIS lines. */
function* entries(file: AccountFile): Generator<{ fields: string[]; line: number }> {
  if (file.content === undefined) return;
  const lines = file.content.toString('utf8').split('\n');
  for (const [index, text] of lines.entries()) {
    if (isIgnored(text)) continue;
    yield { fields: text.split(':'), line: index + 1 };
  }
}

/** Blank lines, `#` comments and NIS compat lines (`+name`, `-name`, `+@netgroup`, `+`). */
function isIgnored(line: string): boolean {
  const text = line.trimStart();
  return text === '' || text.startsWith('#') || text.startsWith('+') || text.startsWith('-');
}

function parseId(text: string, path: string, line: number, idName: 'uid' | 'gid'): number {
  const id = /^\d{1,10}$/.test(text) ? Number(text) : NaN;
  if (!(id <= MAX_ID))
    malformed(path, line, `has ${idName} ${JSON.stringify(text)}, which is not a number from 0 to ${MAX_ID}`);
  return id;
}

function malformed(path: string, line: number, problem: string): never {
  throw new KilnError('E_ACCOUNT', `cannot read ${path}: line ${line} ${problem}`, {
    hint: `fix or remove line ${line} of ${path}; Kiln reads existing entries but never changes them`,
  });
}

/**
 * `content` without the entries named in `drop`, then `lines`. Bytes are kept
 * as they are (latin1 maps each byte to one code unit and back), so an
 * existing entry in another encoding survives the rewrite.
 */
function withLines(content: Buffer, drop: ReadonlySet<string>, lines: readonly string[]): Buffer {
  let text = content.toString('latin1');
  if (drop.size > 0) {
    text = text
      .split('\n')
      .filter((line) => isIgnored(line) || !drop.has(line.split(':', 1)[0] ?? ''))
      .join('\n');
  }
  if (text !== '' && !text.endsWith('\n')) text += '\n';
  const added = lines.map((line) => `${line}\n`).join('');
  return Buffer.concat([Buffer.from(text, 'latin1'), Buffer.from(added, 'utf8')]);
}

async function readAccountFile(path: string): Promise<AccountFile> {
  let handle: FileHandle;
  try {
    handle = await open(path, 'r');
  } catch (error) {
    if (isErrno(error, 'ENOENT')) return { path, content: undefined, stats: undefined };
    throw ioError(error, 'read', path) ?? error;
  }
  try {
    const stats = await handle.stat();
    return { path, content: await handle.readFile(), stats };
  } catch (error) {
    throw ioError(error, 'read', path) ?? error;
  } finally {
    await handle.close();
  }
}

async function makeDirectory(path: string): Promise<void> {
  try {
    await mkdir(path, { recursive: true });
  } catch (error) {
    if (isErrno(error, 'EEXIST'))
      throw new KilnError('E_IO', `cannot create directory ${path}: it exists and is not a directory`, {
        cause: error,
      });
    throw ioError(error, 'create directory', path) ?? error;
  }
}

/**
 * Replace an account file, keeping its mode and, where permitted, its owner
 * and group (a new file gets `newMode`). The umask can only narrow the mode
 * the file is created with, so the chmod that follows never widens access
 * beyond what was asked.
 */
async function replaceFile(file: AccountFile, data: Buffer, newMode: number): Promise<void> {
  const mode = file.stats === undefined ? newMode : file.stats.mode & 0o7777;
  try {
    await writeFileAtomic(file.path, data, { mode });
    await chmod(file.path, mode);
    if (file.stats !== undefined) {
      const now = await stat(file.path);
      if (now.uid !== file.stats.uid || now.gid !== file.stats.gid)
        await chownIfPermitted(file.path, file.stats.uid, file.stats.gid);
    }
  } catch (error) {
    throw ioError(error, 'write', file.path) ?? error;
  }
}

/** Only root can give a file away; an unprivileged install into a root it owns keeps its own ownership. */
async function chownIfPermitted(path: string, uid: number, gid: number): Promise<void> {
  try {
    await chown(path, uid, gid);
  } catch (error) {
    if (!isErrno(error, 'EPERM')) throw error;
  }
}

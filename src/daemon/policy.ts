/**
 * kilnd's policy: who may change the system prefix, in PackageKit-like verbs
 * (`/etc/kiln/policy.toml` for the prefix `/`; docs/kilnd.md).
 *
 * ```toml
 * [[rule]]
 * groups = ["staff"]
 * verbs = ["install"]
 * remotes = ["main"]           # where the packages may come from (install, upgrade)
 * packages = ["*"]             # globs over package names (install, remove, upgrade)
 *
 * [[rule]]
 * users = ["*"]
 * verbs = ["sync", "upgrade"]
 *
 * [[rule]]
 * effect = "deny"
 * users = ["*"]
 * verbs = ["add-remote"]
 * ```
 *
 * Rules are read in order and the first that matches decides: its `effect`,
 * `allow` unless it says `deny`. A rule matches a caller named in `users`
 * (names or numeric uids, `*` for everyone) or in one of `groups`; a verb in
 * `verbs` (`*` for every verb); and, when it lists them, every package of the
 * request against `packages` and the remote against `remotes`. A request that
 * names several packages is allowed only when each is. No rule matching is a
 * denial: by default only root may change anything. Root (uid 0) is always
 * allowed, by the implicit rule 0.
 *
 * Every decision names the rule that made it, for the log and for `kiln
 * policy check`.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { KilnError } from '../errors/index.js';
import type { Fail } from '../util/shape.js';
import { expectArray, expectObject, expectString } from '../util/shape.js';
import { parseTomlDocument } from '../util/toml.js';

export const VERBS = ['install', 'remove', 'upgrade', 'sync', 'add-remote'] as const;
export type Verb = (typeof VERBS)[number];

export interface PolicyRule {
  /** 1-based, in file order. */
  index: number;
  effect: 'allow' | 'deny';
  users: string[];
  groups: string[];
  verbs: (Verb | '*')[];
  /** Undefined: any package. */
  packages: string[] | undefined;
  /** Undefined: any remote. */
  remotes: string[] | undefined;
}

export interface Policy {
  /** Where it was read from, for messages. */
  source: string;
  rules: PolicyRule[];
}

/** Who asks, as the kernel told the daemon (uid) and the account database names them. */
export interface Caller {
  uid: number;
  /** The user's name, or the uid as text when the account database has none. */
  user: string;
  /** Names of the groups the caller is in (primary and supplementary). */
  groups: string[];
}

export interface PolicyRequest {
  verb: Verb;
  /** Package names the request installs, removes or upgrades (none: every installed one, for upgrade). */
  packages?: readonly string[];
  /**
   * The remote the packages come from, or the remote added. Undefined: not
   * known yet (a request before its plan); kilnd then checks each package
   * the plan places with the remote it comes from.
   */
  remote?: string;
}

export interface Decision {
  allowed: boolean;
  /** The rule that decided: 0 for root, -1 when none matched. */
  rule: number;
  /** One line for the log and the client: who, what, and which rule. */
  reason: string;
}

const NAME = /^[A-Za-z0-9_.+*?[\]-]+$/;
const RULE_KEYS = ['effect', 'users', 'groups', 'verbs', 'packages', 'remotes'];

/** An empty policy: only root may change anything. */
export function emptyPolicy(source: string): Policy {
  return { source, rules: [] };
}

/** Reads the policy at `path`; a missing file is the empty policy. Malformed is E_POLICY. */
export async function readPolicy(path: string): Promise<Policy> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return emptyPolicy(path);
    throw error;
  }
  return parsePolicy(text, path);
}

export function parsePolicy(text: string, source: string): Policy {
  const fail: Fail = (where, problem) => {
    throw new KilnError('E_POLICY', `invalid policy ${source}: ${where} ${problem}`, {
      hint: "docs/kilnd.md describes the policy file; until it is fixed, kilnd refuses every request but root's",
    });
  };
  const document = expectObject(parseTomlDocument(text, fail), '(the file)', fail, ['rule']);
  const rules = document['rule'] === undefined ? [] : expectArray(document['rule'], 'rule', fail);
  return {
    source,
    rules: rules.map((value, i) => {
      const where = `rule ${i + 1}`;
      const rule = expectObject(value, where, fail, RULE_KEYS);
      const list = (key: string, pattern: RegExp = NAME): string[] | undefined => {
        if (rule[key] === undefined) return undefined;
        const items = expectArray(rule[key], `${where}.${key}`, fail).map((item, k) =>
          expectString(item, `${where}.${key}[${k}]`, fail, pattern, 'a name or a glob'),
        );
        if (items.length === 0) fail(`${where}.${key}`, 'is empty (leave it out to mean any)');
        return items;
      };
      const effect =
        rule['effect'] === undefined
          ? 'allow'
          : (expectString(rule['effect'], `${where}.effect`, fail, /^(allow|deny)$/, '"allow" or "deny"') as
              | 'allow'
              | 'deny');
      const users = list('users') ?? [];
      const groups = list('groups') ?? [];
      if (users.length === 0 && groups.length === 0) fail(where, 'names neither users nor groups');
      const verbs = list('verbs', /^(\*|install|remove|upgrade|sync|add-remote)$/);
      if (verbs === undefined) fail(where, `names no verbs (${VERBS.join(', ')}, or "*")`);
      return {
        index: i + 1,
        effect,
        users,
        groups,
        verbs: verbs as (Verb | '*')[],
        packages: list('packages'),
        remotes: list('remotes'),
      };
    }),
  };
}

/** What `policy` says of `caller` asking for `request`. */
export function decide(policy: Policy, caller: Caller, request: PolicyRequest): Decision {
  const who = `${caller.user} (uid ${caller.uid})`;
  const what = describe(request);
  if (caller.uid === 0) return { allowed: true, rule: 0, reason: `${who} may ${what}: root may change anything` };
  const packages = request.packages !== undefined && request.packages.length > 0 ? request.packages : [undefined];
  let last: PolicyRule | undefined;
  for (const name of packages) {
    const rule = policy.rules.find((candidate) => matches(candidate, caller, request, name));
    const subject =
      name === undefined
        ? what
        : `${request.verb} ${name}${request.remote === undefined ? '' : ` from ${request.remote}`}`;
    if (rule === undefined)
      return {
        allowed: false,
        rule: -1,
        reason: `${who} may not ${subject}: no rule of ${policy.source} allows it (by default only root may change the system)`,
      };
    if (rule.effect === 'deny')
      return {
        allowed: false,
        rule: rule.index,
        reason: `${who} may not ${subject}: rule ${rule.index} of ${policy.source} denies it`,
      };
    last = rule;
  }
  return {
    allowed: true,
    rule: last!.index,
    reason: `${who} may ${what}: rule ${last!.index} of ${policy.source} allows it`,
  };
}

function matches(rule: PolicyRule, caller: Caller, request: PolicyRequest, name: string | undefined): boolean {
  const named =
    rule.users.some((user) => user === '*' || user === caller.user || user === String(caller.uid)) ||
    rule.groups.some((group) => group === '*' || caller.groups.includes(group));
  if (!named) return false;
  if (!rule.verbs.includes('*') && !rule.verbs.includes(request.verb)) return false;
  if (rule.packages !== undefined && name !== undefined && !rule.packages.some((glob) => globMatch(glob, name)))
    return false;
  // A request whose remote is not known yet (before planning) is checked again, remote by remote, once it is.
  if (
    rule.remotes !== undefined &&
    request.remote !== undefined &&
    !rule.remotes.some((glob) => globMatch(glob, request.remote!))
  )
    return false;
  return true;
}

function describe(request: PolicyRequest): string {
  const names = request.packages !== undefined && request.packages.length > 0 ? ` ${request.packages.join(' ')}` : '';
  return `${request.verb}${names}${request.remote === undefined ? '' : ` from ${request.remote}`}`;
}

/** `*` any run of characters, `?` one; nothing else is special. */
export function globMatch(glob: string, name: string): boolean {
  const pattern = glob
    .replace(/[.+^${}()|[\]\\]/g, '\\$&')
    .replace(/\*/g, '.*')
    .replace(/\?/g, '.');
  return new RegExp(`^${pattern}$`).test(name);
}

/**
 * The caller of uid `uid` (and the gid the kernel gave), named from the
 * account database under `root`: its user name, and its groups — the
 * primary group (`gid`, and the user's own from passwd) and every group
 * that lists the user as a member.
 */
export async function callerOf(uid: number, gid: number, root = '/'): Promise<Caller> {
  const [passwd, group] = await Promise.all(
    ['passwd', 'group'].map((file) => readFile(join(root, 'etc', file), 'utf8').catch(() => '')),
  );
  const lines = (text: string) =>
    text
      .split('\n')
      .filter((line) => line !== '' && !line.startsWith('#') && !/^[+-]/.test(line))
      .map((line) => line.split(':'));
  const account = lines(passwd!).find((fields) => Number(fields[2]) === uid && fields[2] !== '');
  const user = account?.[0] ?? String(uid);
  const primary = new Set([gid, ...(account === undefined ? [] : [Number(account[3])])]);
  const groups = lines(group!)
    .filter(
      (fields) =>
        primary.has(Number(fields[2])) || (account !== undefined && (fields[3] ?? '').split(',').includes(user)),
    )
    .map((fields) => fields[0]!);
  return { uid, user, groups: [...new Set(groups)] };
}

/** Looks up a user by name or uid (for `kiln policy check USER`). */
export async function callerNamed(nameOrUid: string, root = '/'): Promise<Caller> {
  const passwd = await readFile(join(root, 'etc', 'passwd'), 'utf8').catch(() => '');
  const account = passwd
    .split('\n')
    .map((line) => line.split(':'))
    .find((fields) => fields[0] === nameOrUid || (/^\d+$/.test(nameOrUid) && fields[2] === nameOrUid));
  if (account === undefined) {
    if (/^\d+$/.test(nameOrUid)) return callerOf(Number(nameOrUid), Number(nameOrUid), root);
    throw new KilnError(
      'E_USAGE',
      `cannot check the policy for ${nameOrUid}: no such user in ${join(root, 'etc', 'passwd')}`,
      {
        hint: 'give a user name or a numeric uid',
      },
    );
  }
  return callerOf(Number(account[2]), Number(account[3]), root);
}

/** Whether `value` is one of the verbs. */
export function isVerb(value: string): value is Verb {
  return (VERBS as readonly string[]).includes(value);
}

/**
 * Many kiln processes on one prefix at once — installs, upgrades, downgrades,
 * reinstalls, removes and reads — while the process holding the writer lock
 * is killed with SIGKILL often and other writers at random, so that waiting
 * processes keep taking over from dead holders and recovering their
 * transactions.
 *
 * The packages come in groups (gN-lib and gN-bin, versions 1.0, 2.0, 3.0);
 * every command changes one group as a whole, so a group is always entirely
 * absent or entirely at one version. Commands run in phases; at the end of a
 * phase nothing runs and the prefix is checked:
 *
 * - every transaction in the history (in commit order) was made by one of
 *   the phase's writers — one that exited 0 naming it, or one that was killed
 *   — and did exactly what that command does to the state the transactions
 *   before it left (install, upgrade, downgrade or reinstall of both packages
 *   of the group at the version asked, or removal of both);
 * - every writer that exited 0 having applied a transaction is in the history;
 * - so a killed writer left its group exactly before (not in the history) or
 *   exactly after (in it);
 * - the installed set is what replaying the history gives, `kiln verify`
 *   finds nothing, no transaction or temporary file is left, and the prefix's
 *   files are exactly those of a prefix that installed the same set in one
 *   transaction.
 */
import { cpSync, existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { packAll, publish } from '../helpers/client.js';
import type { PackageSpec } from '../helpers/client.js';
import { kiln, parseJson } from '../helpers/kiln.js';
import { compareVersions } from '../../src/version/index.js';
import { seededRandom } from '../../src/util/seededRandom.js';
import type { Started } from './processes.js';
import { digestDifferences, errorCode, lockHolder, sleep, startKiln, treeDigest } from './processes.js';

export interface PrefixStressOptions {
  /** An empty working directory. */
  dir: string;
  /** Commands in all (writers and readers). */
  commands: number;
  /** Processes at once. */
  concurrency: number;
  /** Commands between two checks. */
  phaseSize: number;
  seed: number;
  /** Package groups (two packages each). */
  groups: number;
  /** The chance that a process is killed while it holds the writer lock, at a moment spread over `holderWindowMs` after it took it. */
  holderKillChance: number;
  holderWindowMs: number;
  /** Milliseconds between two kills of a writer chosen at random (waiting or holding): at least, at most. */
  randomKillEveryMs: [number, number];
  /** Share a package cache (KILN_CACHE), so that killed store fills are exercised too. */
  sharedCache: boolean;
  log?: (line: string) => void;
}

export interface PrefixStressReport {
  commands: number;
  writers: number;
  readers: number;
  /** Writers that exited 0 (with or without a change). */
  succeeded: number;
  /** Commands that exited 1 with an expected refusal (removing or upgrading what is not installed). */
  refused: number;
  killed: number;
  /** Kills of the process that held the writer lock at that moment. */
  holderKills: number;
  /** Of those, kills while its journal was on disk (between writing it and finishing). */
  killedInTransaction: number;
  /** Killed writers whose transaction had committed (after) and had not (before). */
  killedAfter: number;
  killedBefore: number;
  transactions: number;
  /** Commands that reported recovering an interrupted transaction. */
  recoveries: number;
  problems: string[];
  seconds: number;
}

const VERSIONS = ['1.0', '2.0', '3.0'] as const;

type Kind = 'install' | 'reinstall' | 'upgrade' | 'remove' | 'read';

interface Run {
  pid: number;
  kind: Kind;
  group: string;
  version: string | undefined;
  args: string[];
  killed: boolean;
  result?: Awaited<Started['done']>;
}

function groupSpecs(group: string, version: string): PackageSpec[] {
  const many: PackageSpec['tree'] = {};
  // Enough files that a kill often lands inside the transaction.
  for (let i = 0; i < 12; i++) many[`share/${group}/many/f${i}.txt`] = `${group} ${version} file ${i}\n`;
  return [
    {
      name: `${group}-lib`,
      version,
      tree: {
        [`lib/lib${group}.so.1`]: `${group} library ${version}\n`,
        [`lib/lib${group}.so`]: { symlink: `lib${group}.so.1` },
      },
    },
    {
      name: `${group}-bin`,
      version,
      depends: [`${group}-lib =${version}`],
      tree: {
        [`bin/${group}`]: { content: `#!/bin/sh\necho ${group} ${version}\n`, mode: 0o755 },
        [`etc/${group}.conf`]: `${group} configuration ${version}\n`,
        [`share/${group}/common.txt`]: 'the same in every version\n',
        [`share/${group}/only-${version}.txt`]: `${version}\n`,
        ...many,
      },
      extra: { configFiles: [`etc/${group}.conf`] },
    },
  ];
}

export async function runPrefixStress(options: PrefixStressOptions): Promise<PrefixStressReport> {
  const started = performance.now();
  const { dir } = options;
  const log = options.log ?? (() => undefined);
  const random = seededRandom(options.seed);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!;
  const groups = Array.from({ length: options.groups }, (_, i) => `g${i + 1}`);
  const specs = groups.flatMap((group) => VERSIONS.flatMap((version) => groupSpecs(group, version)));
  await publish(dir, await packAll(dir, specs));
  const cache = join(dir, 'shared-cache');
  const envFor = (prefix: string): Record<string, string> => ({
    KILN_PREFIX: prefix,
    ...(options.sharedCache ? { KILN_CACHE: cache } : {}),
  });
  const template = join(dir, 'template');
  for (const args of [
    ['init'],
    ['remote', 'add', 'main', join(dir, 'repo', 'public'), '--key', 'keys/kiln.pub'],
    ['sync'],
  ]) {
    const result = await kiln(args, { cwd: dir, env: envFor(template) });
    if (result.code !== 0) throw new Error(`kiln ${args.join(' ')}: ${result.stderr}`);
  }
  const prefix = join(dir, 'prefix');
  cpSync(template, prefix, { recursive: true, verbatimSymlinks: true });
  const env = envFor(prefix);

  const report: PrefixStressReport = {
    commands: 0,
    writers: 0,
    readers: 0,
    succeeded: 0,
    refused: 0,
    killed: 0,
    holderKills: 0,
    killedInTransaction: 0,
    killedAfter: 0,
    killedBefore: 0,
    transactions: 0,
    recoveries: 0,
    problems: [],
    seconds: 0,
  };
  const model = new Map<string, string | null>(groups.map((group) => [group, null]));
  let historySeen = 0;

  const command = (): Run => {
    const group = pick(groups);
    const roll = random();
    const version = pick(VERSIONS);
    const both = [`${group}-bin`, `${group}-lib`];
    if (roll < 0.3)
      return {
        pid: 0,
        kind: 'install',
        group,
        version,
        args: ['install', `${group}-bin=${version}`, `${group}-lib=${version}`, '-y', '--json'],
        killed: false,
      };
    if (roll < 0.4)
      return {
        pid: 0,
        kind: 'reinstall',
        group,
        version,
        args: ['install', '--reinstall', `${group}-bin=${version}`, `${group}-lib=${version}`, '-y', '--json'],
        killed: false,
      };
    if (roll < 0.55)
      return {
        pid: 0,
        kind: 'upgrade',
        group,
        version: undefined,
        args: ['upgrade', ...both, '-y', '--json'],
        killed: false,
      };
    if (roll < 0.75)
      return {
        pid: 0,
        kind: 'remove',
        group,
        version: undefined,
        args: ['remove', ...both, '-y', '--json'],
        killed: false,
      };
    const reads = [
      ['list', '--json'],
      ['verify', '--json'],
      ['owns', `bin/${group}`],
      ['search', group],
      ['info', `${group}-bin`],
      ['history', '--json'],
    ];
    return { pid: 0, kind: 'read', group, version: undefined, args: pick(reads), killed: false };
  };

  for (let phase = 0; report.commands < options.commands; phase++) {
    const budget = Math.min(options.phaseSize, options.commands - report.commands);
    const records: Run[] = [];
    const running = new Map<number, Run>();
    let left = budget;
    const slot = async (): Promise<void> => {
      while (left > 0) {
        left--;
        const record = command();
        const child = startKiln(record.args, dir, env);
        record.pid = child.pid;
        records.push(record);
        running.set(child.pid, record);
        record.result = await child.done;
        running.delete(child.pid);
      }
    };
    let stop = false;
    const killer = async (): Promise<void> => {
      const kill = (victim: Run | undefined, holder: number | undefined): void => {
        if (victim === undefined || victim.killed) return;
        try {
          process.kill(victim.pid, 'SIGKILL');
          victim.killed = true;
          if (victim.pid === holder) report.holderKills++;
          if (victim.pid === holder && existsSync(join(prefix, 'var/lib/kiln/transaction/journal.json')))
            report.killedInTransaction++;
        } catch {
          // It ended meanwhile.
        }
      };
      // A new holder is killed (with some chance) at a moment spread over the time a writer holds the lock.
      // Once its journal is on disk, another chance, at a moment spread over the next 40 ms (the transaction proper).
      let seen: number | undefined;
      let killAt: number | undefined;
      let journalSeen = false;
      let nextRandom = performance.now() + options.randomKillEveryMs[0];
      const journal = join(prefix, 'var/lib/kiln/transaction/journal.json');
      while (!stop) {
        await sleep(2);
        const holder = lockHolder(join(prefix, 'var/lib/kiln/writer.lock'), join(prefix, 'var/lib/kiln/lock'));
        const chance = (): boolean =>
          holder !== undefined && running.has(holder) && random() < options.holderKillChance;
        if (holder !== seen) {
          seen = holder;
          journalSeen = false;
          killAt = chance() ? performance.now() + random() * options.holderWindowMs : undefined;
        }
        if (!journalSeen && existsSync(journal)) {
          journalSeen = true;
          if (killAt === undefined && chance()) killAt = performance.now() + random() * 40;
        }
        if (killAt !== undefined && performance.now() >= killAt) {
          kill(running.get(holder!), holder);
          killAt = undefined;
        }
        if (performance.now() >= nextRandom) {
          const writers = [...running.values()].filter((record) => record.kind !== 'read' && !record.killed);
          if (writers.length > 0) kill(pick(writers), holder);
          const [least, most] = options.randomKillEveryMs;
          nextRandom = performance.now() + least + random() * (most - least);
        }
      }
    };
    const killing = killer();
    await Promise.all(Array.from({ length: options.concurrency }, slot));
    stop = true;
    await killing;
    report.commands += records.length;
    checkOutcomes(records, report);
    historySeen = await checkPhase(phase, records, historySeen);
    log(
      `phase ${phase + 1}: ${report.commands} commands, ${report.killed} killed (${report.holderKills} lock holders), ${report.transactions} transactions, ${report.problems.length} problem(s)`,
    );
  }
  report.seconds = (performance.now() - started) / 1000;
  return report;

  function checkOutcomes(records: readonly Run[], into: PrefixStressReport): void {
    for (const record of records) {
      const result = record.result!;
      if (record.kind === 'read') into.readers++;
      else into.writers++;
      if (/interrupted transaction \(/.test(result.stderr)) into.recoveries++;
      if (result.signal === 'SIGKILL') {
        into.killed++;
        continue;
      }
      record.killed = false;
      const what = `kiln ${record.args.join(' ')} (pid ${record.pid})`;
      if (result.code === 0) {
        if (record.kind !== 'read') into.succeeded++;
        continue;
      }
      const code = errorCode(result.stderr);
      const expected =
        record.kind === 'read'
          ? (record.args[0] === 'verify' ||
              record.args[0] === 'owns' ||
              record.args[0] === 'search' ||
              record.args[0] === 'info') &&
            result.code === 1 &&
            (code === undefined || code === 'E_NOT_INSTALLED' || code === 'E_NO_CANDIDATE')
          : result.code === 1 && code === 'E_NOT_INSTALLED';
      if (expected) into.refused++;
      else
        into.problems.push(
          `${what} exited ${result.code ?? result.signal}: ${result.stderr.trim().split('\n').slice(0, 6).join(' | ')}`,
        );
    }
  }

  async function checkPhase(phase: number, records: readonly Run[], seen: number): Promise<number> {
    const problem = (text: string) => report.problems.push(`phase ${phase + 1}: ${text}`);
    // The next command repairs what the last kill left.
    const verify = await kiln(['verify', '--json'], { cwd: dir, env });
    const verified = parseJson(verify.stdout || '{}') as { problems?: unknown[]; database?: string[] };
    if (verify.code !== 0 || (verified.problems?.length ?? 1) > 0 || (verified.database?.length ?? 1) > 0)
      problem(`verify: ${verify.stdout.slice(0, 2000)}${verify.stderr.slice(0, 500)}`);
    const history = parseJson((await kiln(['history', '--json', '--limit', '100000'], { cwd: dir, env })).stdout) as {
      id: string;
      command: string;
      summary: string;
    }[];
    const fresh = history.slice(0, history.length - seen).reverse();
    report.transactions += fresh.length;
    const byPid = new Map(records.map((record) => [record.pid, record]));
    const inHistory = new Set<number>();
    for (const entry of fresh) {
      const pid = Number(entry.id.split('-')[1]);
      const record = byPid.get(pid);
      if (record === undefined || record.kind === 'read') {
        problem(`transaction ${entry.id} (${entry.command}: ${entry.summary}) was made by no writer of this phase`);
        continue;
      }
      inHistory.add(pid);
      const result = record.result!;
      if (
        !record.killed &&
        !(result.code === 0 && (parseJson(result.stdout) as { transaction: string | null }).transaction === entry.id)
      ) {
        problem(
          `transaction ${entry.id} belongs to kiln ${record.args.join(' ')}, which neither was killed nor reported it`,
        );
      }
      const prior = model.get(record.group) ?? null;
      const after = effect(record, prior);
      const expected =
        after === prior && record.kind !== 'reinstall' ? '(no transaction)' : summaryOf(record, prior, after);
      const actual = entry.summary.split(', ').sort().join(', ');
      if (actual !== expected)
        problem(
          `transaction ${entry.id} of kiln ${record.args.join(' ')}${record.killed ? ' (killed)' : ''} did "${actual}" to ${record.group} at ${prior ?? 'nothing'}; expected "${expected}"`,
        );
      model.set(record.group, after);
      if (record.killed) report.killedAfter++;
    }
    for (const record of records) {
      if (record.kind === 'read' || inHistory.has(record.pid)) continue;
      if (record.killed) report.killedBefore++;
      else if (record.result!.code === 0) {
        const transaction = (parseJson(record.result!.stdout) as { transaction: string | null }).transaction;
        if (transaction !== null)
          problem(`kiln ${record.args.join(' ')} reported transaction ${transaction}, which the history does not have`);
      }
    }
    const listed = parseJson((await kiln(['list', '--json'], { cwd: dir, env })).stdout) as {
      name: string;
      version: string;
    }[];
    const installed = listed
      .map((pkg) => `${pkg.name}-${pkg.version}`)
      .sort()
      .join(' ');
    const expectedSet = [...model]
      .flatMap(([group, version]) => (version === null ? [] : [`${group}-bin-${version}`, `${group}-lib-${version}`]))
      .sort()
      .join(' ');
    if (installed !== expectedSet) problem(`installed "${installed}", but the history says "${expectedSet}"`);
    const state = readdirSync(join(prefix, 'var/lib/kiln'));
    if (state.includes('transaction') || state.some((name) => name.endsWith('.tmp')))
      problem(`left in var/lib/kiln: ${state.join(', ')}`);
    // The same set in one transaction, into a copy of the untouched prefix (with the same shared cache).
    const reference = join(dir, `reference-${phase}`);
    cpSync(template, reference, { recursive: true, verbatimSymlinks: true });
    const wanted = [...model].flatMap(([group, version]) =>
      version === null ? [] : [`${group}-bin=${version}`, `${group}-lib=${version}`],
    );
    if (wanted.length > 0) {
      const made = await kiln(['install', ...wanted, '-y'], { cwd: dir, env: envFor(reference) });
      if (made.code !== 0) problem(`reference install: ${made.stderr}`);
    }
    const skip = ['var/lib/kiln', 'var/cache/kiln'];
    for (const line of digestDifferences(treeDigest(reference, skip), treeDigest(prefix, skip)).slice(0, 20))
      problem(`prefix vs one-transaction install: ${line}`);
    if (options.sharedCache && existsSync(join(cache, 'unpacked'))) {
      // The reference install was a writer using the store: it removed what killed fills left.
      const left = readdirSync(join(cache, 'unpacked')).filter((name) => name.includes('.tmp-'));
      if (left.length > 0) problem(`left in the shared store after a writer ran: ${left.join(', ')}`);
    }
    return history.length;
  }
}

/** What a writer does to its group, at version `prior` before it. */
function effect(record: Run, prior: string | null): string | null {
  switch (record.kind) {
    case 'install':
    case 'reinstall':
      return record.version!;
    case 'upgrade':
      return prior === null ? null : VERSIONS[VERSIONS.length - 1]!;
    case 'remove':
      return null;
    case 'read':
      return prior;
  }
}

/** The transaction summary that command writes, sorted: "install g1-bin 2.0, install g1-lib 2.0", "upgrade g1-bin 1.0 -> 2.0, …". */
function summaryOf(record: Run, prior: string | null, after: string | null): string {
  const names = [`${record.group}-bin`, `${record.group}-lib`];
  if (after === null) return names.map((name) => `remove ${name} ${prior}`).join(', ');
  const order = prior === null ? 0 : compareVersions(after, prior);
  const kind = prior === null ? 'install' : order > 0 ? 'upgrade' : order < 0 ? 'downgrade' : 'reinstall';
  return names
    .map((name) => `${kind} ${name} ${prior === null || prior === after ? after : `${prior} -> ${after}`}`)
    .join(', ');
}

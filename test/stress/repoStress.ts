/**
 * Two maintainers on one repository at once, each staging a package
 * (`kiln repo add`) and publishing (`kiln repo commit`) in turn, while the
 * process holding the maintainer lock is killed with SIGKILL often and the
 * others at random; a reader runs `kiln repo status` meanwhile.
 *
 * At the end (after one quiet commit, which also finishes what the last kill
 * left), the repository must be what one maintainer at a time makes:
 * - `kiln repo verify` passes, and the real minisign accepts the index;
 * - the log's serials go up by one, each published once; every commit that
 *   exited 0 is in the log under the serial it printed, and no two share one;
 * - no package was published twice, every package the index holds was
 *   staged by some `repo add`, and every `repo add` that exited 0 is in the
 *   index (nothing staged is lost by a commit that ran at the same time);
 * - nothing is staged, and no temporary file is left.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { packAll } from '../helpers/client.js';
import { kiln, parseJson } from '../helpers/kiln.js';
import { minisign } from '../helpers/minisign.js';
import { seededRandom } from '../../src/util/seededRandom.js';
import type { Started } from './processes.js';
import { errorCode, lockHolder, sleep, startKiln } from './processes.js';

export interface RepoStressOptions {
  dir: string;
  /** Packages staged and committed, one commit each (two maintainers share them). */
  commits: number;
  seed: number;
  /** The chance that a maintainer is killed while it holds the lock, at a moment spread over `holderWindowMs` after it took it. */
  holderKillChance: number;
  holderWindowMs: number;
  /** Milliseconds between two kills of a maintainer chosen at random: at least, at most. */
  randomKillEveryMs: [number, number];
  log?: (line: string) => void;
}

export interface RepoStressReport {
  commands: number;
  adds: number;
  commits: number;
  /** Commits that exited 0. */
  published: number;
  killed: number;
  holderKills: number;
  serial: number;
  packages: number;
  problems: string[];
  seconds: number;
}

interface Run {
  pid: number;
  kind: 'add' | 'commit' | 'status';
  name: string;
  args: string[];
  killed: boolean;
  result?: Awaited<Started['done']>;
}

export async function runRepoStress(options: RepoStressOptions): Promise<RepoStressReport> {
  const started = performance.now();
  const { dir } = options;
  const random = seededRandom(options.seed);
  const names = Array.from({ length: options.commits }, (_, i) => `p${i + 1}`);
  const files = await packAll(
    dir,
    names.map((name) => ({ name, version: '1.0', tree: { [`share/${name}/data.txt`]: `${name}\n` } })),
  );
  const init = await kiln(['repo', 'init', 'repo', '--key', 'keys/kiln.key', '--name', 'main'], { cwd: dir });
  if (init.code !== 0) throw new Error(`repo init: ${init.stderr}`);
  const repo = join(dir, 'repo');
  const report: RepoStressReport = {
    commands: 0,
    adds: 0,
    commits: 0,
    published: 0,
    killed: 0,
    holderKills: 0,
    serial: 0,
    packages: 0,
    problems: [],
    seconds: 0,
  };
  const records: Run[] = [];
  const running = new Map<number, Run>();
  const runOne = async (record: Run): Promise<void> => {
    const child = startKiln(record.args, dir, {});
    record.pid = child.pid;
    records.push(record);
    running.set(child.pid, record);
    record.result = await child.done;
    running.delete(child.pid);
  };
  let next = 0;
  const maintainer = async (): Promise<void> => {
    while (next < names.length) {
      const at = next++;
      const name = names[at]!;
      await runOne({ pid: 0, kind: 'add', name, args: ['repo', 'add', 'repo', files[at]!, '--json'], killed: false });
      await runOne({
        pid: 0,
        kind: 'commit',
        name,
        args: ['repo', 'commit', 'repo', '-m', name, '--json'],
        killed: false,
      });
    }
  };
  let stop = false;
  const reader = async (): Promise<void> => {
    while (!stop)
      await runOne({ pid: 0, kind: 'status', name: '', args: ['repo', 'status', 'repo', '--json'], killed: false });
  };
  // Killing per lock holder, not per unit of time: a slower machine sees the same share of kills.
  const killer = async (): Promise<void> => {
    const kill = (victim: Run | undefined, holder: number | undefined): void => {
      if (victim === undefined || victim.killed) return;
      try {
        process.kill(victim.pid, 'SIGKILL');
        victim.killed = true;
        if (victim.pid === holder) report.holderKills++;
      } catch {
        // It ended meanwhile.
      }
    };
    let seen: number | undefined;
    let killAt: number | undefined;
    let nextRandom = performance.now() + options.randomKillEveryMs[0];
    while (!stop) {
      await sleep(3);
      const holder = lockHolder(join(repo, '.kiln/maintainer.lock'), join(repo, '.kiln/lock'));
      if (holder !== seen) {
        seen = holder;
        killAt =
          holder !== undefined && running.has(holder) && random() < options.holderKillChance
            ? performance.now() + random() * options.holderWindowMs
            : undefined;
      }
      if (killAt !== undefined && performance.now() >= killAt) {
        kill(running.get(holder!), holder);
        killAt = undefined;
      }
      if (performance.now() >= nextRandom) {
        const maintainers = [...running.values()].filter((record) => record.kind !== 'status' && !record.killed);
        if (maintainers.length > 0) kill(maintainers[Math.floor(random() * maintainers.length)], holder);
        const [least, most] = options.randomKillEveryMs;
        nextRandom = performance.now() + least + random() * (most - least);
      }
    }
  };
  const background = [killer(), reader()];
  await Promise.all([maintainer(), maintainer()]);
  stop = true;
  await Promise.all(background);

  const problem = (text: string) => report.problems.push(text);
  const serials = new Map<number, Run>();
  const addedOk = new Set<string>();
  for (const record of records) {
    report.commands++;
    const result = record.result!;
    if (record.kind === 'add') report.adds++;
    if (record.kind === 'commit') report.commits++;
    if (result.signal === 'SIGKILL') {
      report.killed++;
      continue;
    }
    record.killed = false;
    const refusal = errorCode(result.stderr);
    if (result.code !== 0 && !(record.kind === 'commit' && refusal === 'E_REPO_NOTHING')) {
      problem(
        `kiln ${record.args.join(' ')} exited ${result.code}: ${result.stderr.trim().split('\n').slice(0, 6).join(' | ')}`,
      );
      continue;
    }
    if (result.code !== 0) continue;
    if (record.kind === 'add') addedOk.add(record.name);
    if (record.kind === 'commit') {
      report.published++;
      const serial = (parseJson(result.stdout) as { serial: number }).serial;
      const other = serials.get(serial);
      if (other !== undefined) problem(`two commits printed serial ${serial}: pids ${other.pid} and ${record.pid}`);
      serials.set(serial, record);
    }
  }
  // One quiet commit: recovers what the last kill left, removes temporaries, publishes what is staged.
  const last = await kiln(['repo', 'commit', 'repo', '--allow-empty', '-m', 'the end', '--json'], { cwd: dir });
  if (last.code !== 0) problem(`the last commit: ${last.stderr}`);
  const verify = await kiln(['repo', 'verify', 'repo'], { cwd: dir });
  if (verify.code !== 0) problem(`repo verify: ${verify.stdout}${verify.stderr}`);
  const signed = await minisign(['-Vm', join(repo, 'public', 'index.json'), '-p', join(dir, 'keys/kiln.pub')], {
    cwd: dir,
  });
  if (signed.code !== 0) problem(`minisign does not accept index.json: ${signed.stderr}`);
  const log = parseJson((await kiln(['repo', 'log', 'repo', '--json'], { cwd: dir })).stdout) as {
    serial: number;
    added: string[];
    message: string;
  }[];
  log.reverse();
  log.forEach((record, at) => {
    if (at > 0 && record.serial !== log[at - 1]!.serial + 1)
      problem(`log serial ${record.serial} follows ${log[at - 1]!.serial}`);
  });
  const logged = new Map(log.map((record) => [record.serial, record]));
  for (const [serial, record] of serials)
    if (!logged.has(serial))
      problem(`commit of ${record.name} (pid ${record.pid}) printed serial ${serial}, which the log does not have`);
  const published = new Map<string, number>();
  for (const record of log) {
    for (const key of record.added) {
      const name = key.split(' ')[0]!;
      if (published.has(name)) problem(`${name} published twice: serials ${published.get(name)} and ${record.serial}`);
      published.set(name, record.serial);
    }
  }
  const status = parseJson((await kiln(['repo', 'status', 'repo', '--json'], { cwd: dir })).stdout) as {
    published: { serial: number; packages: number };
    staged: { adds: unknown[]; retires: unknown[] };
  };
  const index = parseJson(readFileSync(join(repo, 'public', 'index.json'), 'utf8')) as {
    serial: number;
    packages: { name: string }[];
  };
  const inIndex = new Set(index.packages.map((entry) => entry.name));
  if (status.staged.adds.length + status.staged.retires.length > 0)
    problem(`still staged after the last commit: ${JSON.stringify(status.staged)}`);
  if (index.serial !== log[log.length - 1]?.serial)
    problem(`index serial ${index.serial}, last logged ${log[log.length - 1]?.serial}`);
  for (const name of inIndex)
    if (!records.some((record) => record.kind === 'add' && record.name === name))
      problem(`${name} is published but was never added`);
  for (const name of addedOk)
    if (!inIndex.has(name)) problem(`${name} was staged (repo add exited 0) but is not published`);
  for (const name of inIndex) if (!published.has(name)) problem(`${name} is in the index but in no log record`);
  for (const directory of [join(repo, 'public'), join(repo, 'public', 'indexes'), join(repo, '.kiln')]) {
    const left = readdirSync(directory).filter((name) => name.endsWith('.tmp'));
    if (left.length > 0) problem(`temporary files left in ${directory}: ${left.join(', ')}`);
  }
  report.serial = index.serial;
  report.packages = inIndex.size;
  report.seconds = (performance.now() - started) / 1000;
  options.log?.(
    `repository: ${report.commands} commands, ${report.killed} killed (${report.holderKills} lock holders), serial ${report.serial}, ${report.packages} packages, ${report.problems.length} problem(s)`,
  );
  return report;
}

/**
 * `npm run bench:index`: Kiln against pacman and apt on the SAME generated
 * index of N packages (default 20,000), served to all three over loopback HTTP.
 *
 * The index (bench/index/generate.ts, cached in bench-out/index/ by size, seed
 * and generator version; `--regenerate` makes it again): names, versions,
 * one-line summaries drawn from a word list with Zipf-like frequencies, and
 * dependencies, from a seed; published as a real signed Kiln repository, a
 * pacman sync database (bench.db) and an apt flat repository (Packages, .gz,
 * .xz, Release). One Node http server on 127.0.0.1 and a free port serves the
 * three (bench/index/server.ts), started here and stopped at the end, on an
 * error and on Ctrl-C.
 *
 * Timed, each as a subprocess, the tools taking turns, with a pause before
 * every run (shared/BENCHMARKING.md), median and min–max of R runs:
 *   - sync: `kiln sync`, `pacman -Sy`, `apt-get update`, each into a fresh
 *     client state on a fresh filesystem (loop-mounted ext4 as root), set up
 *     untimed (kiln init + remote add; a private pacman.conf; a private apt
 *     tree); wall + a final `sync`;
 *   - search, in a synced (warm) client state: `kiln search`, `pacman -Ss`,
 *     `apt-cache search`, for a term with a few dozen hits, one with about a
 *     thousand (5 % of the index) and one with none; the hit counts of every
 *     run are checked against each other and against the generator's count;
 *   - start-up: `kiln --version`, `pacman --version`, `apt-get --version`,
 *     `dpkg --version`, `rpm --version` (those installed).
 * Peak RSS comes from one extra, untimed run of each under `/usr/bin/time -f %M`
 * (for sync: the sync that prepares the search state; for search: a warm-up
 * run), so that no timed run carries a wrapper.
 *
 * Prints a table (task, tool, median, min–max, peak MiB, ratio to pacman) and
 * writes bench-out/index.json (figures, machine, tool versions, date).
 *
 * Options: --packages N (20000), --runs R (5), --seed S (1), --pause SECONDS
 * (1.5), --regenerate, --json (print the JSON only), --only LIST (comma list of
 * kiln, pacman, apt, dpkg, rpm). As root, pacman is installed with apt-get
 * (pacman-package-manager) when missing; otherwise a missing tool is left out
 * with a note.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, release, totalmem, type as osType } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { aptClient, kilnClient, pacmanClient } from './index/clients.js';
import type { Client, ClientName, ClientOptions } from './index/clients.js';
import { generateSet, readSet, renewIfExpiring, setPaths } from './index/generate.js';
import type { IndexSet, SearchTerm } from './index/generate.js';
import { describe, haveTime, killRunning, median, pause, runTimed, runWithRss, syncDisks } from './index/measure.js';
import type { Command } from './index/measure.js';
import { startServer } from './index/server.js';
import { repositoryPaths } from '../src/repo/index.js';
import type { StaticServer } from './index/server.js';
import { MIB, chosenFsKind, cleanupAll, freshFs } from './measure.js';
import type { FreshFs } from './measure.js';

const KILN = fileURLToPath(new URL('../src/cli/kiln.cjs', import.meta.url));
const OUT = 'bench-out';
const TOOLS = ['kiln', 'pacman', 'apt', 'dpkg', 'rpm'] as const;
type ToolName = (typeof TOOLS)[number];

const log = (line: string) => console.error(`bench: ${line}`);

function positive(text: string, flag: string): number {
  const value = Number(text);
  if (!Number.isInteger(value) || value < 1)
    throw new Error(`bench: ${flag} wants a positive whole number, not ${JSON.stringify(text)}`);
  return value;
}

function have(tool: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${tool}`], { stdio: 'ignore' }).status === 0;
}

/** pacman, installed with apt-get as root when missing; false (with a note) when unavailable. */
function ensurePacman(): boolean {
  if (have('pacman')) return true;
  if (process.getuid?.() !== 0) {
    log(
      'pacman is not installed and this is not root: the pacman rows are left out (install it with: apt-get install pacman-package-manager)',
    );
    return false;
  }
  log('installing pacman-package-manager with apt-get (for pacman)');
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  const install = () =>
    spawnSync('apt-get', ['install', '-y', '-qq', 'pacman-package-manager'], {
      env,
      stdio: ['ignore', 'ignore', 'inherit'],
    }).status === 0;
  if (!install()) {
    spawnSync('apt-get', ['update', '-qq'], { env, stdio: ['ignore', 'ignore', 'inherit'] });
    install();
  }
  if (have('pacman')) return true;
  log('could not install pacman-package-manager: the pacman rows are left out');
  return false;
}

interface Row {
  task: string;
  taskKey: string;
  tool: string;
  command: string;
  seconds: number[];
  medianSeconds: number;
  minSeconds: number;
  maxSeconds: number;
  peakRssKiB: number | undefined;
  ratioToPacman: number | undefined;
  hits?: number;
  expectedHits?: number;
  toolSeconds?: number[];
  syncSeconds?: number[];
  downloadedBytes?: number[];
  requests?: number[];
  requestLog?: string[];
}

function makeRow(
  task: string,
  taskKey: string,
  tool: string,
  command: string,
  seconds: number[],
  peakRssKiB: number | undefined,
): Row {
  return {
    task,
    taskKey,
    tool,
    command,
    seconds,
    medianSeconds: median(seconds),
    minSeconds: Math.min(...seconds),
    maxSeconds: Math.max(...seconds),
    peakRssKiB,
    ratioToPacman: undefined,
  };
}

function firstLine(command: string, args: string[]): string {
  const result = spawnSync(command, args, { encoding: 'utf8' });
  return (
    `${result.stdout ?? ''}${result.stderr ?? ''}`
      .split('\n')
      .map((line) => line.trim())
      .find((line) => line !== '') ?? '?'
  );
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      packages: { type: 'string', default: '20000' },
      runs: { type: 'string', default: '5' },
      seed: { type: 'string', default: '1' },
      pause: { type: 'string', default: '1.5' },
      regenerate: { type: 'boolean', default: false },
      json: { type: 'boolean', default: false },
      only: { type: 'string' },
    },
  });
  const count = positive(values.packages, '--packages');
  const runs = positive(values.runs, '--runs');
  const seed = Number(values.seed);
  if (!Number.isInteger(seed) || seed < 0)
    throw new Error(`bench: --seed wants a whole number, not ${JSON.stringify(values.seed)}`);
  const pauseMs = Number(values.pause) * 1000;
  if (!(pauseMs >= 0)) throw new Error(`bench: --pause wants seconds, not ${JSON.stringify(values.pause)}`);
  const only =
    values.only === undefined
      ? [...TOOLS]
      : values.only
          .split(',')
          .map((tool) => tool.trim())
          .filter((tool) => tool !== '');
  for (const tool of only)
    if (!(TOOLS as readonly string[]).includes(tool))
      throw new Error(`bench: --only: unknown tool "${tool}" (known: ${TOOLS.join(', ')})`);
  const wanted = (tool: ToolName) => only.includes(tool);

  // Which tools take part.
  const available = new Map<ToolName, boolean>();
  available.set('kiln', wanted('kiln'));
  available.set('pacman', wanted('pacman') && ensurePacman());
  const aptHere = have('apt-get') && have('apt-cache');
  if (wanted('apt') && !aptHere) log('apt-get/apt-cache are not installed: the apt rows are left out');
  available.set('apt', wanted('apt') && aptHere);
  for (const tool of ['dpkg', 'rpm'] as const) {
    if (wanted(tool) && !have(tool)) log(`${tool} is not installed: its start-up row is left out`);
    available.set(tool, wanted(tool) && have(tool));
  }
  if (!haveTime()) log('/usr/bin/time is missing: no peak RSS figures');

  // The index, made once per size, seed and generator version.
  const paths = setPaths(join(OUT, 'index'), count, seed);
  let set: IndexSet | undefined = values.regenerate ? undefined : readSet(paths, count, seed);
  if (set === undefined) {
    log(
      `generating the ${count}-package index into ${paths.dir} (Kiln: pack + sign every package, repo add, commit; then bench.db and Packages)`,
    );
    const started = performance.now();
    set = await generateSet(paths, count, seed, log);
    log(`generated in ${((performance.now() - started) / 1000).toFixed(1)} s`);
  } else {
    log(`using the index in ${paths.dir} (pass --regenerate to make it again)`);
  }
  await renewIfExpiring(paths, set);
  const indexSet = set;

  let server: StaticServer | undefined;
  const onSignal = (signal: NodeJS.Signals) => {
    log(`${signal}: stopping the commands, the server and unmounting`);
    killRunning();
    cleanupAll();
    void server?.close();
    process.exit(130);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);

  const rows: Row[] = [];
  const hitTable: { term: SearchTerm; hits: Partial<Record<ClientName, number>> }[] = [];
  const versions: Record<string, string> = { node: process.version };
  const fsBytes = Math.max(256 * MIB, Math.ceil((count * 16 * 1024) / MIB) * MIB);
  let searchFs: FreshFs | undefined;
  try {
    server = await startServer({ kiln: repositoryPaths(paths.repo).public, pacman: paths.pacman, apt: paths.apt });
    const srv = server;
    log(`serving the three repositories on http://127.0.0.1:${srv.port}/ (kiln/, pacman/, apt/)`);
    const options: ClientOptions = {
      node: process.execPath,
      kilnCli: KILN,
      kilnUrl: srv.url('kiln'),
      kilnPublicKey: paths.publicKey,
      pacmanUrl: srv.url('pacman'),
      aptUrl: srv.url('apt'),
      aptArch: indexSet.aptArch,
      packages: count,
      pacmanDbBytes: indexSet.sizes.pacmanDb,
    };
    const clients: Client[] = [];
    if (available.get('kiln') === true) clients.push(kilnClient(options));
    if (available.get('pacman') === true) clients.push(pacmanClient(options));
    if (available.get('apt') === true) clients.push(aptClient(options));

    // ---- sync: a fresh client state on a fresh filesystem every run.
    const syncRuns = new Map<
      ClientName,
      { total: number[]; tool: number[]; sync: number[]; bytes: number[]; requests: number[]; log: string[] }
    >(clients.map((client) => [client.name, { total: [], tool: [], sync: [], bytes: [], requests: [], log: [] }]));
    for (let run = 1; run <= runs; run++) {
      for (const client of clients) {
        const fs = freshFs({ bytes: fsBytes, traversable: true }, log);
        try {
          client.prepare(fs.mnt);
          syncDisks();
          srv.reset();
          await pause(pauseMs);
          const result = await runTimed(client.sync(fs.mnt));
          const syncMs = syncDisks();
          const problem = client.checkSync(fs.mnt, result);
          if (problem !== undefined) throw new Error(`bench: ${problem}`);
          const traffic = srv.traffic(client.name);
          const record = syncRuns.get(client.name)!;
          record.total.push((result.ms + syncMs) / 1000);
          record.tool.push(result.ms / 1000);
          record.sync.push(syncMs / 1000);
          record.bytes.push(traffic.bytes);
          record.requests.push(traffic.requests);
          record.log = traffic.log;
          log(
            `sync run ${run}/${runs}: ${client.name}: ${((result.ms + syncMs) / 1000).toFixed(3)} s (tool ${(result.ms / 1000).toFixed(3)} + sync ${(syncMs / 1000).toFixed(3)}), ${traffic.bytes} bytes in ${traffic.requests} requests`,
          );
        } finally {
          fs.cleanup();
        }
      }
    }

    // ---- search: one synced client state per tool, on one fresh filesystem; its sync is the peak-RSS run of sync.
    searchFs = freshFs({ bytes: fsBytes * Math.max(1, clients.length), traversable: true }, log);
    const syncRss = new Map<ClientName, number | undefined>();
    for (const client of clients) {
      client.prepare(searchFs.mnt);
      const result = await runWithRss(client.sync(searchFs.mnt));
      syncDisks();
      const problem = client.checkSync(searchFs.mnt, result);
      if (problem !== undefined) throw new Error(`bench: ${problem}`);
      syncRss.set(client.name, result.rssKiB);
    }
    for (const client of clients) {
      const record = syncRuns.get(client.name)!;
      const row = makeRow(
        'sync the index (wall + sync)',
        'sync',
        client.name,
        describe(client.sync('DIR')),
        record.total,
        syncRss.get(client.name),
      );
      Object.assign(row, {
        toolSeconds: record.tool,
        syncSeconds: record.sync,
        downloadedBytes: record.bytes,
        requests: record.requests,
        requestLog: record.log,
      });
      rows.push(row);
    }

    for (const term of indexSet.terms) {
      const hits: Partial<Record<ClientName, number>> = {};
      const rss = new Map<ClientName, number | undefined>();
      // Warm-up run of each: peak RSS and the hit count every timed run must repeat.
      for (const client of clients) {
        const result = await runWithRss(client.search(searchFs.mnt, term.term));
        hits[client.name] = client.hits(result);
        rss.set(client.name, result.rssKiB);
      }
      hitTable.push({ term, hits });
      for (const client of clients) {
        if (hits[client.name] !== term.expectedHits)
          log(
            `WARNING: ${client.name} finds ${hits[client.name]} packages for "${term.term}"; the generator counts ${term.expectedHits} whose name or summary contains it`,
          );
      }
      const times = new Map<ClientName, number[]>(clients.map((client) => [client.name, []]));
      for (let run = 1; run <= runs; run++) {
        for (const client of clients) {
          await pause(pauseMs);
          const result = await runTimed(client.search(searchFs.mnt, term.term));
          const found = client.hits(result);
          if (found !== hits[client.name])
            throw new Error(
              `bench: ${client.name} found ${found} packages for "${term.term}" in run ${run}, ${hits[client.name]} in the warm-up run`,
            );
          times.get(client.name)!.push(result.ms / 1000);
        }
        log(
          `search "${term.term}" run ${run}/${runs}: ${clients.map((client) => `${client.name} ${times.get(client.name)!.at(-1)!.toFixed(3)} s`).join(', ')}`,
        );
      }
      for (const client of clients) {
        const row = makeRow(
          `search "${term.term}" (${term.key === 'none' ? 'no hit' : term.key === 'few' ? 'a few dozen' : '~5 % of the index'})`,
          `search-${term.key}`,
          client.name,
          describe(client.search('DIR', term.term)),
          times.get(client.name)!,
          rss.get(client.name),
        );
        row.hits = hits[client.name]!;
        row.expectedHits = term.expectedHits;
        rows.push(row);
      }
    }
    searchFs.cleanup();
    searchFs = undefined;

    // ---- start-up.
    const startup: { tool: ToolName; label: string; command: Command }[] = [];
    if (available.get('kiln') === true)
      startup.push({ tool: 'kiln', label: 'kiln', command: { command: process.execPath, args: [KILN, '--version'] } });
    if (available.get('pacman') === true)
      startup.push({ tool: 'pacman', label: 'pacman', command: { command: 'pacman', args: ['--version'] } });
    if (available.get('apt') === true)
      startup.push({ tool: 'apt', label: 'apt-get', command: { command: 'apt-get', args: ['--version'] } });
    if (available.get('dpkg') === true)
      startup.push({ tool: 'dpkg', label: 'dpkg', command: { command: 'dpkg', args: ['--version'] } });
    if (available.get('rpm') === true)
      startup.push({ tool: 'rpm', label: 'rpm', command: { command: 'rpm', args: ['--version'] } });
    const startRss = new Map<string, number | undefined>();
    for (const entry of startup) {
      const result = await runWithRss(entry.command);
      if (result.status !== 0)
        throw new Error(`bench: ${describe(entry.command)} exited with ${result.status ?? result.signal}`);
      startRss.set(entry.label, result.rssKiB);
    }
    const startTimes = new Map<string, number[]>(startup.map((entry) => [entry.label, []]));
    for (let run = 1; run <= runs; run++) {
      for (const entry of startup) {
        await pause(pauseMs);
        const result = await runTimed(entry.command);
        if (result.status !== 0)
          throw new Error(`bench: ${describe(entry.command)} exited with ${result.status ?? result.signal}`);
        startTimes.get(entry.label)!.push(result.ms / 1000);
      }
    }
    for (const entry of startup) {
      rows.push(
        makeRow(
          'start-up (--version)',
          'startup',
          entry.label,
          describe(entry.command),
          startTimes.get(entry.label)!,
          startRss.get(entry.label),
        ),
      );
    }
    log('start-up runs done');

    // Tool versions (untimed).
    if (available.get('kiln') === true) versions['kiln'] = firstLine(process.execPath, [KILN, '--version']);
    if (available.get('pacman') === true)
      versions['pacman'] =
        /Pacman v\S+ - libalpm v\S+/.exec(spawnSync('pacman', ['--version'], { encoding: 'utf8' }).stdout)?.[0] ?? '?';
    if (available.get('apt') === true) versions['apt'] = firstLine('apt-get', ['--version']);
    if (available.get('dpkg') === true) versions['dpkg'] = firstLine('dpkg', ['--version']);
    if (available.get('rpm') === true) versions['rpm'] = firstLine('rpm', ['--version']);
  } finally {
    searchFs?.cleanup();
    cleanupAll();
    await server?.close();
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }

  // Ratios against pacman's median of the same task (start-up: pacman --version).
  for (const row of rows) {
    const reference = rows.find((other) => other.taskKey === row.taskKey && other.tool === 'pacman');
    row.ratioToPacman = reference === undefined ? undefined : row.medianSeconds / reference.medianSeconds;
  }

  const cpuList = cpus();
  const results = {
    date: new Date().toISOString(),
    machine: {
      cpus: cpuList.length,
      cpuModel: cpuList[0]?.model ?? '?',
      kernel: `${osType()} ${release()}`,
      memoryGiB: Math.round(totalmem() / 1024 ** 3),
      clientFilesystem: chosenFsKind() ?? '?',
    },
    versions,
    index: {
      dir: paths.dir,
      packages: count,
      seed,
      generator: indexSet.generator,
      sizes: indexSet.sizes,
      terms: indexSet.terms,
    },
    runs,
    pauseSeconds: pauseMs / 1000,
    method:
      'each command a subprocess, tools taking turns, a pause before every run; sync: fresh client state on a fresh filesystem, wall + final sync; search: warm synced state; peak RSS from one extra untimed run under /usr/bin/time -f %M',
    semantics: {
      kiln: 'substring of name or summary, ignoring case; the newest version of each name',
      pacman:
        'POSIX extended regex, ignoring case, over name, description, provides and groups (the index has no provides or groups)',
      apt: 'POSIX regex, ignoring case, over names and full descriptions, plus the providers of a matching name (the index has no Provides)',
      note: 'the terms are lower-case letters only, so regex and substring mean the same',
    },
    hits: hitTable.map(({ term, hits }) => ({ term: term.term, key: term.key, expected: term.expectedHits, ...hits })),
    results: rows,
  };
  mkdirSync(OUT, { recursive: true });
  writeFileSync(join(OUT, 'index.json'), `${JSON.stringify(results, null, 2)}\n`);
  if (values.json) {
    console.log(JSON.stringify(results, null, 2));
    return;
  }

  const time = (seconds: number) =>
    seconds < 1 ? `${(seconds * 1000).toFixed(seconds < 0.01 ? 2 : 1)} ms` : `${seconds.toFixed(3)} s`;
  const range = (row: Row) =>
    row.minSeconds < 1 && row.maxSeconds < 1
      ? `${(row.minSeconds * 1000).toFixed(1)}–${(row.maxSeconds * 1000).toFixed(1)} ms`
      : `${row.minSeconds.toFixed(2)}–${row.maxSeconds.toFixed(2)} s`;
  const kib = (bytes: number) => `${(bytes / 1024).toFixed(0)} KiB`;
  const table: string[][] = [['task', 'tool', 'median', 'min–max', 'peak MiB', '× pacman', 'notes']];
  for (const row of rows) {
    let notes = '';
    if (row.taskKey === 'sync')
      notes = `tool ${time(median(row.toolSeconds!))} + sync ${time(median(row.syncSeconds!))}; ${kib(median(row.downloadedBytes!))} in ${median(row.requests!)} requests`;
    else if (row.hits !== undefined)
      notes = `${row.hits} hits${row.hits === row.expectedHits ? '' : ` (expected ${row.expectedHits})`}`;
    table.push([
      row.task,
      row.tool,
      time(row.medianSeconds),
      range(row),
      row.peakRssKiB === undefined ? '-' : (row.peakRssKiB / 1024).toFixed(1),
      row.ratioToPacman === undefined ? '-' : `${row.ratioToPacman.toFixed(2)}×`,
      notes,
    ]);
  }
  const widths = table[0]!.map((_, column) => Math.max(...table.map((line) => line[column]!.length)));
  const right = new Set([2, 3, 4, 5]);
  console.log(
    `\nIndex benchmark: ${count.toLocaleString('en-US')} packages (seed ${seed}), served over loopback HTTP; median of ${runs} run(s), ${pauseMs / 1000} s pause before each`,
  );
  console.log(
    `  machine: ${results.machine.cpus} CPUs (${results.machine.cpuModel}), ${results.machine.memoryGiB} GiB, ${results.machine.kernel}, Node.js ${process.version}`,
  );
  console.log(
    `  tools: ${Object.entries(versions)
      .filter(([name]) => name !== 'node')
      .map(([, version]) => version)
      .join('; ')}`,
  );
  console.log(
    `  index files: Kiln index ${(indexSet.sizes.kilnIndex / MIB).toFixed(1)} MiB JSON (+ signature); pacman bench.db ${(indexSet.sizes.pacmanDb / MIB).toFixed(2)} MiB gzip (${(indexSet.sizes.pacmanDbUncompressed / MIB).toFixed(1)} MiB tar); apt Packages ${(indexSet.sizes.aptPackages / MIB).toFixed(1)} MiB (.xz ${(indexSet.sizes.aptPackagesXz / MIB).toFixed(2)} MiB)`,
  );
  console.log(
    `  client state: fresh ${chosenFsKind() ?? '?'} filesystem per sync run; sync timed as wall + final sync`,
  );
  console.log('');
  for (const line of table)
    console.log(
      `  ${line
        .map((cell, column) => (right.has(column) ? cell.padStart(widths[column]!) : cell.padEnd(widths[column]!)))
        .join('  ')
        .trimEnd()}`,
    );
  console.log(
    '\n  hits per term (every tool searches names + summaries/descriptions; the terms are plain lower-case words, so',
  );
  console.log("  pacman's and apt-cache's regexes match what Kiln's substring search matches):");
  for (const { term, hits } of hitTable)
    console.log(
      `    "${term.term}": expected ${term.expectedHits}; ${Object.entries(hits)
        .map(([name, value]) => `${name} ${value}`)
        .join(', ')}`,
    );
  console.log(
    `  peak MiB: maximum resident set of one extra untimed run (/usr/bin/time -f %M); × pacman: median / pacman's median`,
  );
  console.log(`\nwritten: ${join(OUT, 'index.json')}`);
}

await main();

/**
 * `npm run bench:solve`: the PubGrub solver against libsolv on the same
 * generated problems (bench/solveGenerate.ts), both timed end to end as
 * subprocesses, reading the problem included:
 *   - Kiln: `kiln debug solve FILE.json` (the real CLI, node start-up
 *     included) when the CLI has that command, and always
 *     `node dist/bench/solveOnce.js FILE.json` (read, parse, solve, print:
 *     the same work without the CLI around it);
 *   - libsolv: Debian's `testsolv -r FILE.t` on the same problem written as a
 *     libsolv testcase (bench/solveTestcase.ts). As root the bench installs
 *     libsolv-tools with apt-get when testsolv is missing; otherwise that
 *     column is left out.
 * Both must agree on whether there is a solution (chosen versions may differ:
 * the preferences differ); a disagreement is printed as a warning. Kiln's
 * answer is also checked with verifyPlan, in-process, where the solver's
 * counters (decisions, conflicts) come from.
 *
 * Medians of several runs, the tools interleaved, with a pause before each
 * (see shared BENCHMARKING.md). Prints a table and writes bench-out/solve.json;
 * the problems stay in bench-out/solve/.
 *
 * Options: --shape random|distro (random: solveGenerate.ts; distro: a graph
 * shaped like a real distribution's, solveDistro.ts: layers and long chains,
 * virtual names with many providers, many versions of a few names,
 * conflicts, a consistent installed system), --names N[,N...] (default
 * 1000,5000,20000; distro 60000), --versions V (3, random only),
 * --seed S (1), --runs R (5), --pause SECONDS (2).
 */
import { spawnSync } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { parseProblem } from '../src/solver/problem.js';
import { solve, type SolveStats } from '../src/solver/pubgrub.js';
import { verifyPlan } from '../src/solver/verifyPlan.js';
import { generateDistroProblem } from './solveDistro.js';
import { generateProblem } from './solveGenerate.js';
import type { RawProblem } from './solveGenerate.js';
import { formatLibsolvTestcase } from './solveTestcase.js';

const { values } = parseArgs({
  options: {
    names: { type: 'string' },
    versions: { type: 'string', default: '3' },
    seed: { type: 'string', default: '1' },
    runs: { type: 'string', default: '5' },
    pause: { type: 'string', default: '2' },
    shape: { type: 'string', default: 'random' },
  },
});
const SHAPE = values.shape;
if (SHAPE !== 'random' && SHAPE !== 'distro')
  throw new Error(`bench: --shape is random or distro, not ${JSON.stringify(SHAPE)}`);
const SIZES = (values.names ?? (SHAPE === 'distro' ? '60000' : '1000,5000,20000'))
  .split(',')
  .map((text) => positive(text, '--names'));
const VERSIONS = positive(values.versions, '--versions');
const SEED = Number(values.seed);
const RUNS = positive(values.runs, '--runs');
const PAUSE_MS = Number(values.pause) * 1000;
const KILN = fileURLToPath(new URL('../src/cli/kiln.cjs', import.meta.url));
const SOLVE_ONCE = fileURLToPath(new URL('./solveOnce.js', import.meta.url));
const OUT = join('bench-out', 'solve');

function positive(text: string, flag: string): number {
  const value = Number(text);
  if (!Number.isInteger(value) || value < 1)
    throw new Error(`bench: ${flag} wants a positive whole number, not ${JSON.stringify(text)}`);
  return value;
}

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;

interface Run {
  ms: number;
  solved: boolean;
}

/** Runs a command once; `solved` is read from its output by `outcome`. */
function timeRun(command: string, args: string[], outcome: (stdout: string, status: number | null) => boolean): Run {
  const start = process.hrtime.bigint();
  const result = spawnSync(command, args, { encoding: 'utf8', maxBuffer: 1 << 30 });
  const ms = Number(process.hrtime.bigint() - start) / 1e6;
  if (result.error !== undefined) throw result.error;
  return { ms, solved: outcome(result.stdout, result.status) };
}

/** Kiln's answer: a plan (exit 0) or an explanation (exit 1), as JSON on stdout. */
function kilnOutcome(stdout: string, status: number | null): boolean {
  if (status !== 0 && status !== 1) throw new Error(`kiln exited with status ${status}`);
  const answer = JSON.parse(stdout) as { solved?: unknown };
  if (typeof answer.solved !== 'boolean') throw new Error('kiln printed no "solved" field');
  return answer.solved;
}

/** testsolv -r prints the transaction, or `problem …` lines when there is no solution. */
function testsolvOutcome(stdout: string, status: number | null): boolean {
  if (status !== 0) throw new Error(`testsolv exited with status ${status}`);
  return !/^problem /m.test(stdout);
}

/** Whether `kiln debug solve` works in this build (it is tried once on a one-package problem). */
async function cliSolves(): Promise<boolean> {
  const file = join(OUT, 'probe.json');
  await writeFile(file, JSON.stringify({ packages: [{ name: 'a', version: '1.0' }], request: { install: ['a'] } }));
  const result = spawnSync(process.execPath, [KILN, 'debug', 'solve', file], { encoding: 'utf8' });
  try {
    return result.status === 0 && kilnOutcome(result.stdout, result.status);
  } catch {
    return false;
  }
}

/** The path of testsolv, installing libsolv-tools first when missing and running as root; undefined when unavailable. */
function findTestsolv(): string | undefined {
  const which = () => spawnSync('sh', ['-c', 'command -v testsolv'], { encoding: 'utf8' }).stdout.trim();
  let path = which();
  if (path !== '') return path;
  if (process.getuid?.() !== 0) {
    console.error(
      'bench: testsolv is missing; install it with: apt-get install libsolv-tools (the libsolv column is left out)',
    );
    return undefined;
  }
  console.error('bench: installing libsolv-tools with apt-get (for testsolv)');
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  const install = () =>
    spawnSync('apt-get', ['install', '-y', '-qq', 'libsolv-tools'], { env, stdio: ['ignore', 'ignore', 'inherit'] })
      .status === 0;
  if (!install()) {
    spawnSync('apt-get', ['update', '-qq'], { env, stdio: ['ignore', 'ignore', 'inherit'] });
    install();
  }
  path = which();
  if (path === '') console.error('bench: could not install libsolv-tools; the libsolv column is left out');
  return path === '' ? undefined : path;
}

interface SizeResult {
  shape: string;
  names: number;
  edges: number;
  installed: number;
  versions: number;
  seed: number;
  packages: number;
  problemBytes: number;
  solved: boolean;
  installs: number | undefined;
  decisions: number;
  conflicts: number;
  learned: number;
  inProcessSolveSeconds: number;
  kilnCliMedianSeconds: number | undefined;
  kilnCliSeconds: number[] | undefined;
  solveOnceMedianSeconds: number;
  solveOnceSeconds: number[];
  testsolvMedianSeconds: number | undefined;
  testsolvSeconds: number[] | undefined;
  testsolvSolved: boolean | undefined;
  /** Kiln (the CLI when it works, else solveOnce) over testsolv, medians. */
  ratio: number | undefined;
}

/** The distro-shaped problem, its installed system the plan of its base request (solved here first). */
function distroProblem(names: number): RawProblem {
  const { baseRequest, ...raw } = generateDistroProblem({ names, seed: SEED });
  const system = solve(parseProblem(JSON.stringify({ ...raw, request: { install: baseRequest, remove: [] } })));
  if (!system.solved)
    throw new Error(
      `bench: the base system of the distro problem (${names} names) has no solution; try another --seed`,
    );
  return { ...raw, installed: system.install.map(({ name, version }) => ({ name, version })) };
}

async function measure(names: number, useCli: boolean, testsolv: string | undefined): Promise<SizeResult> {
  const base = join(
    OUT,
    SHAPE === 'distro' ? `distro-${names}-seed${SEED}` : `problem-${names}x${VERSIONS}-seed${SEED}`,
  );
  const json = SHAPE === 'distro' ? distroProblem(names) : generateProblem({ names, versions: VERSIONS, seed: SEED });
  const text = JSON.stringify(json);
  await writeFile(`${base}.json`, text);
  const problem = parseProblem(text);
  await writeFile(`${base}.t`, formatLibsolvTestcase(problem));

  // In-process: the counters, and a check of the plan that shares no code with the solver.
  const stats: SolveStats = { decisions: 0, conflicts: 0, learned: 0 };
  const started = performance.now();
  const result = solve(problem, stats);
  const inProcessMs = performance.now() - started;
  if (result.solved) {
    const broken = verifyPlan(problem, result);
    if (broken.length > 0)
      throw new Error(`bench: the plan for ${names} names breaks rules:\n${broken.slice(0, 5).join('\n')}`);
  }

  const cli: Run[] = [];
  const once: Run[] = [];
  const libsolv: Run[] = [];
  for (let run = 0; run < RUNS; run++) {
    console.error(`bench: ${names} names, run ${run + 1} of ${RUNS}`);
    if (useCli) {
      await pause(PAUSE_MS);
      cli.push(timeRun(process.execPath, [KILN, 'debug', 'solve', `${base}.json`], kilnOutcome));
    }
    await pause(PAUSE_MS);
    once.push(timeRun(process.execPath, [SOLVE_ONCE, `${base}.json`], kilnOutcome));
    if (testsolv !== undefined) {
      await pause(PAUSE_MS);
      libsolv.push(timeRun(testsolv, ['-r', `${base}.t`], testsolvOutcome));
    }
  }
  for (const run of [...cli, ...once]) {
    if (run.solved !== result.solved)
      throw new Error(`bench: kiln as a subprocess says solved=${run.solved}, in-process solved=${result.solved}`);
  }
  const testsolvSolved = libsolv[0]?.solved;
  if (testsolvSolved !== undefined && testsolvSolved !== result.solved) {
    console.error(
      `bench: WARNING: ${names} names: Kiln says ${result.solved ? 'solvable' : 'no solution'}, testsolv says ${testsolvSolved ? 'solvable' : 'no solution'} (${base}.json, ${base}.t)`,
    );
  }
  const seconds = (runs: Run[]) => runs.map((run) => run.ms / 1000);
  const kilnMedian = useCli ? median(seconds(cli)) : median(seconds(once));
  const libsolvMedian = testsolv === undefined ? undefined : median(seconds(libsolv));
  return {
    names,
    shape: SHAPE,
    versions: VERSIONS,
    seed: SEED,
    packages: json.packages.length,
    edges: json.packages.reduce((total, pkg) => total + pkg.depends.length, 0),
    installed: json.installed.length,
    problemBytes: text.length,
    solved: result.solved,
    installs: result.solved ? result.install.length : undefined,
    ...stats,
    inProcessSolveSeconds: inProcessMs / 1000,
    kilnCliMedianSeconds: useCli ? median(seconds(cli)) : undefined,
    kilnCliSeconds: useCli ? seconds(cli) : undefined,
    solveOnceMedianSeconds: median(seconds(once)),
    solveOnceSeconds: seconds(once),
    testsolvMedianSeconds: libsolvMedian,
    testsolvSeconds: testsolv === undefined ? undefined : seconds(libsolv),
    testsolvSolved,
    ratio: libsolvMedian === undefined ? undefined : kilnMedian / libsolvMedian,
  };
}

async function main(): Promise<void> {
  await mkdir(OUT, { recursive: true });
  const useCli = await cliSolves();
  if (!useCli) console.error('bench: "kiln debug solve" does not work in this build; timing bench/solveOnce.js only');
  const testsolv = findTestsolv();
  const results: SizeResult[] = [];
  for (const names of SIZES) results.push(await measure(names, useCli, testsolv));

  const s = (value: number | undefined) => (value === undefined ? '-' : value.toFixed(3));
  const header = [
    'names',
    'packages',
    'solved',
    useCli ? 'kiln CLI s' : 'kiln s',
    'solveOnce s',
    'testsolv s',
    'kiln/testsolv',
    'in-process s',
    'decisions',
    'conflicts',
  ];
  const rows = results.map((r) => [
    String(r.names),
    String(r.packages),
    r.solved ? 'yes' : 'no',
    useCli ? s(r.kilnCliMedianSeconds) : s(r.solveOnceMedianSeconds),
    s(r.solveOnceMedianSeconds),
    s(r.testsolvMedianSeconds),
    r.ratio === undefined ? '-' : `${r.ratio.toFixed(2)}x`,
    s(r.inProcessSolveSeconds),
    String(r.decisions),
    String(r.conflicts),
  ]);
  const widths = header.map((title, i) => Math.max(title.length, ...rows.map((row) => (row[i] as string).length)));
  const line = (cells: string[]) =>
    `  ${cells.map((cell, i) => (i < 3 ? cell.padEnd(widths[i] as number) : cell.padStart(widths[i] as number))).join('  ')}`;
  console.log(
    `\nSolver benchmark: ${SHAPE === 'distro' ? 'distribution-shaped graph' : `${VERSIONS} versions per name`}, seed ${SEED}, medians of ${RUNS} runs (wall time, subprocess, reading the problem included)`,
  );
  console.log(line(header));
  for (const row of rows) console.log(line(row));
  console.log(
    '  in-process s: one solve() call on the parsed problem (model, search, plan; no start-up, file read or parse), where decisions and conflicts come from',
  );
  const output = {
    machine: { node: process.version, cpus: cpus().length },
    kilnCommand: useCli ? 'kiln debug solve FILE.json' : 'node dist/bench/solveOnce.js FILE.json',
    testsolv: testsolv ?? null,
    runs: RUNS,
    pauseSeconds: PAUSE_MS / 1000,
    results,
  };
  await writeFile(join('bench-out', 'solve.json'), `${JSON.stringify(output, null, 2)}\n`);
  console.log(`\nwritten: bench-out/solve.json (problems in ${OUT}/)`);
}

await main();

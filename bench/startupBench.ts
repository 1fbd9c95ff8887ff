/**
 * `npm run bench:startup [-- --prefix DIR] [--runs N] [--callgrind]`: what a
 * query costs beyond Node's own start-up (`node -e 0`). For `kiln --version`,
 * `list`, `owns` and `search`, run from the bundle with its code cache (what
 * the `kiln` command runs) and from the modules (KILN_NO_BUNDLE=1), it prints
 * the median and lowest wall time of N runs, taken round-robin with a pause
 * before each, so that every command sees the same machine. With
 * `--callgrind` (valgrind installed) it also counts the instructions of one
 * run of each: a figure that barely moves on a noisy machine.
 *
 * Node reads the file NODE_EXTRA_CA_CERTS names at every start (some machines
 * set it for all processes); the runs are made without it, and, when it is
 * set here, `node -e 0` is also timed with it to show what it adds.
 *
 * The prefix: --prefix, else the demo's (npm run demo), else a fresh
 * initialised one. Figures go to bench-out/startup.json.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';
import { have, median, pause, removeScratch, scratchDir } from './measure.js';

const PROJECT = resolve(fileURLToPath(new URL('../..', import.meta.url)));
const KILN = join(PROJECT, 'dist/src/cli/kiln.cjs');
const { values } = parseArgs({
  options: {
    prefix: { type: 'string' },
    runs: { type: 'string', default: '30' },
    callgrind: { type: 'boolean', default: false },
  },
});
const runs = Number(values.runs);
const log = (line: string): void => void process.stdout.write(`${line}\n`);

const scratch = scratchDir('kiln-startup-bench-', '/tmp');
const demo = join(PROJECT, 'demo-out/home/my stack');
let prefix = values.prefix ?? (existsSync(join(demo, 'etc/kiln/config.toml')) ? demo : join(scratch, 'prefix'));
if (!existsSync(join(prefix, 'etc/kiln/config.toml'))) {
  if (values.prefix !== undefined) throw new Error(`${prefix} is not a Kiln prefix`);
  prefix = join(scratch, 'prefix');
  spawnSync(process.execPath, [KILN, '--prefix', prefix, 'init'], { stdio: 'ignore' });
}
const json = <T>(...args: string[]): T =>
  (
    JSON.parse(
      spawnSync(process.execPath, [KILN, '--prefix', prefix, ...args, '--json'], { encoding: 'utf8' }).stdout,
    ) as { data: T }
  ).data;
const installed = json<{ name: string }[]>('list');
const packages = installed.length;
// A file the first package owns, when there is one, so that owns answers with a package.
const first = installed[0]?.name;
const files = first === undefined ? [] : json<{ path: string; type: string }[]>('files', first);
const ownedPath = files.find((file) => file.type === 'file')?.path ?? 'bin/none';

const clean = { PATH: process.env['PATH'] ?? '/usr/bin:/bin', HOME: scratch };
interface Case {
  label: string;
  args: string[];
  env: NodeJS.ProcessEnv;
}
const cases: Case[] = [{ label: 'node -e 0', args: ['-e', '0'], env: clean }];
const caCerts = process.env['NODE_EXTRA_CA_CERTS'];
if (caCerts !== undefined)
  cases.push({
    label: 'node -e 0, with NODE_EXTRA_CA_CERTS',
    args: ['-e', '0'],
    env: { ...clean, NODE_EXTRA_CA_CERTS: caCerts },
  });
const queries: [string, string[]][] = [
  ['--version', ['--version']],
  ['list', ['--prefix', prefix, 'list']],
  ['owns', ['--prefix', prefix, 'owns', ownedPath]],
  ['search', ['--prefix', prefix, 'search', 'zlib']],
];
for (const [label, args] of queries) {
  cases.push({ label: `kiln ${label}`, args: [KILN, ...args], env: clean });
  cases.push({ label: `kiln ${label}, modules`, args: [KILN, ...args], env: { ...clean, KILN_NO_BUNDLE: '1' } });
}

/** Wall milliseconds of one run; the exit status is not checked (owns of an unowned path fails), the output is. */
function once(entry: Case): { ms: number; output: string } {
  const start = performance.now();
  const result = spawnSync(process.execPath, entry.args, { encoding: 'utf8', env: entry.env });
  const ms = performance.now() - start;
  if (result.error !== undefined) throw result.error;
  return { ms, output: `${result.status}\n${result.stdout}${result.stderr}` };
}

log(`prefix: ${prefix} (${packages} packages installed); owns ${ownedPath}; ${runs} runs each, round-robin`);
const times = new Map<string, number[]>(cases.map((entry) => [entry.label, []]));
const outputs = new Map<string, string>();
for (const entry of cases) outputs.set(entry.label, once(entry).output); // warm-up, and the output to compare with
for (let round = 0; round < runs; round++) {
  for (const entry of cases) {
    await pause(50);
    const { ms, output } = once(entry);
    if (output !== outputs.get(entry.label)) throw new Error(`${entry.label}: the output changed between runs`);
    times.get(entry.label)!.push(ms);
  }
}
const instructions = new Map<string, number>();
if (values.callgrind) {
  if (!have('valgrind')) log('valgrind is not installed: no instruction counts');
  else
    for (const entry of cases) {
      const result = spawnSync(
        'valgrind',
        ['--tool=callgrind', '--callgrind-out-file=/dev/null', process.execPath, ...entry.args],
        { encoding: 'utf8', env: entry.env },
      );
      const collected = /Collected : (\d+)/.exec(result.stderr)?.[1];
      if (collected !== undefined) instructions.set(entry.label, Number(collected));
    }
}

const base = median(times.get('node -e 0')!);
const rows = cases.map((entry) => {
  const xs = times.get(entry.label)!;
  return {
    label: entry.label,
    medianMs: median(xs),
    minMs: Math.min(...xs),
    overNodeMs: median(xs) - base,
    ...(instructions.has(entry.label) ? { instructions: instructions.get(entry.label) } : {}),
  };
});
const baseInstructions = instructions.get('node -e 0');
log('');
log(
  `${'command'.padEnd(42)} ${'median'.padStart(8)} ${'lowest'.padStart(8)} ${'over node'.padStart(10)}${baseInstructions === undefined ? '' : `  ${'instructions'.padStart(13)} ${'over node'.padStart(11)}`}`,
);
for (const row of rows) {
  const counted =
    row.instructions === undefined || baseInstructions === undefined
      ? ''
      : `  ${(row.instructions / 1e6).toFixed(1).padStart(12)}M ${((row.instructions - baseInstructions) / 1e6).toFixed(1).padStart(10)}M`;
  log(
    `${row.label.padEnd(42)} ${row.medianMs.toFixed(1).padStart(6)}ms ${row.minMs.toFixed(1).padStart(6)}ms ${row.overNodeMs.toFixed(1).padStart(8)}ms${counted}`,
  );
}
mkdirSync(join(PROJECT, 'bench-out'), { recursive: true });
writeFileSync(
  join(PROJECT, 'bench-out/startup.json'),
  `${JSON.stringify({ date: new Date().toISOString(), node: process.version, prefix, packages, runs, rows }, null, 2)}\n`,
);
removeScratch(scratch);

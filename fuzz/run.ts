/**
 * `npm run fuzz -- [TARGET...|all] [--seconds N]`: a coverage-guided fuzzer
 * for Kiln's readers of untrusted input (targets.ts). Each target starts from
 * its seeds and the corpus kept in the repository (fuzz/corpus/TARGET/), then
 * mutates inputs (bit flips, byte changes, inserted and deleted ranges,
 * splices, the format's own tokens, boundary integers) and keeps every input
 * that runs a block of Kiln's code no input ran before (V8's block coverage,
 * coverage.ts). A finding is an input that makes a reader throw anything but
 * a KilnError, or take longer than --slow-ms; each is written to
 * fuzz-out/TARGET/ with its stack, and the run exits 1.
 *
 * Options: --seconds N per target (10), --max-len BYTES (65536), --seed N
 * (random), --slow-ms MS (2000), --replay (run the seeds and corpus only),
 * --out DIR (fuzz-out), --save-corpus (add the inputs that reached new code,
 * up to 4 KiB and 16 per target, to fuzz/corpus/TARGET/). Prints executions, executions per second, corpus
 * size and blocks reached per target; writes OUT/report.json.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { isKilnError } from '../src/errors/index.js';
import { Coverage } from './coverage.js';
import type { Target } from './targets.js';
import { TARGETS } from './targets.js';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    seconds: { type: 'string', default: '10' },
    'max-len': { type: 'string', default: '65536' },
    seed: { type: 'string' },
    'slow-ms': { type: 'string', default: '2000' },
    replay: { type: 'boolean', default: false },
    out: { type: 'string', default: 'fuzz-out' },
    'save-corpus': { type: 'boolean', default: false },
  },
});
const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const CORPUS = join(ROOT, 'fuzz', 'corpus');
const SECONDS = Number(values.seconds);
const MAX_LEN = Number(values['max-len']);
const SLOW_MS = Number(values['slow-ms']);

/** xorshift32: a run can be repeated with --seed. */
let state = Number(values.seed ?? Math.floor(Math.random() * 2 ** 31)) >>> 0 || 1;
const seedUsed = state;
function random(below: number): number {
  state ^= state << 13;
  state >>>= 0;
  state ^= state >>> 17;
  state ^= state << 5;
  state >>>= 0;
  return below <= 0 ? 0 : state % below;
}

const INTERESTING = [0, 1, 0x7f, 0x80, 0xff, 0x7fff, 0x8000, 0xffff, 0x7fffffff, 0x80000000, 0xffffffff];

function mutate(parent: Buffer, dictionary: readonly string[], queue: readonly Buffer[]): Buffer {
  let data = Buffer.from(parent);
  const rounds = 1 + random(4);
  for (let round = 0; round < rounds; round++) {
    const at = random(data.length + 1);
    switch (random(11)) {
      case 0:
        if (data.length > 0) data[at % data.length]! ^= 1 << random(8);
        break;
      case 1:
        if (data.length > 0) data[at % data.length] = random(256);
        break;
      case 2:
        if (data.length > 0) data[at % data.length] = INTERESTING[random(5)]!;
        break;
      case 3: {
        const bytes = Buffer.alloc(1 + random(8));
        for (let i = 0; i < bytes.length; i++) bytes[i] = random(256);
        data = Buffer.concat([data.subarray(0, at), bytes, data.subarray(at)]);
        break;
      }
      case 4: {
        const end = Math.min(data.length, at + 1 + random(16));
        data = Buffer.concat([data.subarray(0, at), data.subarray(end)]);
        break;
      }
      case 5: {
        const end = Math.min(data.length, at + 1 + random(32));
        data = Buffer.concat([data.subarray(0, end), data.subarray(at, end), data.subarray(end)]);
        break;
      }
      case 6:
      case 7:
        if (dictionary.length > 0) {
          const token = Buffer.from(dictionary[random(dictionary.length)]!, 'latin1');
          const replace = random(2) === 0 ? 0 : Math.min(data.length - at, token.length);
          data = Buffer.concat([data.subarray(0, at), token, data.subarray(at + replace)]);
        }
        break;
      case 8: {
        const other = queue[random(queue.length)];
        if (other !== undefined) data = Buffer.concat([data.subarray(0, at), other.subarray(random(other.length + 1))]);
        break;
      }
      case 9:
        if (data.length >= 4) data.writeUInt32LE(INTERESTING[random(INTERESTING.length)]!, Math.min(at, data.length - 4));
        break;
      default:
        data = data.subarray(0, at);
    }
  }
  return data.length > MAX_LEN ? data.subarray(0, MAX_LEN) : data;
}

interface Finding {
  kind: 'exception' | 'slow';
  message: string;
  file: string;
}

interface TargetReport {
  target: string;
  seconds: number;
  executions: number;
  perSecond: number;
  corpus: number;
  blocks: number;
  findings: Finding[];
}

async function fuzzTarget(name: string, target: Target, coverage: Coverage): Promise<TargetReport> {
  const work = mkdtempSync(join(tmpdir(), `kiln-fuzz-${name}-`));
  const outDir = join(values.out, name);
  const findings: Finding[] = [];
  const seen = new Set<string>();
  const reached = new Set<string>();
  const queue: Buffer[] = [];
  let executions = 0;
  const execute = async (data: Buffer): Promise<boolean> => {
    coverage.take();
    const started = performance.now();
    let problem: string | undefined;
    try {
      await target.run(data);
    } catch (error) {
      if (!isKilnError(error)) problem = error instanceof Error ? (error.stack ?? error.message) : String(error);
    }
    const ms = performance.now() - started;
    executions++;
    if (problem === undefined && ms > SLOW_MS) problem = `slow: ${ms.toFixed(0)} ms for ${data.length} bytes`;
    if (problem !== undefined) {
      // One finding per distinct message and place.
      const key = problem.split('\n').slice(0, 2).join('\n');
      if (!seen.has(key)) {
        seen.add(key);
        const digest = createHash('sha256').update(data).digest('hex').slice(0, 16);
        mkdirSync(outDir, { recursive: true });
        const file = join(outDir, `${problem.startsWith('slow') ? 'slow' : 'crash'}-${digest}`);
        writeFileSync(file, data);
        writeFileSync(`${file}.txt`, `${problem}\n`);
        findings.push({ kind: problem.startsWith('slow') ? 'slow' : 'exception', message: key, file });
      }
    }
    let novel = false;
    for (const block of coverage.take())
      if (!reached.has(block)) {
        reached.add(block);
        novel = true;
      }
    return novel;
  };
  const started = performance.now();
  try {
    const kept = (() => {
      try {
        return readdirSync(join(CORPUS, name)).map((file) => readFileSync(join(CORPUS, name, file)));
      } catch {
        return [];
      }
    })();
    for (const input of [...(await target.seeds(work, ROOT)), ...kept]) {
      await execute(input);
      queue.push(input);
    }
    const deadline = started + SECONDS * 1000;
    const found: Buffer[] = [];
    while (!values.replay && performance.now() < deadline) {
      const child = mutate(queue[random(queue.length)] ?? Buffer.alloc(0), target.dictionary, queue);
      if (await execute(child)) {
        queue.push(child);
        found.push(child);
      }
    }
    if (values['save-corpus']) {
      const keep = found.filter((input) => input.length <= 4096).slice(-16);
      if (keep.length > 0) mkdirSync(join(CORPUS, name), { recursive: true });
      for (const input of keep)
        writeFileSync(join(CORPUS, name, createHash('sha256').update(input).digest('hex').slice(0, 16)), input);
    }
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
  const seconds = (performance.now() - started) / 1000;
  return {
    target: name,
    seconds,
    executions,
    perSecond: executions / seconds,
    corpus: queue.length,
    blocks: reached.size,
    findings,
  };
}

async function main(): Promise<void> {
  const names = positionals.length === 0 || positionals.includes('all') ? Object.keys(TARGETS) : positionals;
  for (const name of names)
    if (TARGETS[name] === undefined) {
      console.error(`fuzz: no target ${name}; targets: ${Object.keys(TARGETS).join(', ')}`);
      process.exit(2);
    }
  const coverage = new Coverage((url) => url.includes('/dist/src/'));
  const reports: TargetReport[] = [];
  for (const name of names) {
    const report = await fuzzTarget(name, TARGETS[name]!, coverage);
    reports.push(report);
    console.error(
      `fuzz: ${name}: ${report.executions} executions in ${report.seconds.toFixed(1)} s (${report.perSecond.toFixed(0)}/s), corpus ${report.corpus}, ${report.blocks} blocks, ${report.findings.length} finding(s)`,
    );
    for (const finding of report.findings) console.error(`  ${finding.kind}: ${finding.message.split('\n')[0]} (${finding.file})`);
  }
  coverage.close();
  mkdirSync(values.out, { recursive: true });
  writeFileSync(join(values.out, 'report.json'), `${JSON.stringify({ seed: seedUsed, reports }, null, 2)}\n`);
  const found = reports.reduce((sum, report) => sum + report.findings.length, 0);
  console.log(
    `\nFuzzing, seed ${seedUsed}${values.replay ? ', corpus replay only' : `, ${SECONDS} s per target`}:\n${reports
      .map(
        (report) =>
          `  ${report.target.padEnd(14)} ${String(report.executions).padStart(8)} executions  ${report.perSecond.toFixed(0).padStart(6)}/s  corpus ${String(report.corpus).padStart(4)}  blocks ${String(report.blocks).padStart(5)}  findings ${report.findings.length}`,
      )
      .join('\n')}\n`,
  );
  process.exit(found > 0 ? 1 : 0);
}

await main();

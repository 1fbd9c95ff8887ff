/**
 * The long run of the lock stress tests (scripts/stress.sh, `npm run stress`):
 *
 *   node dist/test/stress/run.js [prefix|repo|all] [--commands N] [--seed N] [--concurrency N] [--shared-cache]
 *
 * Prints what happened and every problem found; exits 1 if there was one.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { runPrefixStress } from './prefixStress.js';
import { runRepoStress } from './repoStress.js';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    commands: { type: 'string', default: '2000' },
    seed: { type: 'string', default: '1' },
    concurrency: { type: 'string', default: '8' },
    'shared-cache': { type: 'boolean', default: false },
    keep: { type: 'boolean', default: false },
  },
});
const which = positionals[0] ?? 'all';
const commands = Number(values.commands);
const seed = Number(values.seed);
const concurrency = Number(values.concurrency);
let failed = false;

async function inTemporary<T>(name: string, fn: (dir: string) => Promise<T>): Promise<T> {
  const dir = mkdtempSync(join(tmpdir(), `kiln-stress-${name}-`));
  try {
    return await fn(dir);
  } finally {
    if (values.keep) console.log(`kept ${dir}`);
    else rmSync(dir, { recursive: true, force: true });
  }
}

if (which === 'prefix' || which === 'all') {
  const report = await inTemporary('prefix', (dir) =>
    runPrefixStress({
      dir,
      commands,
      concurrency,
      phaseSize: 60,
      seed,
      groups: 6,
      holderKillChance: 0.3,
      holderWindowMs: 120,
      randomKillEveryMs: [300, 1500],
      sharedCache: values['shared-cache'],
      log: (line) => console.log(line),
    }),
  );
  const { problems, ...figures } = report;
  console.log(JSON.stringify(figures, null, 2));
  for (const line of problems) console.log(`PROBLEM ${line}`);
  failed ||= problems.length > 0;
}
if (which === 'repo' || which === 'all') {
  const report = await inTemporary('repo', (dir) =>
    runRepoStress({
      dir,
      commits: Math.max(10, Math.round(commands / 10)),
      seed,
      holderKillChance: 0.35,
      holderWindowMs: 400,
      randomKillEveryMs: [1000, 3000],
      log: (line) => console.log(line),
    }),
  );
  const { problems, ...figures } = report;
  console.log(JSON.stringify(figures, null, 2));
  for (const line of problems) console.log(`PROBLEM ${line}`);
  failed ||= problems.length > 0;
}
process.exitCode = failed ? 1 : 0;

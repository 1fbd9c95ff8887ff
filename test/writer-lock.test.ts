/**
 * One writer at a time, even when writers die: eight kiln processes on one
 * prefix (installs, upgrades, downgrades, reinstalls, removes and reads),
 * the lock holder killed often and other writers at random; then two
 * maintainers committing to one repository, killed the same way. What is
 * checked is described in test/stress/prefixStress.ts and repoStress.ts.
 *
 * Bounded here (about a minute); `npm run stress` runs thousands of commands
 * (KILN_STRESS_COMMANDS raises the count of this test's run too).
 */
import * as assert from 'node:assert/strict';
import { test } from 'node:test';
import { tempDir } from './helpers/kiln.js';
import { runPrefixStress } from './stress/prefixStress.js';
import { runRepoStress } from './stress/repoStress.js';

const COMMANDS = Number(process.env['KILN_STRESS_COMMANDS'] ?? 240);

test('eight processes on one prefix, lock holders killed: every kill leaves before or after, the prefix verifies, and equals a one-transaction install', async (t) => {
  const report = await runPrefixStress({
    dir: await tempDir(t),
    commands: COMMANDS,
    concurrency: 8,
    phaseSize: 60,
    seed: 20261203,
    groups: 6,
    holderKillChance: 0.3,
    holderWindowMs: 120,
    randomKillEveryMs: [300, 1500],
    sharedCache: true,
    log: (line) => t.diagnostic(line),
  });
  const { problems, ...figures } = report;
  t.diagnostic(JSON.stringify(figures));
  assert.deepEqual(problems, []);
  assert.ok(report.holderKills >= 10, `lock holders were killed (${report.holderKills})`);
  assert.ok(report.transactions >= 20, `transactions were committed (${report.transactions})`);
});

test('two maintainers on one repository, the lock holder killed: serials go up by one, nothing staged is lost, the index verifies', async (t) => {
  const report = await runRepoStress({
    dir: await tempDir(t),
    commits: Math.max(10, Math.round(COMMANDS / 8)),
    seed: 20261203,
    holderKillChance: 0.35,
    holderWindowMs: 400,
    randomKillEveryMs: [1000, 3000],
    log: (line) => t.diagnostic(line),
  });
  const { problems, ...figures } = report;
  t.diagnostic(JSON.stringify(figures));
  assert.deepEqual(problems, []);
  assert.ok(report.killed >= 3, `maintainers were killed (${report.killed})`);
  assert.ok(report.published >= 3, `commits were published (${report.published})`);
});

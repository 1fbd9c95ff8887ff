/**
 * The fuzzer (fuzz/run.ts) as CI runs it: every target for a short budget,
 * from its seeds and the corpus kept in fuzz/corpus/ (each finding fixed so
 * far has its input there, so this replays every regression case). A reader
 * that throws anything but a KilnError, or hangs, fails the run.
 */
import * as assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { run, tempDir } from './helpers/kiln.js';

const RUNNER = fileURLToPath(new URL('../fuzz/run.js', import.meta.url));

test('fuzzing: every target, from its seeds and the kept corpus, runs for a short budget and finds nothing', async (t) => {
  const out = await tempDir(t);
  const result = await run(process.execPath, [RUNNER, 'all', '--seconds', '1', '--out', out]);
  assert.equal(result.code, 0, `${result.stdout}\n${result.stderr}`);
  const report = JSON.parse(await readFile(join(out, 'report.json'), 'utf8')) as {
    reports: { target: string; executions: number; corpus: number; blocks: number; findings: unknown[] }[];
  };
  assert.ok(report.reports.length >= 17, `${report.reports.length} targets`);
  for (const target of report.reports) {
    assert.deepEqual(target.findings, [], target.target);
    assert.ok(target.executions > 50, `${target.target}: ${target.executions} executions`);
    assert.ok(target.blocks > 0, `${target.target} reached Kiln's code`);
  }
});

/**
 * Runs every solver case in test/solver-cases/: each file is one problem and
 * its expected outcome (a plan, an explanation's key phrases, or a reader
 * error naming the field). Every plan found is also checked by verifyPlan,
 * and every case is solved twice to check the answer is deterministic.
 */
import * as assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { isKilnError } from '../src/errors/index.js';
import { readProblem, type PlanEntry } from '../src/solver/problem.js';
import { solve } from '../src/solver/pubgrub.js';
import { verifyPlan } from '../src/solver/verifyPlan.js';

// The compiled test lives two levels below the project root (dist/test/), the case files are not compiled.
const casesDir = fileURLToPath(new URL('../../test/solver-cases/', import.meta.url));

interface Case {
  description: string;
  problem: unknown;
  expect:
    | { solved: true; install: PlanEntry[]; remove: PlanEntry[]; keep?: PlanEntry[] }
    | { solved: false; explanationContains: string[]; hintContains?: string[] }
    | { error: string; messageContains: string[] };
}

const files = readdirSync(casesDir).filter((f) => f.endsWith('.json')).sort();

test('there are at least 40 solver cases', () => {
  assert.ok(files.length >= 40, `only ${files.length} case files in ${casesDir}`);
});

for (const file of files) {
  const data = JSON.parse(readFileSync(casesDir + file, 'utf8')) as Case;
  test(`${file}: ${data.description}`, () => {
    const expect = data.expect;
    if ('error' in expect) {
      assert.throws(() => readProblem(data.problem), (error: unknown) => {
        assert.ok(isKilnError(error), `expected a KilnError, got ${String(error)}`);
        assert.equal(error.code, expect.error);
        for (const phrase of expect.messageContains) assert.ok(error.message.includes(phrase), `message ${JSON.stringify(error.message)} lacks ${JSON.stringify(phrase)}`);
        return true;
      });
      return;
    }
    const problem = readProblem(data.problem);
    const result = solve(problem);
    assert.deepEqual(solve(readProblem(data.problem)), result, 'the same problem gave a different answer');
    if (expect.solved) {
      assert.ok(result.solved, `expected a solution, got:\n${result.solved ? '' : result.explanation.join('\n')}`);
      assert.deepEqual(result.install, expect.install, 'install');
      assert.deepEqual(result.remove, expect.remove, 'remove');
      if (expect.keep !== undefined) assert.deepEqual(result.keep, expect.keep, 'keep');
      assert.deepEqual(verifyPlan(problem, result), []);
    } else {
      assert.ok(!result.solved, `expected no solution, got ${JSON.stringify(result)}`);
      const text = result.explanation.join('\n');
      for (const phrase of expect.explanationContains) assert.ok(text.includes(phrase), `explanation lacks ${JSON.stringify(phrase)}:\n${text}`);
      for (const phrase of expect.hintContains ?? []) assert.ok(result.hint.includes(phrase), `hint lacks ${JSON.stringify(phrase)}: ${result.hint}`);
      assert.match(result.explanation[result.explanation.length - 1] ?? '', /version solving failed\.$/);
    }
  });
}

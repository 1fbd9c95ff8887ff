/**
 * Runs every solver case in test/solver-cases/: each file is one problem and
 * its expected outcome (a plan, an explanation's key phrases, or a reader
 * error naming the field). Every plan found is also checked by verifyPlan,
 * and every case is solved twice to check the answer is deterministic.
 *
 * A solved case may also check the ordered plan:
 * - `steps`: partial step objects that must appear in `result.steps` in this
 *   relative order (not necessarily next to each other), each matching on
 *   every field given; `reasonContains` checks a substring of `reason`.
 * - `stepsExact`: the whole plan as `ACTION NAME` strings, in order.
 * - `cycles`: substrings each found in some entry of `result.cycles`;
 *   `[]` means no cycle may be reported.
 */
import { parseJson } from './helpers/kiln.js';
import * as assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { isKilnError } from '../src/errors/index.js';
import { readProblem, type PlanEntry, type PlanStep } from '../src/solver/problem.js';
import { solve } from '../src/solver/pubgrub.js';
import { verifyPlan } from '../src/solver/verifyPlan.js';

// The compiled test lives two levels below the project root (dist/test/), the case files are not compiled.
const casesDir = fileURLToPath(new URL('../../test/solver-cases/', import.meta.url));

/** A step as a case writes it: any fields of a plan step, and a substring of its reason. */
type ExpectedStep = { [field: string]: unknown; reasonContains?: string };

interface Case {
  description: string;
  problem: unknown;
  expect:
    | {
        solved: true;
        install: PlanEntry[];
        remove: PlanEntry[];
        keep?: PlanEntry[];
        steps?: ExpectedStep[];
        stepsExact?: string[];
        cycles?: string[];
      }
    | { solved: false; explanationContains: string[]; hintContains?: string[] }
    | { error: string; messageContains: string[] };
}

const files = readdirSync(casesDir)
  .filter((f) => f.endsWith('.json'))
  .sort();

test('there are at least 40 solver cases', () => {
  assert.ok(files.length >= 40, `only ${files.length} case files in ${casesDir}`);
});

/** Whether a plan step matches every field an expected step gives. */
function stepMatches(step: PlanStep, expected: ExpectedStep): boolean {
  for (const [field, value] of Object.entries(expected)) {
    if (field === 'reasonContains') {
      if (typeof value !== 'string' || !step.reason.includes(value)) return false;
      continue;
    }
    try {
      assert.deepEqual((step as Record<string, unknown>)[field], value);
    } catch {
      return false;
    }
  }
  return true;
}

/** Checks that the expected steps appear in `steps` in their relative order. */
function assertStepsInOrder(steps: readonly PlanStep[], expected: readonly ExpectedStep[]): void {
  let at = 0;
  for (const [i, want] of expected.entries()) {
    let found = -1;
    for (let j = at; j < steps.length; j++) {
      if (stepMatches(steps[j] as PlanStep, want)) {
        found = j;
        break;
      }
    }
    if (found === -1) {
      const anywhere = steps.findIndex((step) => stepMatches(step, want));
      const where =
        anywhere === -1
          ? 'no step matches it'
          : `it matches step ${anywhere}, which is before the step matching the previous expected one`;
      assert.fail(
        `expected step ${i} ${JSON.stringify(want)} not found in order (${where}); steps:\n${steps.map((s) => JSON.stringify(s)).join('\n')}`,
      );
    }
    at = found + 1;
  }
}

for (const file of files) {
  const data = parseJson(readFileSync(casesDir + file, 'utf8')) as Case;
  test(`${file}: ${data.description}`, () => {
    const expect = data.expect;
    if ('error' in expect) {
      assert.throws(
        () => readProblem(data.problem),
        (error: unknown) => {
          assert.ok(isKilnError(error), `expected a KilnError, got ${String(error)}`);
          assert.equal(error.code, expect.error);
          for (const phrase of expect.messageContains)
            assert.ok(
              error.message.includes(phrase),
              `message ${JSON.stringify(error.message)} lacks ${JSON.stringify(phrase)}`,
            );
          return true;
        },
      );
      return;
    }
    const problem = readProblem(data.problem);
    const result = solve(problem);
    assert.deepEqual(solve(readProblem(data.problem)), result, 'the same problem gave a different answer');
    if (expect.solved) {
      assert.ok(
        result.solved,
        `expected a solution, got:\n${result.solved ? '' : `${result.explanation.join('\n')}\nhint: ${result.hint}`}`,
      );
      assert.deepEqual(result.install, expect.install, 'install');
      assert.deepEqual(result.remove, expect.remove, 'remove');
      if (expect.keep !== undefined) assert.deepEqual(result.keep, expect.keep, 'keep');
      if (expect.stepsExact !== undefined)
        assert.deepEqual(
          result.steps.map((step) => `${step.action} ${step.name}`),
          expect.stepsExact,
          'stepsExact',
        );
      if (expect.steps !== undefined) assertStepsInOrder(result.steps, expect.steps);
      if (expect.cycles !== undefined) {
        if (expect.cycles.length === 0) assert.deepEqual(result.cycles, [], 'cycles');
        for (const phrase of expect.cycles)
          assert.ok(
            result.cycles.some((cycle) => cycle.includes(phrase)),
            `no cycle mentions ${JSON.stringify(phrase)}: ${JSON.stringify(result.cycles)}`,
          );
      }
      assert.deepEqual(verifyPlan(problem, result), []);
    } else {
      assert.ok(!result.solved, `expected no solution, got ${JSON.stringify(result)}`);
      const text = result.explanation.join('\n');
      for (const phrase of expect.explanationContains)
        assert.ok(text.includes(phrase), `explanation lacks ${JSON.stringify(phrase)}:\n${text}`);
      for (const phrase of expect.hintContains ?? [])
        assert.ok(result.hint.includes(phrase), `hint lacks ${JSON.stringify(phrase)}: ${result.hint}`);
      assert.match(result.explanation[result.explanation.length - 1] ?? '', /version solving failed\.$/);
    }
  });
}

/**
 * `node dist/bench/solveOnce.js FILE.json`: reads a solver problem, solves it
 * and prints the answer as JSON on stdout, with the solver's counters
 * (`stats`) added. The stand-in that `npm run bench:solve` times when the CLI
 * has no `kiln debug solve` command; it does the same work (read, parse,
 * solve, print) without the CLI's start-up.
 */
import { readFileSync } from 'node:fs';
import { parseProblem } from '../src/solver/problem.js';
import { solve, type SolveStats } from '../src/solver/pubgrub.js';

const file = process.argv[2];
if (file === undefined) {
  console.error('usage: solveOnce FILE.json');
  process.exit(2);
}
const stats: SolveStats = { decisions: 0, conflicts: 0, learned: 0 };
const result = solve(parseProblem(readFileSync(file, 'utf8')), stats);
process.stdout.write(`${JSON.stringify({ ...result, stats })}\n`);

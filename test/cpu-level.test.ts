/**
 * The host's CPU level, against the machine itself: the levels Kiln detects
 * are the ones glibc's own loader reports, and the /proc/cpuinfo fallback
 * agrees with it.
 */
import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { test } from 'node:test';
import { cpuinfoFlags, missingX86Features, X86_64_LEVELS, x86Levels } from '../src/solver/cpuLevel.js';
import { DEFAULT_X86_64_LOADER, detectHost, detectX86Levels } from '../src/solver/hostTarget.js';

/**
 * What this machine's glibc loader says, read here with a pattern of the
 * test's own rather than Kiln's parser: the baseline and every level marked
 * "supported"; undefined when the loader lists no levels (glibc before 2.33).
 */
function loaderReport(): string[] | undefined {
  if (!existsSync(DEFAULT_X86_64_LOADER)) return undefined;
  const result = spawnSync(DEFAULT_X86_64_LOADER, ['--help'], { encoding: 'utf8' });
  if (result.status !== 0 || !/^ {2}x86-64-v\d/m.test(result.stdout)) return undefined;
  return ['x86-64', ...[...result.stdout.matchAll(/^ {2}(x86-64-v\d+) \([^)]*\bsupported\b/gm)].map((match) => match[1] ?? '').sort()];
}

const report = process.arch === 'x64' ? loaderReport() : undefined;
const noReport = process.arch !== 'x64' ? 'not an x86-64 machine' : report === undefined ? `${DEFAULT_X86_64_LOADER} --help lists no levels (glibc before 2.33?)` : false;

test('the CPU levels Kiln detects are the ones this machine\'s glibc loader reports', { skip: noReport }, () => {
  assert.deepEqual(detectHost().cpuLevels, report);
  assert.deepEqual(detectX86Levels(true), { levels: report, source: 'loader' });
});

test('the /proc/cpuinfo fallback reaches the same levels as the loader on this machine', { skip: noReport }, () => {
  const flags = cpuinfoFlags(readFileSync('/proc/cpuinfo', 'utf8'));
  const levels = x86Levels(flags);
  const next = X86_64_LEVELS[levels.length];
  assert.deepEqual(levels, report, next === undefined ? '' : `the flags lack ${missingX86Features(flags, next).join(', ')} for ${next}`);
});

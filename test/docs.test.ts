/** The docs are part of the product: every error code and every command is documented. */
import * as assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { test } from 'node:test';
import { COMMANDS } from '../src/cli/registry.js';
import { ERROR_CODES } from '../src/errors/index.js';

const docs = (name: string): Promise<string> => readFile(new URL(`../../docs/${name}`, import.meta.url), 'utf8');

test('docs/errors.md lists every error code with its meaning', async () => {
  const text = await docs('errors.md');
  for (const [code, meaning] of Object.entries(ERROR_CODES))
    assert.ok(text.includes(`| \`${code}\` | ${meaning} |`), `${code} is documented`);
});

test('docs/commands.md documents every command', async () => {
  const text = await docs('commands.md');
  for (const entry of COMMANDS)
    assert.ok(text.includes(`### kiln ${entry.words.join(' ')}\n`), `kiln ${entry.words.join(' ')} is documented`);
});

test("the README starts with the two commands, and .ci/run calls the README's test command", async () => {
  const readme = await readFile(new URL('../../README.md', import.meta.url), 'utf8');
  const firstScreen = readme.split('\n').slice(0, 12).join('\n');
  assert.match(firstScreen, /npm run demo/);
  assert.match(firstScreen, /npm test/);
  const ci = await readFile(new URL('../../.ci/run', import.meta.url), 'utf8');
  assert.match(ci, /^npm test$/m);
});

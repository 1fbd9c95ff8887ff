import * as assert from 'node:assert/strict';
import { test } from 'node:test';
import { isTemporaryPath, temporaryPathFor } from './atomicWrite.js';

test('temporaryPathFor gives hidden names beside the target, distinct within a process, that isTemporaryPath knows', () => {
  const names = new Set<string>();
  for (let i = 0; i < 70_000; i++) {
    const path = temporaryPathFor('/repo/index.json');
    assert.ok(path.startsWith(`/repo/.index.json.${process.pid}.`), path);
    assert.ok(isTemporaryPath(path), path);
    names.add(path);
  }
  // The counter's 16 bits repeat after 65,536 names; the random high bits keep even those apart here.
  assert.ok(names.size >= 65_536, `${names.size} distinct names`);
  assert.ok(!isTemporaryPath('/repo/index.json'));
  assert.ok(!isTemporaryPath('/repo/.index.json.12.notahex.tmp'));
});

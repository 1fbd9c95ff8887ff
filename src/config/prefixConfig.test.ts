import * as assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { encodePublicKey, generateKeyPair } from '../sign/index.js';
import { formatPrefixConfig, parsePrefixConfig } from './prefixConfig.js';

const PATH = '/opt/app/etc/kiln/config.toml';
const parse = (extra: string) => parsePrefixConfig(`format = 1\nmode = "user"\n${extra}`, PATH);

describe('cpu-level and cpu-level-force', () => {
  it('are absent by default, and read when set', () => {
    assert.equal(parse('').cpuLevel, undefined);
    assert.deepEqual(parse('cpu-level = "x86-64-v3"\n').cpuLevel, { level: 'x86-64-v3', force: false });
    assert.deepEqual(parse('cpu-level = "x86-64-v4"\ncpu-level-force = true\n').cpuLevel, {
      level: 'x86-64-v4',
      force: true,
    });
  });

  it('refuse a level Kiln does not know, a force that is not a boolean, and a force without a level', () => {
    assert.throws(
      () => parse('cpu-level = "x86-64-v5"\n'),
      /cannot read \/opt\/app\/etc\/kiln\/config\.toml: line 3, column 1: cpu-level "x86-64-v5" is not a CPU level Kiln knows \(x86-64, x86-64-v2, x86-64-v3, x86-64-v4\)/,
    );
    assert.throws(() => parse('cpu-level = "haswell"\n'), /"haswell" is not a CPU level Kiln knows/);
    assert.throws(() => parse('cpu-level = 3\n'), /cpu-level must be a string/);
    assert.throws(
      () => parse('cpu-level = "x86-64"\ncpu-level-force = "yes"\n'),
      /cpu-level-force must be true or false/,
    );
    assert.throws(() => parse('cpu-levle = "x86-64"\ncpu-level-force = true\n'), /cpu-levle is not a known field/);
    assert.throws(() => parse('cpu-level-force = true\n'), /cpu-level-force needs a cpu-level to force/);
  });

  it('survive the rewrite that kiln remote add makes', () => {
    for (const extra of ['cpu-level = "x86-64"\n', 'cpu-level = "x86-64-v4"\ncpu-level-force = true\n']) {
      const config = parse(extra);
      assert.deepEqual(parsePrefixConfig(formatPrefixConfig(config), PATH), config);
    }
    assert.doesNotMatch(
      formatPrefixConfig(parse('cpu-level = "x86-64-v2"\n')),
      /force/,
      'an unforced level writes no force setting',
    );
  });
});

describe('solver.allow-advisories and a remote key root', () => {
  it('are read, written back the same, and checked', () => {
    const key = encodePublicKey(generateKeyPair());
    const config = parse(
      `[solver]\nallow-advisories = ["CVE-2023-44487"]\n[remotes.main]\nurl = "file:///r"\nkeys = ["${key}"]\nroot-version = 3\nroot-threshold = 1\nretired-keys = ["${key}"]\n`,
    );
    assert.deepEqual(config.solver.allowAdvisories, ['CVE-2023-44487']);
    assert.deepEqual(
      [config.remotes[0]?.rootVersion, config.remotes[0]?.rootThreshold, config.remotes[0]?.retiredKeys],
      [3, 1, [key]],
    );
    assert.deepEqual(parsePrefixConfig(formatPrefixConfig(config), PATH), config);
    assert.throws(() => parse('[solver]\nallow-advisories = ["not an id"]\n'), /is not an advisory id/);
    assert.throws(
      () => parse(`[remotes.main]\nurl = "file:///r"\nkeys = ["${key}"]\nroot-threshold = 2\n`),
      /root-threshold must be between 1 and 1/,
    );
  });
});

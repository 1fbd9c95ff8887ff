import * as assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { compareVersions } from './compareVersions.js';
import { formatVersion } from './formatVersion.js';
import { parseVersion } from './parseVersion.js';
import { sortVersions } from './sortVersions.js';
import { SUFFIX_TYPES, type Version } from './Version.js';
import { seededRandom } from '../util/seededRandom.js';

/**
 * Random versions drawn from a small alphabet, so that ties, leading zeros,
 * trailing zeros and shared prefixes are common.
 */
function randomVersions(count: number, seed: number): string[] {
  const random = seededRandom(seed);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)] as T;
  const components = ['0', '00', '1', '01', '010', '1', '2', '09', '10', '100', '9', '001'];
  const out: string[] = [];
  for (let n = 0; n < count; n++) {
    let s = Array.from({ length: 1 + Math.floor(random() * 3) }, () => pick(components)).join('.');
    if (random() < 0.25) s += pick(['a', 'b', 'z']);
    const suffixCount = pick([0, 0, 0, 1, 1, 2]);
    for (let i = 0; i < suffixCount; i++) s += `_${pick(SUFFIX_TYPES)}${pick(['', '', '0', '1', '2', '10'])}`;
    if (random() < 0.3) s += `-r${pick(['0', '1', '2', '01'])}`;
    out.push(s);
  }
  return out;
}

describe('sortVersions', () => {
  it('sorts ascending with ties broken by the raw string', () => {
    assert.deepEqual(sortVersions(['1.10', '1.9', '1.0-r0', '1.0', '1.00']), ['1.0', '1.0-r0', '1.00', '1.9', '1.10']);
  });

  it('keeps the item type and leaves the input alone', () => {
    const input: Version[] = ['2', '1'].map((s) => parseVersion(s));
    const sorted = sortVersions(input);
    assert.deepEqual(sorted.map(formatVersion), ['1', '2']);
    assert.deepEqual(input.map(formatVersion), ['2', '1']);
  });

  describe('on 300 random versions', () => {
    const versions = randomVersions(300, 20240611);
    const sorted = sortVersions(versions);

    it('gives an order compareVersions agrees with for every pair', () => {
      for (let i = 0; i < sorted.length; i++) {
        for (let j = i + 1; j < sorted.length; j++) {
          const a = sorted[i] ?? '';
          const b = sorted[j] ?? '';
          const order = compareVersions(a, b);
          assert.ok(order <= 0, `${a} sorts before ${b} but compares ${order}`);
          assert.equal(compareVersions(b, a), order === 0 ? 0 : 1, `antisymmetry fails for ${a}, ${b}`);
          if (order === 0) assert.ok(a <= b, `equal ${a} and ${b} are not in raw order`);
        }
      }
    });

    it('is transitive on sampled triples', () => {
      const random = seededRandom(7);
      const pick = (): string => versions[Math.floor(random() * versions.length)] ?? '';
      for (let n = 0; n < 20000; n++) {
        const [x, y, z] = [pick(), pick(), pick()];
        const xy = compareVersions(x, y);
        const yz = compareVersions(y, z);
        const xz = compareVersions(x, z);
        if (xy <= 0 && yz <= 0) assert.ok(xz <= 0, `${x} <= ${y} <= ${z} but ${x} > ${z}`);
        if (xy === 0 && yz === 0) assert.equal(xz, 0, `${x} == ${y} == ${z} but not ${x} == ${z}`);
        if ((xy < 0 && yz <= 0) || (xy <= 0 && yz < 0)) assert.equal(xz, -1, `${x}, ${y}, ${z}: strict order lost`);
      }
    });

    it('does not depend on the input order', () => {
      const random = seededRandom(99);
      const shuffled = [...versions];
      for (let i = shuffled.length - 1; i > 0; i--) {
        const j = Math.floor(random() * (i + 1));
        [shuffled[i], shuffled[j]] = [shuffled[j] ?? '', shuffled[i] ?? ''];
      }
      assert.deepEqual(sortVersions(shuffled), sorted);
    });

    it('produces equal versions that are really equal, and distinct ones', () => {
      // A generator that only ever made equal (or only distinct) versions would prove little.
      let ties = 0;
      let steps = 0;
      for (let i = 1; i < sorted.length; i++) {
        if (compareVersions(sorted[i - 1] ?? '', sorted[i] ?? '') === 0) ties++;
        else steps++;
      }
      assert.ok(ties >= 5 && steps >= 100, `ties ${ties}, steps ${steps}`);
    });
  });
});

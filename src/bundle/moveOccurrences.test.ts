import * as assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { findAll, holdsPrefix, moveOccurrences, occurrenceStarts, paddedPrefix } from './moveOccurrences.js';
import { isKilnError } from '../errors/index.js';

const PH = '/placeholder-0123456789';

describe('moveOccurrences', () => {
  it('moves text occurrences to a longer and a shorter prefix, and back', () => {
    const canonical = Buffer.from(`a=${PH}/x\nb=${PH}/y\n`);
    const row = {
      kind: 'text' as const,
      offsets: findAll(canonical, PH),
      baseLength: PH.length,
      room: PH.length,
      baseSize: canonical.length,
    };
    for (const to of ['/a', '/a much longer prefix with blanks/and/more/levels']) {
      const moved = moveOccurrences(canonical, row, PH, to, 'f');
      assert.equal(moved.toString(), `a=${to}/x\nb=${to}/y\n`);
      assert.ok(holdsPrefix(moved, row, to));
      assert.ok(!holdsPrefix(moved, row, PH));
      assert.deepEqual(moveOccurrences(moved, row, to, PH, 'f'), canonical, 'the way back gives the canonical bytes');
    }
  });

  it('tells apart two prefixes one of which starts with the other, by the size', () => {
    const canonical = Buffer.from(`${PH}b/x`);
    const row = {
      kind: 'text' as const,
      offsets: [0],
      baseLength: PH.length,
      room: PH.length,
      baseSize: canonical.length,
    };
    const short = moveOccurrences(canonical, row, PH, '/opt/a', 'f');
    assert.equal(short.toString(), '/opt/ab/x');
    assert.ok(holdsPrefix(short, row, '/opt/a'));
    assert.ok(!holdsPrefix(short, row, '/opt/ab'), 'the bytes match /opt/ab too; the size does not');
  });

  it('pads binary occurrences with "/" and keeps every byte in place', () => {
    const canonical = Buffer.concat([Buffer.from('\0\0'), paddedPrefix(PH, 30), Buffer.from('/etc/x\0')]);
    const row = { kind: 'binary' as const, offsets: [2], baseLength: PH.length, room: 30 };
    const moved = moveOccurrences(canonical, row, PH, '/opt/x', 'f');
    assert.equal(moved.length, canonical.length);
    assert.equal(moved.subarray(2, 32).toString(), `/opt/x${'/'.repeat(24)}`);
    assert.ok(holdsPrefix(moved, row, '/opt/x'));
    assert.deepEqual(moveOccurrences(moved, row, '/opt/x', PH, 'f'), canonical);
  });

  it('refuses a prefix longer than the room (E_RELOCATE) and a file that does not hold the prefix (E_BUNDLE)', () => {
    const canonical = Buffer.concat([paddedPrefix(PH, 30), Buffer.from('\0')]);
    const row = { kind: 'binary' as const, offsets: [0], baseLength: PH.length, room: 30 };
    assert.throws(
      () => moveOccurrences(canonical, row, PH, `/${'x'.repeat(30)}`, 'f'),
      (e) => isKilnError(e, 'E_RELOCATE'),
    );
    assert.throws(
      () => moveOccurrences(canonical, row, '/elsewhere', '/x', 'f'),
      (e) => isKilnError(e, 'E_BUNDLE'),
    );
    const text = { kind: 'text' as const, offsets: [5], baseLength: PH.length, room: 0 };
    assert.throws(
      () => moveOccurrences(Buffer.from('short'), text, PH, '/x', 'f'),
      (e) => isKilnError(e, 'E_BUNDLE'),
    );
  });

  it('shifts text occurrences by what the earlier ones grew', () => {
    assert.deepEqual(
      occurrenceStarts({ kind: 'text', offsets: [0, 20, 50], baseLength: 10, room: 10 }, 4),
      [0, 14, 38],
    );
    assert.deepEqual(occurrenceStarts({ kind: 'binary', offsets: [0, 20], baseLength: 10, room: 10 }, 4), [0, 20]);
  });
});

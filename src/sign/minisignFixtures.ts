/**
 * Signatures written by minisign 0.11, shared by the tests of parseSignature,
 * verifyData and verifyFile, so each module is checked against what the real
 * minisign writes and not only against what Kiln writes.
 */

/** The signed data: `kiln fixture\n`. */
export const FIXTURE_MESSAGE = 'kiln fixture\n';

/** The public key (as `minisign -P` takes it) of the key that made both signatures; key id B9F07B7CAB53C31D. */
export const FIXTURE_PUBLIC_KEY = 'RWQdw1OrfHvwubh1rDRV+YqDJ3og70BDP+dootHAzy3DWI1uyX7LIR9l';

/** `minisign -S -c 'fixture ED' -t 'kiln fixture ED'` over FIXTURE_MESSAGE: prehashed, algorithm `ED`. */
export const FIXTURE_SIGNATURE =
  'untrusted comment: fixture ED\n' +
  'RUQdw1OrfHvwuXiUPb7OVAK+r1FqhwaMHYbFTeO3tNmMaqOMQnWrt/8FKJNFR4prhvu5iOwvHb3IUhTceOlQxJplaVTQcVjp0gE=\n' +
  'trusted comment: kiln fixture ED\n' +
  'uL0nwh0DSkGKiDG4nfjhqVpIGcoVz987atiWcdmDA/rtgozTTDqIMYaoWDxbnGJnem66vjNNlpom3SnmsZitAQ==\n';

/** The same with `-l` and comments ending in `Ed`: legacy, algorithm `Ed`, over the data itself. */
export const FIXTURE_LEGACY_SIGNATURE =
  'untrusted comment: fixture Ed\n' +
  'RWQdw1OrfHvwuZBhE/NzrnZJm00FuMy18aHSdKr3kbkK6JcxhaO9JGv9YF5gi+DK+r/dZFXsbi4xNxENbrI2YqMzMTMBWFFDpAc=\n' +
  'trusted comment: kiln fixture Ed\n' +
  'ywdU0lifZaLDj8dIoPY08ALyq72eZAJ41L0sdrg7DjmP1Bql5Th5gBl/K4HcxxKwDdDtBN/xGneK2aG9rwFTCQ==\n';

/** For the hostile-input tests of this folder: a copy of an ELF file with a few seeded random changes. */
import { seededRandom } from '../util/seededRandom.js';

/**
 * Change 1–4 places, aimed mostly at the headers and the dynamic section
 * (near `dynamic`), where the linking data lies.
 */
export function corruptCopy(content: Buffer, dynamic: number, seed: number): Buffer {
  const random = seededRandom(seed);
  const copy = Buffer.from(content);
  const changes = 1 + Math.floor(random() * 4);
  for (let change = 0; change < changes; change++) {
    const area = random();
    const offset =
      area < 0.5
        ? Math.floor(random() * 0x800)
        : area < 0.8
          ? dynamic + Math.floor(random() * 0x200)
          : Math.floor(random() * copy.length);
    if (offset + 4 > copy.length) continue;
    const kind = random();
    if (kind < 0.6) copy[offset] = Math.floor(random() * 256);
    else copy.writeUInt32LE(kind < 0.8 ? 0xffffffff : Math.floor(random() * 0x100000000), offset);
  }
  return copy;
}

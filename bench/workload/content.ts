/**
 * Seeded content for the generated benchmark packages: text-like files that
 * compress about 3× and binary-ish files that compress about 1.5× with zstd.
 */
import { createCipheriv, createHash } from 'node:crypto';
import { seededRandom } from '../../src/util/seededRandom.js';

const MIB = 1024 * 1024;

/** Text made of a Zipf-distributed vocabulary with some random tokens: compresses about 3× with zstd. */
export class TextGenerator {
  private readonly words: Buffer[];
  private readonly table = new Uint16Array(65536);
  static readonly ALNUM = Buffer.from('abcdefghijklmnopqrstuvwxyz0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ_');
  static readonly PUNCT = [', ', '. ', ' = ', '(', ') ', '; ', ': ', ' -> '].map((text) => Buffer.from(text));

  constructor(seed: number, vocabulary = 4096, exponent = 1.05) {
    const random = seededRandom(seed);
    const letters = 'abcdefghijklmnopqrstuvwxyz';
    this.words = Array.from({ length: vocabulary }, () => {
      let word = '';
      const length = 2 + Math.floor(random() * 9);
      for (let i = 0; i < length; i++) word += letters[Math.floor(random() * 26)];
      return Buffer.from(word);
    });
    const weights = this.words.map((_, rank) => 1 / (rank + 1) ** exponent);
    const total = weights.reduce((a, b) => a + b, 0);
    let cumulative = 0;
    let slot = 0;
    for (let rank = 0; rank < vocabulary; rank++) {
      cumulative += weights[rank]! / total;
      const end = Math.min(65536, Math.round(cumulative * 65536));
      while (slot < end) this.table[slot++] = rank;
    }
    while (slot < 65536) this.table[slot++] = vocabulary - 1;
  }

  word(random: () => number): string {
    return this.words[this.table[Math.floor(random() * 65536)]!]!.toString();
  }

  /** Exactly `size` bytes of text. */
  text(size: number, random: () => number, randomShare = 0.06): Buffer {
    const out = Buffer.allocUnsafe(size + 256);
    let pos = 0;
    const { ALNUM, PUNCT } = TextGenerator;
    while (pos < size) {
      const indent = Math.floor(random() * 4) * 2;
      out.fill(32, pos, pos + indent);
      pos += indent;
      const count = 3 + Math.floor(random() * 10);
      for (let w = 0; w < count && pos < size; w++) {
        if (random() < randomShare) {
          const length = 3 + Math.floor(random() * 8);
          for (let i = 0; i < length; i++) out[pos++] = ALNUM[Math.floor(random() * 63)]!;
        } else {
          pos += this.words[this.table[Math.floor(random() * 65536)]!]!.copy(out, pos);
        }
        if (random() < 0.7) out[pos++] = 32;
        else pos += PUNCT[Math.floor(random() * PUNCT.length)]!.copy(out, pos);
      }
      out[pos++] = 10;
    }
    out[size - 1] = 10;
    return out.subarray(0, size);
  }

  /** A config file: `key = value` lines and comments. */
  config(size: number, random: () => number): Buffer {
    const lines: string[] = [];
    let length = 0;
    while (length < size) {
      const line =
        random() < 0.2
          ? `# ${this.text(40 + Math.floor(random() * 60), random)
              .toString()
              .replace(/\n/g, ' ')
              .trim()}`
          : `${this.word(random)}_${this.word(random)} = ${random() < 0.5 ? Math.floor(random() * 10000) : this.word(random)}`;
      lines.push(line);
      length += line.length + 1;
    }
    return Buffer.from(`${lines.join('\n')}\n`).subarray(0, Math.max(size, 1));
  }
}

/** Binary-ish content: random blocks, machine-code-like low-entropy blocks, tables and zero pages; compresses about 1.5×. */
export class BinaryGenerator {
  private readonly cipher;
  private static readonly ZEROS = Buffer.alloc(MIB);
  private static readonly CODE_MAP = (() => {
    const symbols = [
      0x48, 0x89, 0x8b, 0x00, 0xe8, 0xff, 0x0f, 0x85, 0x84, 0xc3, 0x24, 0x44, 0x45, 0x4c, 0x8d, 0x83, 0xc0, 0x74, 0x75,
      0x01, 0x31, 0xd2, 0x5d, 0x41,
    ];
    const weights = symbols.map((_, rank) => 1 / (rank + 2));
    const total = weights.reduce((a, b) => a + b, 0);
    const map = new Uint8Array(256);
    let cumulative = 0;
    let slot = 0;
    for (let rank = 0; rank < symbols.length; rank++) {
      cumulative += weights[rank]! / total;
      const end = Math.min(256, Math.round(cumulative * 256));
      while (slot < end) map[slot++] = symbols[rank]!;
    }
    while (slot < 256) map[slot++] = symbols[symbols.length - 1]!;
    return map;
  })();

  constructor(seed: number) {
    const key = createHash('sha256').update(`kiln-bench-binary-${seed}`).digest();
    this.cipher = createCipheriv('aes-256-ctr', key, Buffer.alloc(16));
  }

  private keystream(size: number): Buffer {
    const parts: Buffer[] = [];
    for (let left = size; left > 0; left -= MIB)
      parts.push(this.cipher.update(BinaryGenerator.ZEROS.subarray(0, Math.min(MIB, left))));
    return parts.length === 1 ? parts[0]! : Buffer.concat(parts);
  }

  content(size: number, random: () => number): Buffer {
    const out = this.keystream(size);
    const map = BinaryGenerator.CODE_MAP;
    for (let block = 0; block < size; block += 4096) {
      const end = Math.min(size, block + 4096);
      const kind = random();
      if (kind < 0.5) continue;
      if (kind < 0.85) {
        for (let i = block; i < end; i++) out[i] = map[out[i]!]!;
      } else if (kind < 0.95) {
        for (let i = block + 16; i < end; i++) out[i] = out[i - 16]!;
      } else {
        out.fill(0, block, end);
      }
    }
    return out;
  }
}

/**
 * Finds every occurrence of the build placeholder in a file fed chunk by chunk,
 * and tells text from binary (a file with a NUL byte is binary). The result is
 * one row of a package's relocation table; nothing is scanned at install time.
 */
export interface ScanResult {
  kind: 'text' | 'binary';
  offsets: number[];
}

export class PlaceholderScanner {
  private readonly needle: Buffer;
  private carry = Buffer.alloc(0);
  /** File offset of `carry[0]`. */
  private carryOffset = 0;
  private hasNul = false;
  private readonly offsets: number[] = [];

  constructor(placeholder: string) {
    this.needle = Buffer.from(placeholder, 'utf8');
    if (this.needle.length === 0) throw new Error('Assertion failed: empty placeholder');
  }

  push(chunk: Buffer): void {
    if (!this.hasNul && chunk.includes(0)) this.hasNul = true;
    const window = this.carry.length > 0 ? Buffer.concat([this.carry, chunk]) : chunk;
    let from = 0;
    for (;;) {
      const at = window.indexOf(this.needle, from);
      if (at < 0) break;
      this.offsets.push(this.carryOffset + at);
      from = at + this.needle.length;
    }
    // Keep a tail that could be the start of an occurrence split across chunks,
    // but never bytes already part of a match.
    const keep = Math.min(this.needle.length - 1, window.length - from);
    const tailStart = window.length - keep;
    this.carry = Buffer.from(window.subarray(tailStart));
    this.carryOffset += tailStart;
  }

  /** The relocation row, or `undefined` when the placeholder never occurs. */
  result(): ScanResult | undefined {
    if (this.offsets.length === 0) return undefined;
    return { kind: this.hasNul ? 'binary' : 'text', offsets: [...this.offsets] };
  }
}

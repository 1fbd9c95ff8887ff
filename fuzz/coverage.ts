/**
 * Coverage feedback for the fuzzer from V8 itself: precise block coverage
 * through the inspector protocol, read after every input. The blocks an input
 * ran are keyed `script:start:end`; only Kiln's own compiled code (dist/src)
 * counts. Reading coverage also resets the counts, so each reading is one
 * input's.
 */
import { Session } from 'node:inspector';

interface Range {
  startOffset: number;
  endOffset: number;
  count: number;
}

interface ScriptCoverage {
  scriptId: string;
  url: string;
  functions: { ranges: Range[] }[];
}

export class Coverage {
  private readonly session = new Session();

  constructor(private readonly includes: (url: string) => boolean) {
    this.session.connect();
    this.post('Profiler.enable');
    this.post('Profiler.startPreciseCoverage', { callCount: true, detailed: true });
  }

  private post(method: string, params?: object): unknown {
    let result: unknown;
    let failure: Error | null = null;
    // The in-process session answers synchronously.
    this.session.post(method, params ?? {}, (error, value) => {
      failure = error;
      result = value;
    });
    if (failure !== null) throw failure;
    return result;
  }

  /** The blocks run since the last call. */
  take(): string[] {
    const { result } = this.post('Profiler.takePreciseCoverage') as { result: ScriptCoverage[] };
    const blocks: string[] = [];
    for (const script of result) {
      if (!this.includes(script.url)) continue;
      for (const fn of script.functions)
        for (const range of fn.ranges) if (range.count > 0) blocks.push(`${script.scriptId}:${range.startOffset}:${range.endOffset}`);
    }
    return blocks;
  }

  close(): void {
    this.post('Profiler.stopPreciseCoverage');
    this.session.disconnect();
  }
}

/**
 * What every peer format shares: the package as the peers see it (read from
 * the .kpkg's metadata), version ranges turned into comparisons, running
 * commands asynchronously, and a small pool to run them on every core.
 */
import { spawn } from 'node:child_process';

/** zstd level of every peer package: the level Kiln packs with by default (src/format/pack.ts), so sizes compare. */
export const ZSTD_LEVEL = 12;
export const MAINTAINER = 'Kiln benchmark <bench@example.org>';

export type FormatKey = 'tarzst' | 'deb' | 'pacman' | 'rpm';

export interface PeerEntry {
  /** Relative to the root, no leading slash. */
  path: string;
  type: 'file' | 'dir' | 'symlink';
  mode: number;
  config: boolean;
  size: number;
}

export interface PeerPackage {
  index: number;
  name: string;
  version: string;
  summary: string;
  license: string;
  homepage: string;
  depends: { name: string; range: string }[];
  entries: PeerEntry[];
  installedBytes: number;
}

export interface PackJob {
  pkg: PeerPackage;
  /** The package's files, extracted from its payload (owned by root when the benchmark runs as root). */
  tree: string;
  /** A scratch directory of this package's own. */
  work: string;
  /** Where to write the package; the file name is returned. */
  outDir: string;
}

export interface PeerFormat {
  key: FormatKey;
  label: string;
  /** Commands packing needs. */
  packTools: string[];
  /** How the packages are compressed, as recorded with the cache. */
  compression(): string;
  pack(job: PackJob): Promise<string>;
}

/** The fields of metadata.json the peers use. */
interface KilnMetadata {
  name: string;
  version: string;
  summary: string;
  license: string;
  homepage: string;
  installedSize: number;
  depends: { name: string; range: string }[];
  files: { path: string; type: string; mode: string; config?: boolean; size: number }[];
}

export function peerPackage(index: number, metadataJson: string): PeerPackage {
  const meta = JSON.parse(metadataJson) as KilnMetadata;
  return {
    index,
    name: meta.name,
    version: meta.version,
    summary: meta.summary,
    license: meta.license,
    homepage: meta.homepage,
    depends: meta.depends,
    installedBytes: meta.installedSize,
    entries: meta.files.map((file) => {
      if (file.type !== 'file' && file.type !== 'dir' && file.type !== 'symlink')
        throw new Error(`${meta.name}: ${file.path}: entry type ${file.type} is not supported by the peer formats`);
      return {
        path: file.path,
        type: file.type,
        mode: parseInt(file.mode, 8),
        config: file.config === true,
        size: file.size,
      };
    }),
  };
}

export interface Comparison {
  op: '>=' | '<=' | '>' | '<' | '=';
  version: string;
}

/** A Kiln range (docs/versions.md) as comparisons that all must hold: `>=1.0 <2` → [>= 1.0, < 2]. */
export function comparisons(range: string, what: string): Comparison[] {
  const out: Comparison[] = [];
  for (const clause of range
    .trim()
    .split(/\s+/)
    .filter((text) => text !== '')) {
    const match = /^(>=|<=|>|<|=)?([0-9A-Za-z.+~_-]+)$/.exec(clause);
    if (match === null)
      throw new Error(`${what}: cannot translate the range clause ${JSON.stringify(clause)} for the peer formats`);
    out.push({ op: (match[1] ?? '=') as Comparison['op'], version: match[2]! });
  }
  return out;
}

/** Run a command; resolves with its stdout, rejects with its stderr when it fails. */
export function runAsync(
  command: string,
  args: string[],
  options: { cwd?: string; env?: NodeJS.ProcessEnv } = {},
): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      cwd: options.cwd,
      env: options.env ?? process.env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (chunk: Buffer) => out.push(chunk));
    child.stderr.on('data', (chunk: Buffer) => err.push(chunk));
    child.on('error', reject);
    child.on('close', (code, signal) => {
      if (code === 0) resolve(Buffer.concat(out).toString());
      else
        reject(
          new Error(
            `${command} ${args.slice(0, 6).join(' ')}${args.length > 6 ? ' …' : ''} failed (${code ?? signal}):\n${Buffer.concat(err).toString().slice(-3000) || Buffer.concat(out).toString().slice(-3000)}`,
          ),
        );
    });
  });
}

/** A bash script with arguments ($1…), `set -euo pipefail`. */
export function bash(script: string, args: string[], cwd?: string): Promise<string> {
  return runAsync(
    'bash',
    ['-c', `set -euo pipefail\n${script}`, 'kiln-bench', ...args],
    cwd === undefined ? {} : { cwd },
  );
}

/** Run `work(item)` for every item, `concurrency` at a time; the first failure stops handing out more and is thrown. */
export async function pool<T>(items: T[], concurrency: number, work: (item: T) => Promise<void>): Promise<void> {
  const queue = [...items];
  let failed: unknown;
  await Promise.all(
    Array.from({ length: Math.max(1, Math.min(concurrency, items.length)) }, async () => {
      for (let item = queue.shift(); item !== undefined && failed === undefined; item = queue.shift()) {
        try {
          await work(item);
        } catch (error) {
          failed ??= error;
        }
      }
    }),
  );
  if (failed !== undefined) throw failed;
}

/**
 * Package files a user streams to kilnd (`kiln install ./x.kpkg` by a user
 * who is not root). kilnd never opens a path a client names: the client
 * reads its own file and sends the bytes; kilnd writes them into files of
 * its own, in a directory only root can enter, each exactly the size the
 * client declared and no more. They are then checked as a download is
 * (Prefix.checkPackageFile) before anything is decided on them.
 *
 * Bounds: at most MAX_FILES files of at most MAX_FILE_BYTES each per request,
 * and, for all uploads at once, no more than MAX_PENDING_BYTES nor more than
 * half the free space of the file system they are written to.
 */
import { closeSync, mkdirSync, openSync, readdirSync, rmSync, statfsSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { KilnError } from '../errors/index.js';

export const MAX_FILES = 16;
export const MAX_FILE_BYTES = 2 * 1024 ** 3;
export const MAX_PENDING_BYTES = 8 * 1024 ** 3;
/** Raw bytes per `file-data` line: 36 KiB, 48 KiB as base64, well within the protocol's line limit with its JSON. */
export const CHUNK_BYTES = 36 * 1024;

/** One declared file: the package the client says it holds, and its size in bytes. */
export interface DeclaredFile {
  name: string;
  size: number;
}

let pendingBytes = 0;

/** The directory kilnd keeps uploads in, created root-only (0700). */
export function uploadDirectory(stateDir: string): string {
  const dir = join(stateDir, 'kilnd-files');
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  return dir;
}

/** Deletes every upload in `dir` but those `keep` names (at start-up: files of activities no longer queued). */
export function removeStaleUploads(dir: string, keep: ReadonlySet<string>): void {
  for (const name of readdirSync(dir)) if (!keep.has(join(dir, name))) rmSync(join(dir, name), { force: true });
}

/** Receives the declared files' bytes in order, into new files of its own. */
export class UploadReceiver {
  readonly paths: string[];
  private readonly fds: number[];
  private index = 0;
  private written = 0;
  private readonly reserved: number;
  private finished = false;

  constructor(
    dir: string,
    readonly files: readonly DeclaredFile[],
  ) {
    const total = files.reduce((sum, file) => sum + file.size, 0);
    const space = statfsSync(dir);
    const free = space.bavail * space.bsize;
    if (pendingBytes + total > MAX_PENDING_BYTES || pendingBytes + total > free / 2)
      throw new KilnError(
        'E_LOCKED',
        `kilnd cannot take ${total} more bytes of package files now (${pendingBytes} bytes are being received, ${free} bytes are free)`,
        { hint: 'try again later, or ask root to install the file' },
      );
    pendingBytes += total;
    this.reserved = total;
    this.paths = files.map(() => join(dir, `upload-${randomBytes(12).toString('hex')}.kpkg`));
    this.fds = [];
    try {
      for (const path of this.paths) this.fds.push(openSync(path, 'wx', 0o600));
    } catch (error) {
      this.discard();
      throw error;
    }
    this.skipEmpty();
  }

  /** True once every declared byte has arrived. */
  get complete(): boolean {
    return this.index >= this.files.length;
  }

  /** Writes the next bytes; more than the declared files hold is refused. */
  write(bytes: Buffer): void {
    let offset = 0;
    while (offset < bytes.length) {
      if (this.complete)
        throw new KilnError('E_USAGE', 'a package file sent to kilnd is longer than the size it declared');
      const file = this.files[this.index]!;
      const take = Math.min(bytes.length - offset, file.size - this.written);
      writeSync(this.fds[this.index]!, bytes, offset, take);
      offset += take;
      this.written += take;
      if (this.written === file.size) {
        closeSync(this.fds[this.index]!);
        this.index++;
        this.written = 0;
        this.skipEmpty();
      }
    }
    if (this.complete) this.release();
  }

  /** Deletes what was received (a client that went away, a file that fails its checks, an activity that ended). */
  discard(): void {
    for (const [at, fd] of this.fds.entries())
      if (at >= this.index)
        try {
          closeSync(fd);
        } catch {
          // Already closed.
        }
    for (const path of this.paths) rmSync(path, { force: true });
    this.release();
  }

  private skipEmpty(): void {
    while (!this.complete && this.files[this.index]!.size === 0) {
      closeSync(this.fds[this.index]!);
      this.index++;
    }
    if (this.complete) this.release();
  }

  private release(): void {
    if (this.finished) return;
    this.finished = true;
    pendingBytes -= this.reserved;
  }
}

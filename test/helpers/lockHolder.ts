/**
 * Another process holding a Kiln lock (a prefix's writer lock, a
 * repository's maintainer lock) the way a kiln command does, until killed.
 */
import { spawn } from 'node:child_process';
import type { TestContext } from 'node:test';
import { fileURLToPath } from 'node:url';

const FILE_LOCK = fileURLToPath(new URL('../../src/db/fileLock.js', import.meta.url));

export interface LockHolder {
  pid: number;
  /** SIGKILL it; resolves once it is gone (and the kernel released its lock). */
  kill(): Promise<void>;
}

export function holdLock(t: TestContext, lockPath: string): Promise<LockHolder> {
  const source = `import { acquireLock } from ${JSON.stringify(FILE_LOCK)};
await acquireLock(${JSON.stringify(lockPath)}, 'the test holder');
console.log('locked');
setInterval(() => {}, 1000);`;
  const child = spawn(process.execPath, ['--input-type=module', '-e', source], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()));
  t.after(() => child.kill('SIGKILL'));
  return new Promise((resolve, reject) => {
    child.stdout.on('data', (chunk: Buffer) => {
      if (chunk.toString().includes('locked')) {
        resolve({
          pid: child.pid!,
          kill: async () => {
            child.kill('SIGKILL');
            await exited;
          },
        });
      }
    });
    child.on('error', reject);
    void exited.then(() => reject(new Error(`the lock holder exited before locking ${lockPath}`)));
  });
}

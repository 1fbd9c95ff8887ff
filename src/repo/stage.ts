/**
 * The staging area of a repository: an append-only log, `.kiln/stage.jsonl`,
 * of what the next commit will publish or retire. Appending is O(1) however
 * many packages are staged; a line cut short by a crash is dropped.
 */
import { open, readFile, rm, truncate } from 'node:fs/promises';
import { KilnError, isErrno } from '../errors/index.js';
import type { IndexEntry } from './indexFormat.js';
import { entryKey } from './indexFormat.js';
import type { RepositoryPaths } from './layout.js';

export type StageOperation =
  /** Publish this package in the next commit (its file is already in place). */
  | { op: 'add'; entry: IndexEntry }
  /** Take back a staged add. */
  | { op: 'drop'; key: string }
  /** Remove this published package from the index in the next commit. */
  | { op: 'retire'; entry: IndexEntry };

export interface Stage {
  adds: Map<string, IndexEntry>;
  retires: Map<string, IndexEntry>;
}

export function isStageEmpty(stage: Stage): boolean {
  return stage.adds.size === 0 && stage.retires.size === 0;
}

export async function readStage(paths: RepositoryPaths): Promise<Stage> {
  const stage: Stage = { adds: new Map(), retires: new Map() };
  let text: string;
  try {
    text = await readFile(paths.stage, 'utf8');
  } catch (error) {
    if (isErrno(error, 'ENOENT')) return stage;
    throw error;
  }
  const complete = text.slice(0, text.lastIndexOf('\n') + 1);
  let lineNumber = 0;
  for (const line of complete.split('\n')) {
    lineNumber++;
    if (line === '') continue;
    let operation: StageOperation;
    try {
      operation = JSON.parse(line) as StageOperation;
    } catch (error) {
      throw new KilnError('E_IO', `cannot read ${paths.stage}: line ${lineNumber} is not valid JSON`, {
        cause: error,
        hint: 'the staging log is damaged; remove the line or the file and stage again',
      });
    }
    apply(stage, operation);
  }
  return stage;
}

function apply(stage: Stage, operation: StageOperation): void {
  switch (operation.op) {
    case 'add': {
      const key = entryKey(operation.entry);
      stage.retires.delete(key);
      stage.adds.set(key, operation.entry);
      break;
    }
    case 'drop':
      stage.adds.delete(operation.key);
      break;
    case 'retire':
      stage.retires.set(entryKey(operation.entry), operation.entry);
      break;
  }
}

/** Append operations (the caller holds the repository lock). */
export async function appendStage(paths: RepositoryPaths, operations: readonly StageOperation[]): Promise<void> {
  if (operations.length === 0) return;
  await dropPartialLine(paths.stage);
  const handle = await open(paths.stage, 'a', 0o644);
  try {
    await handle.write(operations.map((operation) => `${JSON.stringify(operation)}\n`).join(''));
    await handle.sync();
  } finally {
    await handle.close();
  }
}

export async function clearStage(paths: RepositoryPaths): Promise<void> {
  await rm(paths.stage, { force: true });
}

async function dropPartialLine(path: string): Promise<void> {
  let text: Buffer;
  try {
    text = await readFile(path);
  } catch (error) {
    if (isErrno(error, 'ENOENT')) return;
    throw error;
  }
  if (text.length > 0 && text[text.length - 1] !== 0x0a) await truncate(path, text.lastIndexOf(0x0a) + 1);
}

/**
 * The commit log, `.kiln/log.jsonl`: one line per published index, newest last.
 * Appending the same serial twice (a recovered commit) is a no-op.
 */
import { appendFile, readFile } from 'node:fs/promises';
import { isErrno } from '../errors/index.js';
import type { RepositoryPaths } from './layout.js';

export interface LogRecord {
  serial: number;
  time: string;
  message: string;
  /** Entry keys (`name version variant`) added and retired by the commit. */
  added: string[];
  retired: string[];
  /** Packages in the index after the commit. */
  packages: number;
}

export async function readLog(paths: Pick<RepositoryPaths, 'log'>): Promise<LogRecord[]> {
  return parseLog(await readLogText(paths));
}

export async function appendLog(paths: RepositoryPaths, record: LogRecord): Promise<void> {
  const text = await readLogText(paths);
  if (parseLog(text).some((existing) => existing.serial === record.serial)) return;
  const { serial, time, message, added, retired, packages } = record;
  const separator = text.length > 0 && !text.endsWith('\n') ? '\n' : '';
  await appendFile(paths.log, `${separator}${JSON.stringify({ serial, time, message, added, retired, packages })}\n`);
}

async function readLogText(paths: Pick<RepositoryPaths, 'log'>): Promise<string> {
  try {
    return await readFile(paths.log, 'utf8');
  } catch (error) {
    if (isErrno(error, 'ENOENT')) return '';
    throw error;
  }
}

function parseLog(text: string): LogRecord[] {
  const records: LogRecord[] = [];
  for (const line of text.split('\n')) {
    if (line === '') continue;
    try {
      records.push(JSON.parse(line) as LogRecord);
    } catch (error) {
      // A line cut short by a crash: the commit it describes is still in indexes/.
      if (!(error instanceof SyntaxError)) throw error;
    }
  }
  return records;
}

import { existsSync } from 'node:fs';
import type { WriteStream } from 'node:fs';
import { createWriteStream } from 'node:fs';
import { join, resolve } from 'node:path';
import { KilnError } from '../../errors/index.js';
import { repositoryPaths } from '../../repo/layout.js';
import { startServer } from '../../serve/index.js';
import { flag, integerOption, noMorePositionals, positional, stringOption, usageError } from '../args.js';
import type { Command, Invocation } from '../command.js';
import type { FarmService } from '../../farm/farmService.js';
import { farmService } from '../../farm/farmService.js';
import { openCatalog } from '../../farm/openCatalog.js';
import type { SqlDb } from '../../farm/sqlDb.js';

/** `HOST:PORT`, `[IPV6]:PORT`, `:PORT` (all interfaces) or `PORT` (loopback). */
export function parseListen(text: string): { host: string; port: number } | undefined {
  const match = /^(?:(\[[0-9a-fA-F:.]+\]|[^:[\]]*):)?(\d{1,5})$/.exec(text);
  if (match === null) return undefined;
  const port = Number(match[2]);
  if (port > 65535) return undefined;
  const given = match[1];
  const host = given === undefined ? '127.0.0.1' : given === '' ? '0.0.0.0' : given.replace(/^\[(.*)\]$/, '$1');
  return { host, port };
}

/**
 * The tree to serve: a repository's published tree (DIR/public), with its
 * commit log for the catalog's history, or DIR itself when it is one (a mirror).
 */
function publishedTree(dir: string): { tree: string; logFile?: string } {
  const paths = repositoryPaths(dir);
  if (existsSync(join(paths.public, 'index.json')) || existsSync(join(paths.public, 'index.v2.json')))
    return { tree: paths.public, logFile: paths.log };
  if (existsSync(join(dir, 'index.json')) || existsSync(join(dir, 'index.v2.json'))) return { tree: dir };
  throw new KilnError('E_REPO_NOT_FOUND', `cannot serve ${dir}: it is neither a repository nor a published tree`, {
    hint: 'give the directory of "kiln repo init" (its public/ tree is served), or a copy of a published tree (it has index.json)',
  });
}

/** The farm coordinator of `--farm CATALOG`, or none. */
async function openFarm(
  invocation: Invocation,
  dir: string,
  log: (line: string) => void,
): Promise<{ db: SqlDb; service: FarmService } | undefined> {
  const location = stringOption(invocation, 'farm');
  if (location === undefined) {
    for (const name of ['recipes', 'lease', 'retry-after'])
      if (stringOption(invocation, name) !== undefined) throw usageError(command, `--${name} needs --farm CATALOG`);
    return undefined;
  }
  const recipes = stringOption(invocation, 'recipes');
  if (recipes === undefined)
    throw usageError(command, '--farm needs --recipes DIR, the ports tree steps are built from');
  const lease = integerOption(invocation, command, 'lease', 1, 86_400);
  const retry = integerOption(invocation, command, 'retry-after', 0, 86_400);
  const db = await openCatalog(location);
  try {
    const service = await farmService({
      db,
      repo: dir,
      recipes: resolve(recipes),
      password: invocation.settings.password,
      ...(lease === undefined ? {} : { leaseMs: lease * 1000 }),
      ...(retry === undefined ? {} : { retryBaseMs: retry * 1000 }),
      log,
    });
    return { db, service };
  } catch (error) {
    await db.close();
    throw error;
  }
}

const command: Command = {
  words: ['serve'],
  summary: "serve a repository's published tree over HTTP",
  usage:
    'kiln serve DIR [--listen HOST:PORT] [--access-log FILE] [--max-connections N] [--header-timeout SECONDS] [--idle-timeout SECONDS] [--no-catalog]\n' +
    '          [--farm CATALOG --recipes DIR [--lease SECONDS] [--retry-after SECONDS]]\n' +
    'DIR is a repository (its public/ tree is served) or a published tree (a mirror), with a web catalog at / and its JSON\n' +
    'API at /api/v1/ (--no-catalog: the tree only). --listen: HOST:PORT, [IPV6]:PORT,\n' +
    ':PORT (every interface) or PORT (loopback); default 127.0.0.1:8080. The access log (Combined Log Format) goes to\n' +
    'stdout unless --access-log names a file (reopened on SIGHUP). Ctrl-C or SIGTERM stops it: requests in progress finish.\n' +
    "With --farm, it is also the build farm's coordinator (docs/farm.md): workers claim the steps of CATALOG\n" +
    "(postgresql://… or an SQLite file) at /farm/v1/, and the packages they upload are checked, signed with DIR's key\n" +
    '(KILN_KEY_PASSWORD or --password-file for an encrypted one) and published into DIR. Several servers may share one\n' +
    'PostgreSQL catalog and one repository directory. --lease: how long a worker that stops heartbeating keeps its step\n' +
    '(60); --retry-after: the wait before a failed step runs again (30), doubled at each attempt.\n' +
    'Example: kiln serve /srv/binhost --listen :8080',
  options: {
    listen: { type: 'string' },
    'access-log': { type: 'string' },
    'max-connections': { type: 'string' },
    'header-timeout': { type: 'string' },
    'idle-timeout': { type: 'string' },
    'no-catalog': { type: 'boolean' },
    farm: { type: 'string' },
    recipes: { type: 'string' },
    lease: { type: 'string' },
    'retry-after': { type: 'string' },
  },
  handlesSignals: true,
  async run(invocation) {
    const dir = positional(invocation, command, 0, 'DIR');
    noMorePositionals(invocation, command, 1);
    const listenText = stringOption(invocation, 'listen') ?? '127.0.0.1:8080';
    const listen = parseListen(listenText);
    if (listen === undefined)
      throw usageError(command, `--listen wants HOST:PORT, [IPV6]:PORT, :PORT or PORT, not "${listenText}"`);
    const { tree, logFile: commitLog } = publishedTree(dir);
    const logPath = stringOption(invocation, 'access-log');
    let logFile: WriteStream | undefined;
    const openLog = () => {
      if (logPath === undefined || logPath === '-') return;
      logFile = createWriteStream(logPath, { flags: 'a' });
      logFile.on('error', (error) => invocation.tell(`kiln serve: cannot write the access log: ${error.message}`));
    };
    openLog();
    const farm = await openFarm(invocation, dir, (line) => invocation.tell(line));
    const server = await startServer({
      // A worker's upload may take long to send; its headers still have the header timeout.
      ...(farm === undefined ? {} : { extra: farm.service, requestTimeout: 3600 }),
      tree,
      ...listen,
      log: (line) => (logFile === undefined ? process.stdout.write(`${line}\n`) : logFile.write(`${line}\n`)),
      warn: (line) => invocation.tell(`kiln serve: ${line}`),
      maxConnections: integerOption(invocation, command, 'max-connections', 1, 1_000_000),
      headerTimeout: integerOption(invocation, command, 'header-timeout', 1, 3600),
      idleTimeout: integerOption(invocation, command, 'idle-timeout', 1, 86_400),
      catalog: flag(invocation, 'no-catalog') ? false : { ...(commitLog === undefined ? {} : { logFile: commitLog }) },
    });
    invocation.tell(`serving ${tree} at ${server.url}/ (Ctrl-C stops)`);
    const signal = await new Promise<NodeJS.Signals>((resolve) => {
      const stop = (received: NodeJS.Signals) => resolve(received);
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
      process.on('SIGHUP', () => {
        // Log rotation: the old file was moved away; write to a new one at the same path.
        logFile?.end();
        openLog();
      });
    });
    invocation.tell(`kiln serve: ${signal}: stopping (requests in progress may finish)`);
    await server.close();
    await farm?.service.close();
    await farm?.db.close();
    await new Promise<void>((resolve) => (logFile === undefined ? resolve() : logFile.end(resolve)));
    return { data: { tree, url: server.url, stoppedBy: signal }, notes: ['stopped'] };
  },
};

export default command;

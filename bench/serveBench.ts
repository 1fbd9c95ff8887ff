/**
 * `npm run bench:serve`: `kiln serve` against Debian's nginx serving the same
 * published tree on loopback, loaded with autocannon: requests per second and
 * p50/p99 latency for the index root (`index.v2.json`), the name table it
 * pins (what a cold sync fetches next) and a 1 MiB package, at 16, 64 and 256
 * connections, on the 20,000-package repository of `npm run bench:index`
 * (made once, reused). The two servers run side by side, each answering in
 * turn, with a pause before each measurement; each logs every request (to
 * /dev/null). nginx runs with two worker processes (the machine's cores), Kiln
 * in one process. Catalog pages (Kiln only: nginx has none) are measured
 * twice: one package page asked for again and again (rendered once, then
 * kept), and a page of a random name of the repository at every request
 * (rendered anew, but for the few names drawn twice while still kept).
 *
 * Options: --packages N (20000), --duration SECONDS (5), --connections
 * 16,64,256, --pause SECONDS (2). Writes bench-out/serve.json.
 */
import type { ChildProcess } from 'node:child_process';
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import autocannon from 'autocannon';
import { generateSet, readSet, renewIfExpiring, setPaths } from './index/generate.js';

const { values } = parseArgs({
  options: {
    packages: { type: 'string', default: '20000' },
    duration: { type: 'string', default: '5' },
    connections: { type: 'string', default: '16,64,256' },
    pause: { type: 'string', default: '2' },
  },
});
const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const KILN = fileURLToPath(new URL('../src/cli/kiln.cjs', import.meta.url));
const DURATION = Number(values.duration);
const CONNECTIONS = values.connections.split(',').map(Number);
const PAUSE_MS = Number(values.pause) * 1000;
const NGINX = '/usr/sbin/nginx';
const log = (line: string) => console.error(`bench: ${line}`);
const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

interface Figures {
  tool: string;
  target: string;
  connections: number;
  requestsPerSecond: number;
  p50: number;
  p99: number;
  mibPerSecond: number;
  errors: number;
  non2xx: number;
}

async function waitFor(url: string): Promise<void> {
  for (let attempt = 0; attempt < 100; attempt++) {
    try {
      const response = await fetch(url);
      await response.arrayBuffer();
      if (response.ok) return;
    } catch {
      // Not listening yet.
    }
    await pause(100);
  }
  throw new Error(`bench: nothing answers at ${url}`);
}

function startKiln(tree: string, port: number): ChildProcess {
  return spawn(
    process.execPath,
    [KILN, 'serve', tree, '--listen', `127.0.0.1:${port}`, '--access-log', '/dev/null', '--max-connections', '4096'],
    { stdio: ['ignore', 'ignore', 'inherit'] },
  );
}

function startNginx(tree: string, port: number, dir: string): ChildProcess {
  mkdirSync(join(dir, 'tmp'), { recursive: true });
  const conf = join(dir, 'nginx.conf');
  writeFileSync(
    conf,
    `${process.getuid?.() === 0 ? 'user root;\n' : ''}worker_processes ${cpus().length};
pid ${dir}/nginx.pid;
error_log ${dir}/error.log;
daemon off;
events { worker_connections 4096; }
http {
  access_log /dev/null;
  sendfile on;
  tcp_nopush on;
  keepalive_requests 100000;
  types { application/json json; application/vnd.kiln.package kpkg; text/plain minisig; }
  default_type application/octet-stream;
  client_body_temp_path ${dir}/tmp/body;
  proxy_temp_path ${dir}/tmp/proxy;
  fastcgi_temp_path ${dir}/tmp/fastcgi;
  uwsgi_temp_path ${dir}/tmp/uwsgi;
  scgi_temp_path ${dir}/tmp/scgi;
  server {
    listen 127.0.0.1:${port};
    root ${tree};
    location ~ /\\. { return 404; }
    location ~ ^/index(\\.v2)?\\.json(\\.minisig)?$ { add_header Cache-Control "public, max-age=30, must-revalidate"; }
    location ~ ^/(packages|indexes|v2|keys)/ { add_header Cache-Control "public, max-age=31536000, immutable"; }
  }
}
`,
  );
  return spawn(NGINX, ['-c', conf, '-p', dir], { stdio: ['ignore', 'ignore', 'inherit'] });
}

/** Peak resident memory of a process and its children so far (VmHWM of each), in MiB. */
function peakMiB(pid: number): number {
  const pids = [
    pid,
    ...spawnSync('pgrep', ['-P', String(pid)], { encoding: 'utf8' })
      .stdout.split('\n')
      .filter(Boolean)
      .map(Number),
  ];
  return pids.reduce((total, each) => {
    try {
      const status = readFileSync(`/proc/${each}/status`, 'utf8');
      return total + Number(/^VmHWM:\s+(\d+) kB/m.exec(status)?.[1] ?? 0) / 1024;
    } catch {
      return total;
    }
  }, 0);
}

async function main(): Promise<void> {
  if (spawnSync(NGINX, ['-v']).status !== 0) {
    console.error(
      'bench: nginx is missing; install it with: apt-get install nginx (npm run bench:serve does, as root)',
    );
    process.exit(1);
  }
  // The repository of bench:index (seed 1), made once and reused.
  const count = Number(values.packages);
  const paths = setPaths(join(ROOT, 'bench-out', 'index'), count, 1);
  let set = readSet(paths, count, 1);
  if (set === undefined) {
    log(`generating the ${count}-package repository into ${paths.dir} (as bench:index does)`);
    set = await generateSet(paths, count, 1, log);
  }
  await renewIfExpiring(paths, set);
  const tree = join(paths.repo, 'public');
  // A 1 MiB package-sized file (incompressible), beside the packages: served as any package is.
  const blob = 'packages/bench-serve/blob/blob-1.0-000000000000.kpkg';
  mkdirSync(join(tree, 'packages/bench-serve/blob'), { recursive: true });
  writeFileSync(join(tree, blob), randomBytes(1 << 20));
  // What a client fetches: the index root, the name table it pins (a cold sync), and packages.
  const root = JSON.parse(readFileSync(join(tree, 'index.v2.json'), 'utf8')) as { names: { sha256: string } };
  const names = `v2/names/${root.names.sha256.slice(0, 2)}/${root.names.sha256}.zst`;
  const targets = ['index.v2.json', names, blob];
  const sizes = Object.fromEntries(targets.map((target) => [target, statSync(join(tree, target)).size]));
  // The catalog: the names of the repository, and one with the most package files.
  const indexEntries = (JSON.parse(readFileSync(join(tree, 'index.json'), 'utf8')) as { packages: { name: string }[] })
    .packages;
  const perName = new Map<string, number>();
  for (const entry of indexEntries) perName.set(entry.name, (perName.get(entry.name) ?? 0) + 1);
  const allNames = [...perName.keys()];
  const busiest = [...perName].sort((a, b) => b[1] - a[1])[0]![0];
  const catalogTargets = [`package/${busiest}`, 'package/(random name)'];
  const dir = mkdtempSync(join(tmpdir(), 'kiln-bench-serve-'));
  const servers = [
    { tool: 'kiln serve', port: 18081, child: startKiln(tree, 18081) },
    { tool: 'nginx', port: 18082, child: startNginx(tree, 18082, dir) },
  ];
  const figures: Figures[] = [];
  try {
    for (const server of servers) await waitFor(`http://127.0.0.1:${server.port}/index.v2.json`);
    // The catalog reads the index once, at its first request.
    await waitFor(`http://127.0.0.1:${servers[0]!.port}/package/${busiest}`);
    // One measurement: autocannon against one server and path (or a path drawn per request).
    const measure = async (
      server: (typeof servers)[number],
      target: string,
      connections: number,
      drawPath?: () => string,
    ): Promise<void> => {
      await pause(PAUSE_MS);
      const result = await autocannon({
        url: `http://127.0.0.1:${server.port}/${target}`,
        connections,
        duration: DURATION,
        ...(drawPath === undefined
          ? {}
          : { requests: [{ setupRequest: (request) => ({ ...request, path: drawPath() }) }] }),
      });
      const row: Figures = {
        tool: server.tool,
        target,
        connections,
        requestsPerSecond: result.requests.average,
        p50: result.latency.p50,
        p99: result.latency.p99,
        mibPerSecond: result.throughput.average / (1 << 20),
        errors: result.errors + result.timeouts,
        non2xx: result.non2xx,
      };
      figures.push(row);
      log(
        `${server.tool} /${target} at ${connections}: ${row.requestsPerSecond.toFixed(0)} req/s, p50 ${row.p50} ms, p99 ${row.p99} ms, ${row.mibPerSecond.toFixed(0)} MiB/s, ${row.errors} errors, ${row.non2xx} not 2xx`,
      );
    };
    const randomPage = () => `/package/${encodeURIComponent(allNames[Math.floor(Math.random() * allNames.length)]!)}`;
    for (const target of catalogTargets)
      for (const connections of CONNECTIONS)
        await measure(servers[0]!, target, connections, target.includes('random') ? randomPage : undefined);
    for (const target of targets)
      for (const connections of CONNECTIONS) for (const server of servers) await measure(server, target, connections);
  } finally {
    const peaks = Object.fromEntries(servers.map((server) => [server.tool, peakMiB(server.child.pid!)]));
    for (const server of servers) server.child.kill('SIGTERM');
    await pause(500);
    rmSync(dir, { recursive: true, force: true });
    rmSync(join(tree, 'packages/bench-serve'), { recursive: true, force: true });
    console.log(
      `\nServe benchmark: ${Number(values.packages).toLocaleString('en')}-package repository, loopback, autocannon ${DURATION} s per cell; ${cpus().length} CPUs`,
    );
    console.log(
      `  files: ${targets.map((target) => `/${target} ${(sizes[target]! / 1024).toFixed(0)} KiB`).join(', ')}`,
    );
    const header = ['file', 'conns', 'tool', 'req/s', 'p50 ms', 'p99 ms', 'MiB/s', 'errors', 'p99 vs nginx'];
    const rows = figures.map((row) => {
      const nginx = figures.find(
        (other) => other.tool === 'nginx' && other.target === row.target && other.connections === row.connections,
      );
      return [
        row.target.length > 24 ? `…${row.target.slice(-23)}` : row.target,
        String(row.connections),
        row.tool,
        row.requestsPerSecond.toFixed(0),
        String(row.p50),
        String(row.p99),
        row.mibPerSecond.toFixed(0),
        String(row.errors + row.non2xx),
        nginx === undefined || nginx.p99 === 0 ? '-' : `${(row.p99 / nginx.p99).toFixed(2)}×`,
      ];
    });
    const widths = header.map((title, i) => Math.max(title.length, ...rows.map((row) => row[i]!.length)));
    const line = (cells: string[]) =>
      `  ${cells.map((cell, i) => (i < 3 ? cell.padEnd(widths[i]!) : cell.padStart(widths[i]!))).join('  ')}`;
    console.log(line(header));
    for (const row of rows) console.log(line(row));
    console.log(
      `  peak memory: ${Object.entries(peaks)
        .map(([tool, mib]) => `${tool} ${mib.toFixed(0)} MiB`)
        .join(', ')} (nginx: master and workers summed)`,
    );
    writeFileSync(
      join(ROOT, 'bench-out', 'serve.json'),
      `${JSON.stringify({ packages: Number(values.packages), duration: DURATION, sizes, peaks, figures }, null, 2)}\n`,
    );
    console.log(`\nwritten: ${join(ROOT, 'bench-out', 'serve.json')}`);
  }
}

await main();

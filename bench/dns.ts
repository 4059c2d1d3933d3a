/**
 * DNS figures, one run, same machine (`node dist/bench/dns.js [--quick]`):
 *  1. cost of a cached lookup in the resolver (ns per hit), sync peek and async resolve;
 *  2. queries/s of the DNS proxy (a `legate proxy sidecar` process) answering a ServiceEntry
 *     name, and forwarding+caching a name, against dnsmasq answering the same name itself.
 * A small UDP load generator keeps a fixed number of queries in flight. With two or more
 * cores the server is pinned to core 0 and the generator runs on core 1 (taskset).
 * Writes bench/results/dns.json and dns.md.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { once } from 'node:events';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as packet from 'dns-packet';
import { CachingResolver, DEFAULT_RESOLVER_OPTIONS } from '../src/dns/resolver.js';
import { Dnsmasq, freeUdpPort, sleep } from '../test/support/dnsmasq.js';
import { freePort } from '../test/support/servers.js';

const quick = process.argv.includes('--quick');
const ROUNDS = quick ? 3 : 7;
const DURATION_MS = quick ? 1000 : 2000;
const IN_FLIGHT = 64;
const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const CORES = availableParallelism();
const pinned = CORES >= 2 && spawnSync('taskset', ['-V']).status === 0;
if (pinned) spawnSync('taskset', ['-pc', '1', String(process.pid)]);

async function lookupCost(port: number): Promise<{ peekNs: number; resolveNs: number }> {
  const r = new CachingResolver({ ...DEFAULT_RESOLVER_OPTIONS, servers: [`127.0.0.1:${port}`] });
  await r.resolve('a.test');
  const n1 = quick ? 500_000 : 2_000_000;
  let sink = 0;
  let t0 = process.hrtime.bigint();
  for (let i = 0; i < n1; i++) sink += r.peek('a.test', 'A')!.length;
  const peekNs = Number(process.hrtime.bigint() - t0) / n1;
  const n2 = quick ? 100_000 : 400_000;
  t0 = process.hrtime.bigint();
  for (let i = 0; i < n2; i++) sink += (await r.resolve('a.test')).addresses.length;
  const resolveNs = Number(process.hrtime.bigint() - t0) / n2;
  r.close();
  if (sink === 0) throw new Error('unreachable');
  return { peekNs, resolveNs };
}

/** CPU time a process (all its threads) has used, in microseconds (/proc, clock ticks of 10 ms). */
function cpuUs(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(f[11]) + Number(f[12])) * 10_000;
}

/**
 * Queries/s with IN_FLIGHT outstanding queries for DURATION_MS (lost queries re-sent after
 * 500 ms), and the server's CPU time per answered query: the generator may be the limit on
 * q/s, the CPU cost per query is the server's own.
 */
async function load(port: number, name: string, serverPid: number): Promise<{ qps: number; lost: number; answered: number; cpuUsPerQuery: number }> {
  const s = createSocket({ type: 'udp4', recvBufferSize: 1 << 22 });
  s.bind(0, '127.0.0.1');
  await once(s, 'listening');
  const query = packet.encode({ type: 'query', id: 0, flags: packet.RECURSION_DESIRED, questions: [{ type: 'A', name }] });
  const sentAt = new Map<number, number>();
  let nextId = 1;
  let answered = 0;
  let lost = 0;
  let measuring = false;
  let stopped = false;
  const send = () => {
    const id = nextId;
    nextId = (nextId % 65535) + 1;
    const q = Buffer.from(query);
    q.writeUInt16BE(id, 0);
    sentAt.set(id, Date.now());
    s.send(q, port, '127.0.0.1');
  };
  s.on('message', (m: Buffer) => {
    const id = m.readUInt16BE(0);
    if (!sentAt.delete(id)) return;
    if ((m.readUInt16BE(2) & 0xf) !== 0 || m.readUInt16BE(6) === 0) throw new Error(`bad answer for ${name}`);
    if (measuring) answered++;
    if (!stopped) send();
  });
  const reaper = setInterval(() => {
    const now = Date.now();
    for (const [id, at] of sentAt) {
      if (now - at < 500) continue;
      sentAt.delete(id);
      lost++;
      if (!stopped) send();
    }
  }, 100);
  for (let i = 0; i < IN_FLIGHT; i++) send();
  await sleep(200);
  measuring = true;
  const t0 = Date.now();
  const cpu0 = cpuUs(serverPid);
  await sleep(DURATION_MS);
  measuring = false;
  const cpu = cpuUs(serverPid) - cpu0;
  const elapsed = Date.now() - t0;
  stopped = true;
  clearInterval(reaper);
  await sleep(100);
  s.close();
  return { qps: Math.round((answered * 1000) / elapsed), lost, answered, cpuUsPerQuery: cpu / Math.max(1, answered) };
}

function pin(proc: ChildProcess): void {
  if (pinned && proc.pid) spawnSync('taskset', ['-apc', '0', String(proc.pid)]);
}

async function startSidecar(upstream: number): Promise<{ proc: ChildProcess; port: number }> {
  const dir = mkdtempSync(join(tmpdir(), 'legate-bench-dns-'));
  writeFileSync(
    join(dir, 'c.yaml'),
    `apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: se, namespace: default}
spec:
  hosts: [se.internal]
  addresses: [198.51.100.1]
  ports: [{number: 80, name: tcp}]
`,
  );
  const [out, inb, admin, ready, prom, dns] = [await freePort(), await freePort(), await freePort(), await freePort(), await freePort(), await freeUdpPort()];
  const proc = spawn(
    process.execPath,
    [join(ROOT, 'bin/legate.js'), 'proxy', 'sidecar', '--config', join(dir, 'c.yaml'), '--concurrency', '1', '--dns-capture', '--dns-port', String(dns),
      '--dns-upstream', `127.0.0.1:${upstream}`, '--outbound-port', String(out), '--inbound-port', String(inb), '--admin-port', String(admin),
      '--readiness-port', String(ready), '--prometheus-port', String(prom), '--status-port', '0'],
    { stdio: 'ignore', env: { ...process.env, LEGATE_LOG_LEVEL: 'error' } },
  );
  for (let i = 0; i < 100; i++) {
    const ok = await fetch(`http://127.0.0.1:${admin}/ready`).then((r) => r.ok, () => false);
    if (ok) break;
    await sleep(50);
  }
  pin(proc);
  return { proc, port: dns };
}

async function main(): Promise<void> {
  const d = await new Dnsmasq({ localTtl: 300, extraArgs: ['--cache-size=10000'] }).start({ 'a.test': ['127.0.0.11'] });
  // dnsmasq logs every query in the tests; for the benchmark restart it without logging.
  const port = d.port;
  await d.stop();
  const quiet = spawn('dnsmasq', ['--no-daemon', `--port=${port}`, '--listen-address=127.0.0.1', '--bind-interfaces', '--no-resolv', '--no-hosts', `--hostsdir=${d.hostsDir}`,
    '--local=/test/', '--local-ttl=300', `--user=${process.getuid?.() === 0 ? 'root' : process.env.USER}`, '--pid-file='], { stdio: 'ignore' });
  await sleep(300);
  pin(quiet);
  const results: Record<string, unknown> = { date: new Date().toISOString(), node: process.version, cores: CORES, pinned, inFlight: IN_FLIGHT, durationMs: DURATION_MS };
  try {
    results.lookup = await lookupCost(port);
    const sidecar = await startSidecar(port);
    try {
      // Rounds interleave the three targets so that machine noise hits them alike; medians are reported.
      const targets: [string, number, string, number][] = [
        ['dnsmasq', port, 'a.test', quiet.pid!],
        ['proxyLocal', sidecar.port, 'se.internal', sidecar.proc.pid!],
        ['proxyForwardedCached', sidecar.port, 'a.test', sidecar.proc.pid!],
      ];
      for (const [, p, name, pid] of targets) await load(p, name, pid); // warm-up (JIT, caches)
      const runs: Record<string, { qps: number; lost: number; cpuUsPerQuery: number }[]> = {};
      for (let round = 0; round < ROUNDS; round++) {
        for (const [key, p, name, pid] of targets) (runs[key] ??= []).push(await load(p, name, pid));
      }
      const median = (xs: number[]) => xs.slice().sort((a, b) => a - b)[Math.floor(xs.length / 2)];
      for (const [key, rs] of Object.entries(runs)) {
        const q = rs.map((x) => x.qps);
        results[key] = { qps: median(q), min: Math.min(...q), max: Math.max(...q), cpuUsPerQuery: median(rs.map((x) => x.cpuUsPerQuery)), lost: rs.reduce((a, x) => a + x.lost, 0) };
      }
    } finally {
      sidecar.proc.kill('SIGKILL');
    }
  } finally {
    quiet.kill('SIGTERM');
    await d.close();
  }
  type Row = { qps: number; lost: number; cpuUsPerQuery: number };
  const r = results as { lookup: { peekNs: number; resolveNs: number }; dnsmasq: Row; proxyLocal: Row; proxyForwardedCached: Row };
  const row = (label: string, x: Row) =>
    `| ${label} | ${x.qps} q/s (lost ${x.lost}) | ${(x.qps / r.dnsmasq.qps).toFixed(2)} | ${x.cpuUsPerQuery.toFixed(1)} µs | ${(x.cpuUsPerQuery / r.dnsmasq.cpuUsPerQuery).toFixed(1)}× |`;
  const md = `# DNS benchmark (${results.date}, Node ${results.node}, ${results.cores} cores${pinned ? ', server on core 0, load generator on core 1' : ''})

| resolver cache hit | cost |
|---|---|
| sync \`peek\` | ${r.lookup.peekNs.toFixed(0)} ns |
| \`await resolve()\` | ${r.lookup.resolveNs.toFixed(0)} ns |

| DNS server | queries/s | vs dnsmasq | server CPU per query | vs dnsmasq |
|---|---|---|---|---|
${row('dnsmasq answering from its hosts table', r.dnsmasq)}
${row('Legate DNS proxy, ServiceEntry name (local answer)', r.proxyLocal)}
${row('Legate DNS proxy, forwarded name (from its cache)', r.proxyForwardedCached)}

UDP, ${IN_FLIGHT} queries in flight, one A question per query; median of ${ROUNDS} interleaved ${DURATION_MS / 1000} s runs per row (min–max in results/dns.json).
When the rows' queries/s are alike, the single-threaded Node load generator is the limit; the
CPU the server process spent per answered query (from /proc) is then the figure that compares.
`;
  const out = join(ROOT, 'bench/results');
  mkdirSync(out, { recursive: true });
  writeFileSync(join(out, 'dns.json'), JSON.stringify(results, null, 2) + '\n');
  writeFileSync(join(out, 'dns.md'), md);
  process.stdout.write(md);
}

await main();

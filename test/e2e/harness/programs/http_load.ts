/**
 * HTTP/1.1 load for tests that break things under traffic:
 * `node http_load.js --url URL [--parallel P] [--requests N] [--pause-max-ms M] [--host NAME]`.
 * P loops, each on its own keep-alive connection, send GETs one after another (pausing a random
 * 0–M ms between them, to meet idle timeouts at random moments) and read every body to the end.
 * With --requests the program stops after N requests in all; otherwise it runs until SIGTERM.
 * Prints `{ev:'started'}`, then one summary line `{ev:'summary', sent, ok, statuses, errors,
 * p50Ms, p99Ms}`: `ok` counts 2xx answers, `errors` transport failures by code.
 */
import { Agent, request } from 'node:http';

const args = process.argv.slice(2);
const opt = (name: string) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
};
const url = new URL(opt('--url') ?? '');
const parallel = Number(opt('--parallel') ?? 4);
const limit = Number(opt('--requests') ?? Infinity);
const pauseMax = Number(opt('--pause-max-ms') ?? 0);
const hostHeader = opt('--host');
const emit = (o: Record<string, unknown>) => process.stdout.write(JSON.stringify(o) + '\n');

const agent = new Agent({ keepAlive: true, maxSockets: parallel });
const result = { sent: 0, ok: 0, statuses: {} as Record<string, number>, errors: {} as Record<string, number> };
const latencies: number[] = [];
let stopping = false;

function one(): Promise<void> {
  return new Promise((resolve) => {
    const start = performance.now();
    result.sent++;
    const req = request(url, { agent, headers: hostHeader ? { host: hostHeader } : {}, timeout: 30_000 }, (res) => {
      res.on('data', () => {});
      res.on('end', () => {
        latencies.push(performance.now() - start);
        const s = String(res.statusCode);
        result.statuses[s] = (result.statuses[s] ?? 0) + 1;
        if (res.statusCode! >= 200 && res.statusCode! < 300) result.ok++;
        resolve();
      });
      res.on('error', (e: NodeJS.ErrnoException) => fail(e));
    });
    const fail = (e: NodeJS.ErrnoException) => {
      const code = e.code ?? e.message;
      result.errors[code] = (result.errors[code] ?? 0) + 1;
      resolve();
    };
    req.on('timeout', () => req.destroy(Object.assign(new Error('timeout'), { code: 'TIMEOUT' })));
    req.on('error', fail);
    req.end();
  });
}

async function loop(): Promise<void> {
  while (!stopping && result.sent < limit) {
    await one();
    if (pauseMax > 0) await new Promise((r) => setTimeout(r, Math.random() * pauseMax));
  }
}

function quantile(q: number): number {
  const s = [...latencies].sort((a, b) => a - b);
  return s.length === 0 ? 0 : Math.round(s[Math.min(s.length - 1, Math.floor(q * s.length))]! * 10) / 10;
}

function summary(): void {
  emit({ ev: 'summary', ...result, p50Ms: quantile(0.5), p99Ms: quantile(0.99) });
}

process.on('SIGTERM', () => {
  stopping = true;
});
emit({ ev: 'started' });
await Promise.all(Array.from({ length: parallel }, loop));
summary();
agent.destroy();
process.exit(0);

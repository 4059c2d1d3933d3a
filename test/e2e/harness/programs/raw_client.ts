/**
 * Raw-bytes HTTP client for the hostile-input e2e tests, run as the app inside a pod.
 *
 *   node raw_client.js --connect HOST:PORT --cases FILE [--timeout MS] [--parallel N] [--hold-ms MS]
 *     FILE holds JSON `[{name, data}]` (data in base64). One connection per case, at most N
 *     (default 8) at a time: connect, write the bytes, do NOT half-close (a half-close would
 *     let the proxy end the connection for a reason of its own), read until the peer ends or
 *     resets it, or the timeout. Prints one JSON line per case, in order, when all are done:
 *     {name, connected, rx (latin1, first 8 KiB), rxBytes, gotEnd, reset, error?}.
 *     `gotEnd`/`reset` tell the peer closed the connection, not our timer. With --hold-ms, each
 *     connection reads nothing for MS ms after writing (a client that does not read), then reads.
 */
import { readFileSync } from 'node:fs';
import { connect } from 'node:net';

const args = process.argv.slice(2);
const opt = (name: string) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
};
const [host, portText] = (opt('--connect') ?? '').split(/:(?=\d+$)/);
const port = Number(portText);
const timeoutMs = Number(opt('--timeout') ?? 10_000);
const parallel = Number(opt('--parallel') ?? 8);
const holdMs = Number(opt('--hold-ms') ?? 0);
const cases = JSON.parse(readFileSync(opt('--cases') ?? 0, 'utf8')) as { name: string; data: string }[];

interface Result {
  name: string;
  connected: boolean;
  rx: string;
  rxBytes: number;
  gotEnd: boolean;
  reset: boolean;
  error?: string;
}

function run(c: { name: string; data: string }): Promise<Result> {
  return new Promise((resolve) => {
    const r: Result = { name: c.name, connected: false, rx: '', rxBytes: 0, gotEnd: false, reset: false };
    const chunks: Buffer[] = [];
    const sock = connect({ host, port, allowHalfOpen: true });
    const timer = setTimeout(() => {
      r.error ??= 'TIMEOUT';
      sock.destroy();
    }, timeoutMs);
    sock.on('connect', () => {
      r.connected = true;
      sock.write(Buffer.from(c.data, 'base64'));
      if (holdMs > 0) {
        sock.pause();
        setTimeout(() => sock.resume(), holdMs);
      }
    });
    sock.on('data', (b: Buffer) => {
      r.rxBytes += b.length;
      if (r.rxBytes - b.length < 8192) chunks.push(b);
    });
    sock.on('end', () => {
      r.gotEnd = true;
      sock.end();
    });
    sock.on('error', (e: NodeJS.ErrnoException) => {
      if (e.code === 'ECONNRESET' || e.code === 'EPIPE') r.reset = true;
      else r.error ??= e.code ?? e.message;
    });
    sock.on('close', () => {
      clearTimeout(timer);
      r.rx = Buffer.concat(chunks).subarray(0, 8192).toString('latin1');
      resolve(r);
    });
  });
}

const results: Result[] = new Array(cases.length);
let next = 0;
async function lane(): Promise<void> {
  while (next < cases.length) {
    const i = next++;
    results[i] = await run(cases[i]);
  }
}
await Promise.all(Array.from({ length: Math.max(1, parallel) }, lane));
for (const r of results) process.stdout.write(JSON.stringify(r) + '\n');

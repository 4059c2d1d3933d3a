import { writeFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import { latencyHistogram, percentilesMs } from '../stats.js';
import type { Endpoint } from '../types.js';
import { ResponseReader, request } from './response_reader.js';

export interface OpenLoopResult {
  /** Latency from the moment each request was written (what the path adds; fortio's measure). */
  percentiles: [number, number][];
  /** Latency from the moment each request was due (wrk2's coordinated-omission correction). */
  correctedPercentiles: [number, number][];
  achievedRate: number;
  completed: number;
  errors: number;
}

interface Conn {
  socket: Socket;
  reader: ResponseReader;
  due: number;
  sent: number;
  /** A request was written and its response has not ended yet. */
  inFlight: boolean;
}

/**
 * A fixed-rate (open-loop) HTTP/1.1 generator, written here because wrk2 is not in Debian:
 * requests fall due at `rate` per second whatever the responses do; each goes out on an
 * idle keep-alive connection, or waits for one (and that wait counts in the corrected
 * latency). One request in flight per connection, no pipelining.
 */
export async function openLoop(o: {
  endpoint: Endpoint;
  rate: number;
  connections: number;
  durSec: number;
  method: 'GET' | 'POST';
  path: string;
  body?: Buffer;
  /** Called every 250 ms while the load runs (e.g. to sample the proxy's memory). */
  every250ms?: () => void;
}): Promise<OpenLoopResult> {
  const req = request(o.method, o.path, o.endpoint.host, o.body);
  const service = latencyHistogram();
  const corrected = latencyHistogram();
  const total = Math.round(o.rate * o.durSec);
  const idle: Conn[] = [];
  const all = new Set<Conn>();
  const pending: number[] = [];
  let completed = 0;
  let errors = 0;
  let scheduled = 0;
  let finish: () => void = () => {};
  const finished = new Promise<void>((r) => (finish = r));
  const t0 = performance.now() + 20;
  // BENCH_TRACE_LATENCY=<path>: one line per request (ms into the run it was sent, µs it took, client port), to tell stalls from spread.
  const TRACE: string[] | undefined = process.env.BENCH_TRACE_LATENCY ? [] : undefined;

  const dispatch = () => {
    while (pending.length && idle.length) {
      const c = idle.pop()!;
      c.due = pending.shift()!;
      c.sent = performance.now();
      c.inFlight = true;
      c.socket.write(req);
    }
  };
  const open = (): Promise<Conn> =>
    new Promise((resolve, reject) => {
      const socket = connect({ host: o.endpoint.host, port: o.endpoint.port, noDelay: true });
      const c: Conn = { socket, reader: new ResponseReader(), due: 0, sent: 0, inFlight: false };
      all.add(c);
      socket.once('connect', () => resolve(c));
      socket.on('data', (chunk: Buffer) => {
        if (c.reader.push(chunk) === 0) return;
        const now = performance.now();
        service.recordValue(Math.max(1, Math.round((now - c.sent) * 1000)));
        if (TRACE) TRACE.push(`${(c.sent - t0).toFixed(3)} ${((now - c.sent) * 1000).toFixed(0)} ${c.socket.localPort}`);
        corrected.recordValue(Math.max(1, Math.round((now - c.due) * 1000)));
        completed++;
        c.inFlight = false;
        if (completed + errors >= total) return finish();
        idle.push(c);
        dispatch();
      });
      socket.on('error', (err) => {
        if (process.env.BENCH_DEBUG_ERRORS) process.stderr.write(`connection error: ${err.message}\n`);
        reject(err);
      });
      socket.on('close', (hadError) => {
        const waiting = idle.indexOf(c);
        if (waiting >= 0) idle.splice(waiting, 1);
        if (scheduled === 0 || completed + errors >= total) return; // not started, or over: closing is expected
        // Only a request in flight is lost (an error); an idle connection closed by the peer is just replaced.
        if (c.inFlight) errors++;
        if (process.env.BENCH_DEBUG_ERRORS) {
          process.stderr.write(`${c.inFlight ? 'a request in flight was lost' : 'an idle keep-alive connection was closed'}: ${hadError ? 'reset' : 'closed'} by the peer\n`);
        }
        if (completed + errors >= total) return finish();
        void open().then((n) => (idle.push(n), dispatch()), () => {});
      });
    });
  const conns = await Promise.all(Array.from({ length: o.connections }, open));
  idle.push(...conns);

  const tick = () => {
    const now = performance.now();
    const due = Math.min(total, Math.floor(((now - t0) * o.rate) / 1000) + 1);
    for (; scheduled < due; scheduled++) pending.push(t0 + (scheduled * 1000) / o.rate);
    dispatch();
    if (scheduled < total) setTimeout(tick, Math.max(0, t0 + (scheduled * 1000) / o.rate - performance.now()));
  };
  setTimeout(tick, 20);
  const guard = setTimeout(finish, (o.durSec + 10) * 1000);
  const sampler = o.every250ms && setInterval(o.every250ms, 250);
  await finished;
  clearTimeout(guard);
  clearInterval(sampler);
  const elapsed = (performance.now() - t0) / 1000;
  scheduled = 0; // closing is expected from here on
  for (const c of all) {
    c.socket.destroy();
    errors += c.reader.statusErrors;
  }
  if (TRACE) writeFileSync(`${process.env.BENCH_TRACE_LATENCY}.${Date.now()}`, TRACE.join('\n') + '\n');
  return { percentiles: percentilesMs(service), correctedPercentiles: percentilesMs(corrected), achievedRate: completed / elapsed, completed, errors };
}

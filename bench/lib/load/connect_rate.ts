import { connect } from 'node:net';
import { performance } from 'node:perf_hooks';
import { latencyHistogram, percentilesMs } from '../stats.js';
import type { Endpoint } from '../types.js';
import { request } from './response_reader.js';

/**
 * New connections per second without wrk: `connections` loops, each connecting, sending one
 * request with `Connection: close`, reading to the server's FIN and closing, again and again.
 * Latency is connect-to-close. Slower than wrk; used when wrk is not installed.
 */
export async function connectRate(o: { endpoint: Endpoint; connections: number; durSec: number; path: string }): Promise<{ rps: number; errors: number; percentiles: [number, number][] }> {
  const req = request('GET', o.path, o.endpoint.host, undefined, true);
  const h = latencyHistogram();
  const end = performance.now() + o.durSec * 1000;
  let done = 0;
  let errors = 0;
  const once = () =>
    new Promise<void>((resolve) => {
      const t = performance.now();
      const s = connect({ host: o.endpoint.host, port: o.endpoint.port, noDelay: true });
      let bytes = 0;
      s.once('connect', () => s.end(req));
      s.on('data', (b: Buffer) => (bytes += b.length));
      s.once('end', () => {
        if (bytes > 0) {
          done++;
          h.recordValue(Math.max(1, Math.round((performance.now() - t) * 1000)));
        } else errors++;
        s.destroy();
        resolve();
      });
      s.once('error', () => {
        errors++;
        resolve();
      });
    });
  const loop = async () => {
    while (performance.now() < end) await once();
  };
  const t0 = performance.now();
  await Promise.all(Array.from({ length: o.connections }, loop));
  return { rps: done / ((performance.now() - t0) / 1000), errors, percentiles: percentilesMs(h) };
}

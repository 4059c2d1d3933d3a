import autocannon from 'autocannon';
import { url, type HttpLoad, type HttpLoadResult } from './http_load.js';

/** autocannon (closed loop, in this process, which runs on the load cores). */
export async function runAutocannon(l: HttpLoad): Promise<HttpLoadResult> {
  const r = await autocannon({
    url: url(l),
    connections: l.connections,
    duration: l.durSec,
    pipelining: 1,
    method: l.method ?? 'GET',
    body: l.body,
    headers: l.close ? { connection: 'close' } : undefined,
    timeout: 5,
  });
  const lat = r.latency;
  return {
    rps: r.requests.total / (r.duration || l.durSec),
    requests: r.requests.total,
    errors: r.errors + r.timeouts + r.non2xx,
    percentiles: [
      [50, lat.p50],
      [75, lat.p75],
      [90, lat.p90],
      [99, lat.p99],
      [99.9, lat.p99_9],
      [99.99, lat.p99_99],
      [100, lat.max],
    ],
  };
}

import type { Endpoint } from '../types.js';
import { UPSTREAM_STATUS_PATH } from '../upstream.js';

/** Requests served so far by one upstream, from its stub_status page (nginx's, or the Node server's copy). */
async function requestsServed(u: Endpoint): Promise<number> {
  const res = await fetch(`http://${u.host}:${u.port}${UPSTREAM_STATUS_PATH}`);
  const text = await res.text();
  // "server accepts handled requests\n 12 12 345 \n": the third number.
  const m = /handled requests\s*\n\s*\d+\s+\d+\s+(\d+)/.exec(text);
  if (!res.ok || !m) throw new Error(`${u.host}:${u.port}${UPSTREAM_STATUS_PATH}: no request count in ${JSON.stringify(text.slice(0, 80))}`);
  return Number(m[1]);
}

/** Each upstream's request count, read directly (not through the proxy). */
export const readCounts = (upstreams: readonly Endpoint[]): Promise<number[]> => Promise.all(upstreams.map(requestsServed));

/**
 * How a run's requests were spread, from counts read before and after it: each upstream's
 * share in % (`share1`…) and the busiest upstream's count over the idlest's (`busiestOverIdlest`,
 * left out when one got nothing). Both readings count themselves: one request per upstream is
 * taken off.
 */
export function spread(before: readonly number[], after: readonly number[]): Record<string, number> {
  const served = after.map((a, i) => Math.max(0, a - before[i] - 1));
  const total = served.reduce((a, b) => a + b, 0);
  const out: Record<string, number> = {};
  served.forEach((n, i) => (out[`share${i + 1}`] = total ? (100 * n) / total : 0));
  const min = Math.min(...served);
  if (min > 0) out.busiestOverIdlest = Math.max(...served) / min;
  return out;
}

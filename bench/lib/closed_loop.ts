import { runAutocannon } from './load/autocannon.js';
import { runH2load } from './load/h2load.js';
import type { HttpLoad, HttpLoadResult } from './load/http_load.js';
import { runWrk } from './load/wrk.js';
import { pct } from './stats.js';
import type { MeasureContext, Variant } from './types.js';

export interface ClosedLoopRequest {
  path: string;
  connections: number;
  method?: 'GET' | 'POST';
  body?: Buffer;
  close?: boolean;
  /** Response body size, to report MB/s alongside requests/s. */
  responseBytes?: number;
}

type Tool = 'wrk' | 'autocannon' | 'h2load';

/** How many CPUs a taskset list names ("1", "1-3", "0,2"). */
export function cpuCount(list: string): number {
  return list.split(',').reduce((n, part) => {
    const [a, b] = part.split('-').map(Number);
    return n + (b === undefined ? 1 : b - a + 1);
  }, 0);
}

/**
 * The closed-loop tools to use: autocannon in smoke runs (nothing to install); otherwise wrk
 * when installed (the fastest client, so least likely to be the bottleneck), else autocannon.
 * `crossCheck` in full runs adds autocannon and h2load as extra variants of the 1-worker rows.
 */
export function closedLoopTools(ctx: MeasureContext, crossCheck = false): Tool[] {
  if (ctx.mode === 'smoke') return ['autocannon'];
  const main: Tool = ctx.tools.wrk ? 'wrk' : 'autocannon';
  if (!crossCheck || ctx.mode !== 'full' || ctx.workers !== 1) return [main];
  return [...new Set<Tool>([main, 'autocannon', ...(ctx.tools.h2load ? (['h2load'] as const) : [])])];
}

export function closedLoopVariants(ctx: MeasureContext, req: ClosedLoopRequest, opts: { crossCheck?: boolean; name?: string } = {}): Variant[] {
  const tools = closedLoopTools(ctx, opts.crossCheck);
  const connections = ctx.mode === 'smoke' ? Math.min(req.connections, 8) : req.connections;
  return tools.map((tool) => ({
    name: `${opts.name ? opts.name + ', ' : ''}${connections} conns${tools.length > 1 ? `, ${tool}` : ''}`,
    tool,
    async measure(c, endpoint, run) {
      const load: HttpLoad = { ...req, connections, endpoint, durSec: run.sec, threads: cpuCount(c.cpus.load), tmp: c.tmp };
      let r: HttpLoadResult & { meanMs?: number };
      // wrk and h2load count whole seconds; a shorter warm-up (quick runs) warms up with autocannon.
      if (tool !== 'autocannon' && run.warmup && run.sec < 1) r = await runAutocannon(load);
      else if (tool === 'wrk') r = runWrk({ ...load, durSec: Math.max(1, Math.round(run.sec)) });
      else if (tool === 'h2load') r = runH2load({ ...load, durSec: Math.max(1, Math.round(run.sec)) });
      else r = await runAutocannon(load);
      const extra: Record<string, number> = { errors: r.errors };
      const p50 = pct(r.percentiles, 50);
      const p99 = pct(r.percentiles, 99);
      if (p50 !== undefined) extra.p50 = p50;
      if (p99 !== undefined) extra.p99 = p99;
      if (r.meanMs !== undefined) extra.mean = r.meanMs;
      if (req.responseBytes) extra.mbps = (r.rps * req.responseBytes) / 1e6;
      return { value: r.rps, percentiles: r.percentiles.length > 1 ? r.percentiles : undefined, extra };
    },
  }));
}

export const CLOSED_LOOP_COLUMNS = [
  { key: 'p50', header: 'p50 ms', digits: 2 },
  { key: 'p99', header: 'p99 ms', digits: 2 },
  { key: 'errors', header: 'errors', digits: 0 },
] as const;

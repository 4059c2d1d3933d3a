import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runCapture } from '../proc.js';
import { PERCENTILES } from '../stats.js';
import { url, type HttpLoad, type HttpLoadResult } from './http_load.js';

/** A wrk Lua script that sets the request and prints the summary as one JSON line. */
function script(l: HttpLoad): string {
  const lines = [`wrk.method = "${l.method ?? 'GET'}"`];
  if (l.body) lines.push(`wrk.body = string.rep("q", ${l.body.length})`);
  if (l.close) lines.push('wrk.headers["Connection"] = "close"');
  lines.push(
    'done = function(summary, latency, requests)',
    '  local e = summary.errors',
    '  local ps = {}',
    `  for _, p in ipairs({${PERCENTILES.join(', ')}}) do ps[#ps + 1] = string.format("[%g,%d]", p, latency:percentile(p)) end`,
    '  io.write(string.format(\'BENCH_JSON {"requests":%d,"duration_us":%d,"errors":%d,"percentiles_us":[%s]}\\n\',',
    '    summary.requests, summary.duration, e.connect + e.read + e.write + e.status + e.timeout, table.concat(ps, ",")))',
    'end',
  );
  return lines.join('\n') + '\n';
}

/** wrk (closed loop): `threads` threads, `connections` connections, `durSec` seconds. */
export function runWrk(l: HttpLoad): HttpLoadResult {
  const file = join(l.tmp, 'wrk-report.lua');
  writeFileSync(file, script(l));
  const out = runCapture(['wrk', '-t', String(l.threads), '-c', String(l.connections), '-d', `${l.durSec}s`, '--timeout', '5s', '-s', file, url(l)], {
    timeoutMs: (l.durSec + 30) * 1000,
  });
  const line = out.split('\n').find((s) => s.startsWith('BENCH_JSON '));
  if (!line) throw new Error(`wrk printed no summary:\n${out}`);
  const r = JSON.parse(line.slice('BENCH_JSON '.length)) as { requests: number; duration_us: number; errors: number; percentiles_us: [number, number][] };
  return {
    rps: r.requests / (r.duration_us / 1e6),
    requests: r.requests,
    errors: r.errors,
    percentiles: r.percentiles_us.map(([p, us]) => [p, us / 1000]),
  };
}

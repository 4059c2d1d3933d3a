import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runCapture } from '../proc.js';
import { url, type HttpLoad, type HttpLoadResult } from './http_load.js';

const toMs = (v: string, unit: string) => Number(v) * ({ us: 0.001, ms: 1, s: 1000 } as Record<string, number>)[unit];

/**
 * h2load (nghttp2-client), closed loop: HTTP/1.1 (`--h1`), or prior-knowledge h2c with `streams`
 * concurrent streams per connection. It reports min/mean/max request time, not percentiles, so
 * only p100 (max) is kept as a percentile; the mean goes in `meanMs`.
 */
export function runH2load(l: HttpLoad & { streams?: number; headers?: string[] }): HttpLoadResult & { meanMs: number } {
  const protocol = l.streams === undefined ? ['--h1'] : ['-m', String(l.streams)];
  const args = ['h2load', ...protocol, '-t', String(Math.min(l.threads, l.connections)), '-c', String(l.connections), '-D', String(l.durSec)];
  if (l.method === 'POST' && l.body) {
    const file = join(l.tmp, 'h2load-body');
    writeFileSync(file, l.body);
    args.push('-d', file);
  }
  if (l.close) args.push('-H', 'connection: close');
  for (const h of l.headers ?? []) args.push('-H', h);
  const out = runCapture([...args, url(l)], { timeoutMs: (l.durSec + 30) * 1000 });
  const fin = /finished in ([\d.]+)s, ([\d.]+) req\/s/.exec(out);
  const req = /requests: (\d+) total, \d+ started, (\d+) done, (\d+) succeeded, (\d+) failed, (\d+) errored, (\d+) timeout/.exec(out);
  const time = /time for request:\s+([\d.]+)(us|ms|s)\s+([\d.]+)(us|ms|s)\s+([\d.]+)(us|ms|s)/.exec(out);
  if (!fin || !req || !time) throw new Error(`cannot read h2load's output:\n${out}`);
  const done = Number(req[2]);
  return {
    rps: Number(fin[2]),
    requests: done,
    errors: Number(req[4]) + Number(req[5]) + Number(req[6]),
    percentiles: [[100, toMs(time[3], time[4])]],
    meanMs: toMs(time[5], time[6]),
  };
}

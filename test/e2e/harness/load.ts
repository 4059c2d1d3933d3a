/**
 * HTTP load as the app (programs/http_load), and the fault suite's record of requests sent
 * and lost: each fault test writes its counts as JSON under one directory and logs them, so
 * docs/reliability.md can quote the figures of a real run.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { APP_UID } from './clients.js';
import type { Netns, TestContext, UserOptions } from './netns.js';
import type { Proc } from './proc.js';
import { NODE, programPath } from './programs.js';

export interface LoadSummary {
  ev: 'summary';
  sent: number;
  /** 2xx answers. */
  ok: number;
  statuses: Record<string, number>;
  /** Transport failures (reset, timeout, …) by code. */
  errors: Record<string, number>;
  p50Ms: number;
  p99Ms: number;
}

export interface LoadOptions extends UserOptions {
  url: string;
  parallel?: number;
  /** Stop after this many requests; without it the load runs until stop(). */
  requests?: number;
  /** Random pause of 0–this ms between a loop's requests. */
  pauseMaxMs?: number;
  host?: string;
}

/** Starts HTTP load from `ns`; `stop()` ends it (or waits for `requests`) and returns the summary. */
export async function httpLoad(ns: Netns, o: LoadOptions): Promise<{ proc: Proc; stop(): Promise<LoadSummary>; done(): Promise<LoadSummary> }> {
  const argv = [NODE, programPath('http_load'), '--url', o.url, '--parallel', String(o.parallel ?? 4), '--pause-max-ms', String(o.pauseMaxMs ?? 0)];
  if (o.requests !== undefined) argv.push('--requests', String(o.requests));
  if (o.host) argv.push('--host', o.host);
  const proc = ns.spawn(argv, { uid: o.uid ?? APP_UID, gid: o.gid, label: `${ns.purpose}:http_load` });
  await proc.waitForLine((l) => l.includes('"ev":"started"'), 30_000);
  const summary = () => {
    const s = proc.jsonLines<LoadSummary>().find((e) => e.ev === 'summary');
    if (!s) throw new Error(`http_load printed no summary\n${proc.describe()}`);
    return s;
  };
  return {
    proc,
    async stop() {
      await proc.stop('SIGTERM', 40_000);
      return summary();
    },
    async done() {
      await proc.waitForLine((l) => l.includes('"ev":"summary"'), 110_000);
      return summary();
    },
  };
}

/** Where fault counts are written: LEGATE_FAULT_COUNTS_DIR, or legate-fault-counts in the temp dir. */
export const FAULT_COUNTS_DIR = process.env.LEGATE_FAULT_COUNTS_DIR ?? join(tmpdir(), 'legate-fault-counts');

export interface FaultCounts {
  /** Requests (or connections) sent while the fault was on. */
  sent: number;
  /** Of those, how many did not get the answer the fault case demands (target 0). */
  lost: number;
  [more: string]: unknown;
}

/** Writes `<case>.json` into FAULT_COUNTS_DIR and logs the counts with the test. */
export function recordFaultCounts(t: TestContext, caseName: string, counts: FaultCounts): void {
  mkdirSync(FAULT_COUNTS_DIR, { recursive: true });
  const file = join(FAULT_COUNTS_DIR, `${caseName}.json`);
  writeFileSync(file, JSON.stringify({ case: caseName, ...counts, at: new Date().toISOString() }, null, 2) + '\n');
  t.log(`fault counts ${caseName}: ${JSON.stringify(counts)} (${file})`);
}

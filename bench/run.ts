/**
 * `npm run bench` (full), `npm run bench:quick` (< 2 minutes), `--smoke` (the test suite's).
 * The runner re-executes itself inside a network namespace made for the run (see
 * lib/netns.ts), runs every scenario in bench/scenarios/, and writes JSON, SVG and a
 * Markdown summary to bench/results/ (or --out DIR). Root is required.
 */
import { spawn } from 'node:child_process';
import { chmodSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { CORES } from './lib/cpus.js';
import { describeMachine, detectTools } from './lib/machine.js';
import { createNetns, deleteNetns, inNetns } from './lib/netns.js';
import { parseBenchArgs, TIMING, type BenchOptions } from './lib/options.js';
import { DIST_BENCH, REPO, RESULTS } from './lib/paths.js';
import { killAllChildren, runCapture } from './lib/proc.js';
import { writeScenario, writeSummary } from './lib/report/write.js';
import { runScenario } from './lib/runner.js';
import { hasNginxStream } from './lib/targets/nginx.js';
import type { Scenario, ScenarioResult } from './lib/types.js';

const started = Date.now();
const log = (msg: string) => process.stderr.write(`[bench ${((Date.now() - started) / 1000).toFixed(1).padStart(5)}s] ${msg}\n`);

async function loadScenarios(o: BenchOptions): Promise<Scenario[]> {
  const dir = join(DIST_BENCH, 'scenarios');
  const all: Scenario[] = [];
  for (const f of readdirSync(dir).filter((f) => f.endsWith('.js'))) {
    const mod = (await import(pathToFileURL(join(dir, f)).href)) as { scenario?: Scenario };
    if (mod.scenario) all.push(mod.scenario);
  }
  const unknown = o.only?.filter((n) => !all.some((s) => s.name === n));
  if (unknown?.length) throw new Error(`unknown scenario(s) ${unknown.join(', ')}; known: ${all.map((s) => s.name).join(', ')}`);
  return all.filter((s) => s.modes.includes(o.mode) && (!o.only || o.only.includes(s.name))).sort((a, b) => a.order - b.order);
}

/** Outside: install peers, make the namespace, run the inner copy in it, always remove it. */
async function outer(o: BenchOptions, argv: string[]): Promise<number> {
  if (process.getuid?.() !== 0) {
    throw new Error('the benchmark needs root: it creates a network namespace and iptables rules and runs the proxy as uid 1337');
  }
  if (o.mode !== 'smoke' && o.install) {
    log('checking peers (bench/install-peers.sh)');
    process.stderr.write(runCapture(['bash', join(REPO, 'bench', 'install-peers.sh')]));
  }
  const ns = `legate-bench-${process.pid}`;
  createNetns(ns);
  try {
    const [cmd, ...args] = inNetns(ns, [process.execPath, fileURLToPath(import.meta.url), ...argv, '--inside']);
    const child = spawn(cmd, args, { stdio: 'inherit' });
    const forward = (sig: NodeJS.Signals) => child.kill(sig);
    process.on('SIGINT', forward);
    process.on('SIGTERM', forward);
    const code = await new Promise<number>((resolve) => child.once('exit', (c, sig) => resolve(c ?? (sig ? 128 : 1))));
    process.off('SIGINT', forward);
    process.off('SIGTERM', forward);
    return code;
  } finally {
    deleteNetns(ns);
  }
}

/** Inside the namespace: every scenario, each written as soon as it is done, then the summary. */
async function inner(o: BenchOptions, argv: string[]): Promise<number> {
  const tmp = mkdtempSync('/tmp/legate-bench-');
  chmodSync(tmp, 0o755); // the proxy runs as uid 1337 and reads its configuration from here
  const stop = () => {
    killAllChildren();
    process.exit(130);
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
  try {
    const tools = detectTools(hasNginxStream);
    const machine = describeMachine(tools);
    const scenarios = await loadScenarios(o);
    const workers = o.workers ?? (o.mode === 'full' ? [...new Set([1, CORES])] : [1]);
    const date = new Date().toISOString().slice(0, 10);
    const event = process.env.npm_lifecycle_event;
    const extra = argv.filter((a) => a !== '--quick' && a !== '--smoke');
    const command = event?.startsWith('bench') ? `npm run ${event}${extra.length ? ' -- ' + extra.join(' ') : ''}` : `node dist/bench/run.js ${argv.join(' ')}`.trim();
    const outDir = o.out ?? RESULTS;
    log(`${o.mode} run: ${scenarios.map((s) => s.name).join(', ')}; workers ${workers.join(',')}; tools ${JSON.stringify(tools)}`);
    const results: ScenarioResult[] = [];
    for (const s of scenarios) {
      const before = loadavg()[0];
      const run = await runScenario(s, { mode: o.mode, timing: TIMING[o.mode], timingOverride: o.timing, tools, tmp, workers, targets: o.targets, log });
      const result: ScenarioResult = {
        scenario: s.name,
        title: s.title,
        describes: s.describes,
        unit: s.unit,
        higherIsBetter: s.higherIsBetter,
        mode: o.mode,
        date,
        command,
        machine,
        timing: run.timing,
        rows: run.rows,
        skipped: run.skipped,
        notes: s.notes ?? [],
        verdicts: s.verdicts?.(run.rows) ?? [],
        columns: s.columns ?? [],
        compareWith: s.compareWith,
        compareAs: s.compareAs ?? 'ratio',
        upstream: run.upstream,
        loadAverage: { before, after: loadavg()[0] },
      };
      const files = writeScenario(outDir, result);
      results.push(result);
      log(`${s.name}: wrote ${files.json}, ${files.svg}`);
    }
    if (results.length === 0) throw new Error('no scenario to run');
    log(`summary: ${join(outDir, writeSummary(outDir, results))}`);
    return results.some((r) => r.rows.some((x) => x.error)) ? 1 : 0;
  } finally {
    killAllChildren();
    // BENCH_KEEP_TMP=1 keeps the targets' configs and logs (e.g. a proxy's --trace-gc output) for a profiling run.
    if (process.env.BENCH_KEEP_TMP) log(`kept ${tmp}`);
    else rmSync(tmp, { recursive: true, force: true });
  }
}

const argv = process.argv.slice(2);
try {
  const o = parseBenchArgs(argv);
  const userArgs = argv.filter((a) => a !== '--inside');
  process.exitCode = o.inside ? await inner(o, userArgs) : await outer(o, userArgs);
} catch (err) {
  killAllChildren();
  log(`error: ${(err as Error).message}`);
  process.exitCode = 1;
}

/**
 * The benchmark harness in smoke mode (bench/run.ts --smoke): every scenario for a second or
 * so against direct and Legate, with the Node upstream and Node load generators only (no
 * peers to install). Checks that the harness still runs end to end and that its JSON,
 * Markdown and SVG are written and parse — never the figures themselves.
 */
import test, { type ExecutionContext } from 'ava';
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const RUN = fileURLToPath(new URL('../../bench/run.js', import.meta.url));

/** Tags balance and the root is <svg>: enough to know a browser will draw it. */
function wellFormedSvg(text: string): string | undefined {
  const stack: string[] = [];
  let root: string | undefined;
  for (const m of text.matchAll(/<(\/?)([a-zA-Z][\w:-]*)[^<>]*?(\/?)>/g)) {
    const [, closing, name, selfClosing] = m;
    root ??= name;
    if (selfClosing) continue;
    if (!closing) stack.push(name);
    else if (stack.pop() !== name) return `unbalanced </${name}>`;
  }
  if (root !== 'svg') return `root element is ${root}`;
  if (stack.length) return `unclosed <${stack.join('>, <')}>`;
  if (/<(?![/a-zA-Z?])/.test(text)) return 'a stray "<" (unescaped text)';
  return undefined;
}

/** Runs `bench/run.js args --out <fresh dir>` as root, checks it exits 0, hands the directory and its log to `check`. */
async function benchRun(t: ExecutionContext, args: string[], timeoutMs: number, check: (out: string, stderr: string) => void): Promise<void> {
  if (process.getuid?.() !== 0) {
    t.fail('the benchmark smoke run needs root (network namespace, iptables, a proxy as uid 1337); run the tests as root as CI does');
    return;
  }
  t.timeout(timeoutMs);
  const out = mkdtempSync(join(tmpdir(), 'legate-bench-smoke-'));
  try {
    const child = spawn(process.execPath, [RUN, ...args, '--out', out], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (b: Buffer) => (stderr += b));
    const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
    t.is(code, 0, stderr);
    check(out, stderr);
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
}

test('bench --smoke writes JSON, an SVG per scenario and a Markdown summary', async (t) => {
  await benchRun(t, ['--smoke'], 160_000, (out) => {
    const files = readdirSync(out);
    const jsons = files.filter((f) => f.endsWith('.smoke.json'));
    const scenarios = ['http_small', 'gateway_https', 'http_lb', 'http_1k', 'http_64k', 'tcp_bulk', 'tcp_connect_rate', 'latency_fixed_rate', 'memory', 'config_apply', 'lb_pick', 'xds_push', 'authz_eval'];
    for (const s of scenarios) t.true(jsons.some((f) => f.endsWith(`-${s}.smoke.json`)), `${s}: JSON written (${files.join(', ')})`);

    for (const f of jsons) {
      const r = JSON.parse(readFileSync(join(out, f), 'utf8')) as {
        scenario: string;
        machine: { cpuModel: string; cores: number; node: string };
        timing: { reps: number };
        rows: { target: string; median: number; samples: number[]; error?: string }[];
      };
      t.truthy(r.machine.cpuModel, `${f}: machine described`);
      t.is(r.machine.node, process.version);
      t.true(r.rows.length > 0, `${f}: has rows`);
      for (const row of r.rows) {
        t.is(row.error, undefined, `${f}: ${row.target} ran`);
        t.true(Number.isFinite(row.median) && row.median > 0, `${f}: ${row.target} median ${row.median}`);
        t.is(row.samples.length, r.timing.reps, `${f}: every repetition recorded`);
      }
      // http_lb balances per request, so its Legate row is the HTTP connection manager, not tcp_proxy.
      // gateway_https runs `legate proxy router`, plain and terminating HTTPS.
      const legate = r.scenario === 'http_lb' ? ['legate-http-least-request'] : r.scenario === 'gateway_https' ? ['legate-gateway-http', 'legate-gateway-https'] : ['legate-handoff'];
      if (!['config_apply', 'memory', 'lb_pick', 'xds_push', 'authz_eval'].includes(r.scenario)) {
        t.deepEqual([...new Set(r.rows.map((x) => x.target))], ['direct', ...legate], `${f}: direct and Legate measured`);
      }
      const svg = readFileSync(join(out, f.replace(/\.json$/, '.svg')), 'utf8');
      t.is(wellFormedSvg(svg), undefined, `${f}: SVG well formed`);
      t.regex(svg, /<rect x="\d/, `${f}: SVG has bars`);
    }
    t.regex(readFileSync(join(out, jsons.find((f) => f.includes('latency_fixed_rate'))!.replace(/\.json$/, '.svg')), 'utf8'), /<polyline /, 'latency chart has curves');

    const summary = readFileSync(join(out, files.find((f) => f.endsWith('-summary.smoke.md'))!), 'utf8');
    t.regex(summary, /^# Legate benchmark — smoke run, \d{4}-\d{2}-\d{2}$/m);
    t.regex(summary, /- Machine: .+ cores, .+Node v\d+/);
    for (const s of scenarios) t.regex(summary, new RegExp(`^## ${s} — `, 'm'));
    t.regex(summary, /\| legate hand-off \(tcp_proxy, no HTTP processing\) \| 1, (pinned cpu 0|unpinned) \|/);
  });
});

test('bench --interleave: the targets take turns, one repetition each per round, and the summary says so', async (t) => {
  await benchRun(t, ['--smoke', '--only', 'http_small', '--interleave', '--reps', '3'], 120_000, (out, stderr) => {
    // The log shows the order: round 1 of every target before round 2 of any.
    const starts = [...stderr.matchAll(/http_small: (direct|legate)[^\n]*round (\d) of 3/g)].map((m) => `${m[1]}${m[2]}`);
    t.deepEqual(starts, ['direct1', 'legate1', 'direct2', 'legate2', 'direct3', 'legate3'], stderr);
    const json = readdirSync(out).find((f) => f.endsWith('-http_small.smoke.json'))!;
    const r = JSON.parse(readFileSync(join(out, json), 'utf8')) as { timing: { interleaved?: boolean }; rows: { target: string; samples: number[]; error?: string; extra: { proxyCpu?: number } }[] };
    t.true(r.timing.interleaved);
    for (const row of r.rows) {
      t.is(row.error, undefined, `${row.target} ran`);
      t.is(row.samples.length, 3, `${row.target}: a sample per round`);
    }
    t.true((r.rows.find((x) => x.target === 'legate-handoff')?.extra.proxyCpu ?? 0) > 0, 'the proxy CPU is summed over the rounds');
    const summary = readFileSync(join(out, readdirSync(out).find((f) => f.endsWith('-summary.smoke.md'))!), 'utf8');
    t.regex(summary, /3 rounds; in each, every target in turn is started/);
  });
});

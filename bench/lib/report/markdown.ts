import type { Machine, ScenarioResult, Timing } from '../types.js';
import { compareCell, fmt, refRow, workersCell } from './format.js';

const OTHER_CPU = { key: 'otherCpu', header: 'other CPU %', digits: 0 } as const;
/** CPU time of the proxy's process tree per wall second (100% = one core busy). */
const PROXY_CPU = { key: 'proxyCpu', header: 'proxy CPU %', digits: 0 } as const;
/** Proxy CPU time per request or connection (µs): less sensitive than rates to other load on the machine. */
const CPU_PER_OP = { key: 'cpuPerOp', header: 'proxy CPU µs/op', digits: 1 } as const;
/** Its user-space part (the kernel's is the rest): the proxy's own work, where proxies differ most. */
const CPU_USER_PER_OP = { key: 'cpuUserPerOp', header: 'of it user µs/op', digits: 1 } as const;

export function machineLine(m: Machine): string {
  const peers = Object.entries(m.versions).map(([k, v]) => `${k} ${v}`);
  return `${m.cpuModel}, ${m.cores} cores, ${m.memoryGiB} GiB, ${m.os}, Linux ${m.kernel}, Node ${m.node}, legate ${m.legateCommit}; ${peers.join('; ')}`;
}

export function timingLine(t: Timing): string {
  const warmup = t.warmupSec > 0 ? `warm-up ${t.warmupSec} s (discarded), then ` : '';
  // durSec 0: each repetition is one operation (e.g. one configuration apply), not a timed run.
  if (t.interleaved) return `${t.reps} rounds; in each, every target in turn is started, warmed up for ${t.warmupSec} s (discarded) and measured for ${t.durSec} s; the median is shown with the min–max spread`;
  return `${warmup}${t.reps} repetitions${t.durSec > 0 ? ` of ${t.durSec} s` : ''}; the median is shown with the min–max spread`;
}

/** One scenario's section: what it measures, the table, verdicts, notes and skips. */
export function scenarioMarkdown(r: ScenarioResult): string {
  const out: string[] = [`## ${r.scenario} — ${r.title}`, '', r.describes, ''];
  const load = r.loadAverage;
  const worst = Math.max(0, ...r.rows.map((x) => x.extra.otherCpu ?? 0));
  out.push(
    [
      r.upstream !== 'n/a' ? `Upstream: ${r.upstream}.` : '',
      `Timing: ${timingLine(r.timing)}.`,
      `Load average before → after: ${fmt(load.before, 2)} → ${fmt(load.after, 2)} (this run's own processes count in it).`,
      worst > 10 ? `**Other processes used up to ${fmt(worst, 0)}% of the machine's CPU while rows were measured (column "other CPU %"): those rows are skewed.**` : '',
    ]
      .filter(Boolean)
      .join(' '),
    '',
  );
  const refs = r.compareWith.filter((ref) => r.rows.some((x) => refRow(r.rows, x, ref) && x.target !== ref));
  const labelOf = (id: string) => r.rows.find((x) => x.target === id)?.label ?? id;
  const cmpHeader = (ref: string) => (r.compareAs === 'difference' ? `vs ${labelOf(ref)}` : `× ${labelOf(ref)}`);
  // Every measured row records how busy the rest of the machine was (lib/other_cpu.ts).
  const cols = [...r.columns, PROXY_CPU, CPU_PER_OP, CPU_USER_PER_OP, OTHER_CPU].filter((c) => r.rows.some((x) => x.extra[c.key] !== undefined));
  const head = ['target', 'workers', 'variant', `${r.unit} (median)`, 'min–max', ...refs.map(cmpHeader), ...cols.map((c) => c.header), 'tool'];
  out.push(`| ${head.join(' | ')} |`, `|${head.map((h, i) => (i >= 3 && i < head.length - 1 ? '---:' : '---')).join('|')}|`);
  for (const x of r.rows) {
    if (x.error) {
      out.push(`| ${x.label} | ${workersCell(x)} | — | failed: ${x.error.replace(/\|/g, '/')} |${' |'.repeat(head.length - 4)}`);
      continue;
    }
    const cells = [
      x.label,
      workersCell(x),
      x.variant,
      `**${fmt(x.median)}**`,
      `${fmt(x.min)}–${fmt(x.max)}`,
      ...refs.map((ref) => compareCell(r.rows, x, ref, r.compareAs)),
      ...cols.map((c) => fmt(x.extra[c.key], c.digits)),
      x.tool,
    ];
    out.push(`| ${cells.join(' | ')} |`);
  }
  out.push('');
  for (const v of r.verdicts) out.push(`- ${v}`);
  for (const n of r.notes) out.push(`- ${n}`);
  for (const s of r.skipped) out.push(`- skipped ${s.target}: ${s.reason}`);
  if (r.verdicts.length || r.notes.length || r.skipped.length) out.push('');
  return out.join('\n');
}

/** The run's summary: header (date, mode, command, machine, method) and every scenario's section. */
export function summaryMarkdown(results: readonly ScenarioResult[], svgNames: Record<string, string>): string {
  const first = results[0];
  const out = [
    `# Legate benchmark — ${first.mode} run, ${first.date}`,
    '',
    `- Command: \`${first.command}\``,
    `- Machine: ${machineLine(first.machine)}`,
    `- Method: every row of a table is measured in the same run on this machine; each section gives its timing. "other CPU %" is the share of the machine's CPU that processes outside this run used while the row was measured.`,
    `- Pinning: with more than one core, a 1-worker proxy runs alone on cpu 0 and the load generator and upstream share the other cores (taskset); rows with as many workers as cores are unpinned.`,
    '- Network: everything runs in a network namespace made for the run. Clients always connect to a VIP that iptables REDIRECTs — to 15001 for Legate (which runs as uid 1337, as a sidecar does), to the listening port for the others — so every row pays the same NAT cost.',
    '- In HTTP scenarios Legate appears twice: through its HTTP connection manager (compare with haproxy mode http and nginx) and as tcp_proxy byte forwarding (compare with haproxy mode tcp).',
    '- "direct" is not an upper bound when the load generator and the upstream share a core: a proxy on another core takes part of the loopback work off that core, so proxied rows can beat it. Compare the proxies with each other.',
    '',
  ];
  for (const r of results) {
    out.push(scenarioMarkdown(r));
    if (svgNames[r.scenario]) out.push(`![${r.scenario}](${svgNames[r.scenario]})`, '');
  }
  return out.join('\n');
}

import type { Row, ScenarioResult } from '../types.js';
import { fmt } from './format.js';

const PALETTE = ['#4e79a7', '#f28e2b', '#e15759', '#76b7b2', '#59a14f', '#edc948', '#b07aa1', '#ff9da7', '#9c755f', '#bab0ac'];
const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
const text = (x: number, y: number, s: string, attrs = '') => `<text x="${x.toFixed(1)}" y="${y.toFixed(1)}" ${attrs}>${esc(s)}</text>`;

const WIDTH = 960;
const TCP_ONLY = ' (tcp_proxy, no HTTP processing)';
/** Charts have less room than tables: Legate's long label becomes "(tcp_proxy)" and the footer explains it. */
const chartLabel = (label: string) => label.replace(TCP_ONLY, ' (tcp_proxy)');
const LABEL_W = 420;
const BAR_H = 18;
const GAP = 6;

/** Horizontal bars (median) with min–max whiskers, one per row, coloured by target. */
function bars(r: ScenarioResult, rows: readonly Row[], colour: (t: string) => string, top: number): { svg: string[]; height: number } {
  const max = Math.max(...rows.map((x) => x.max)) || 1;
  const plotW = WIDTH - LABEL_W - 90;
  const sx = (v: number) => LABEL_W + (v / max) * plotW;
  const svg = [text(10, top + 14, `${r.title} — ${r.unit}, median of ${r.timing.reps} (whiskers: min–max)${r.higherIsBetter ? ', higher is better' : ', lower is better'}`, 'font-weight="bold"')];
  let y = top + 28;
  for (const x of rows) {
    const label = `${chartLabel(x.label)} · ${x.workers}w ${x.pinned ? 'pinned' : 'unpinned'}${x.variant && x.variant !== '—' ? ` · ${x.variant}` : ''}`;
    svg.push(text(LABEL_W - 8, y + 13, label.length > 62 ? label.slice(0, 61) + '…' : label, 'text-anchor="end"'));
    svg.push(`<rect x="${LABEL_W}" y="${y}" width="${Math.max(1, sx(x.median) - LABEL_W).toFixed(1)}" height="${BAR_H}" fill="${colour(x.target)}"/>`);
    const mid = y + BAR_H / 2;
    svg.push(`<path d="M${sx(x.min).toFixed(1)} ${mid}H${sx(x.max).toFixed(1)}M${sx(x.min).toFixed(1)} ${mid - 4}V${mid + 4}M${sx(x.max).toFixed(1)} ${mid - 4}V${mid + 4}" stroke="#222" fill="none"/>`);
    svg.push(text(sx(x.max) + 6, y + 13, fmt(x.median)));
    y += BAR_H + GAP;
  }
  return { svg, height: y - top + 10 };
}

/** x position of a percentile on a "nines" axis: 50 → 0.3, 90 → 1, 99 → 2, 99.9 → 3 … */
const nines = (p: number) => Math.log10(100 / (100 - Math.min(p, 99.999)));

/** Latency percentile curves (log-scale ms), one line per row that has percentiles. */
function curves(rows: readonly Row[], colour: (t: string) => string, top: number): { svg: string[]; height: number } {
  const withP = rows.filter((x) => x.percentiles && x.percentiles.length > 1);
  if (withP.length === 0) return { svg: [], height: 0 };
  const h = 260;
  const x0 = 70;
  const x1 = WIDTH - 380;
  const ps = withP.flatMap((x) => x.percentiles!.filter(([p]) => p < 100 && p > 0).map(([, v]) => v)).filter((v) => v > 0);
  const ymin = Math.floor(Math.log10(Math.min(...ps)));
  const ymax = Math.max(ymin + 1, Math.ceil(Math.log10(Math.max(...ps))));
  const px = (p: number) => x0 + (nines(p) / 4) * (x1 - x0);
  // Values are clamped to the axis (a 0 ms reading from a coarse tool sits on the bottom line).
  const py = (v: number) => top + 30 + h - ((Math.max(ymin, Math.log10(Math.max(v, 1e-9))) - ymin) / (ymax - ymin)) * h;
  const svg = [text(10, top + 14, 'Latency by percentile (ms, log scale)', 'font-weight="bold"')];
  for (const p of [50, 90, 99, 99.9, 99.99]) {
    svg.push(`<path d="M${px(p).toFixed(1)} ${top + 30}V${top + 30 + h}" stroke="#ddd"/>`, text(px(p), top + 48 + h, `p${p}`, 'text-anchor="middle"'));
  }
  for (let e = ymin; e <= ymax; e++) {
    const y = py(10 ** e);
    svg.push(`<path d="M${x0} ${y.toFixed(1)}H${x1}" stroke="#ddd"/>`, text(x0 - 6, y + 4, String(Number((10 ** e).toPrecision(1))), 'text-anchor="end"'));
  }
  withP.forEach((x, i) => {
    const pts = x.percentiles!.filter(([p]) => p < 100).map(([p, v]) => `${px(p).toFixed(1)},${py(v).toFixed(1)}`);
    const dash = x.workers > 1 ? ' stroke-dasharray="5 3"' : '';
    svg.push(`<polyline points="${pts.join(' ')}" fill="none" stroke="${colour(x.target)}" stroke-width="2"${dash}/>`);
    const ly2 = top + 40 + i * 16;
    svg.push(`<path d="M${x1 + 15} ${ly2 - 4}h20" stroke="${colour(x.target)}" stroke-width="2"${dash}/>`);
    svg.push(text(x1 + 40, ly2, `${chartLabel(x.label)} · ${x.workers}w${x.variant ? ' · ' + x.variant : ''}`.slice(0, 50), 'font-size="11"'));
  });
  return { svg, height: Math.max(h + 60, withP.length * 16 + 50) };
}

/** The scenario's chart, written by hand: bars for the headline metric, then latency curves when there are any. */
export function scenarioSvg(r: ScenarioResult): string {
  const rows = r.rows.filter((x) => !x.error && Number.isFinite(x.median));
  const targets = [...new Set(rows.map((x) => x.target))];
  const colour = (t: string) => PALETTE[targets.indexOf(t) % PALETTE.length];
  const b = bars(r, rows, colour, 10);
  const c = curves(rows, colour, 10 + b.height);
  const height = 10 + b.height + c.height + 20;
  const legate = rows.some((x) => x.label.includes(TCP_ONLY)) ? ' · legate (tcp_proxy): byte forwarding without HTTP processing' : '';
  const foot = text(10, height - 8, `${r.date} · ${r.mode} run · ${r.machine.cpuModel}, ${r.machine.cores} cores · Node ${r.machine.node}${legate}`, 'fill="#666"');
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${height}" viewBox="0 0 ${WIDTH} ${height}" font-family="sans-serif" font-size="12">`,
    `<rect width="100%" height="100%" fill="#fff"/>`,
    ...b.svg,
    ...c.svg,
    foot,
    '</svg>',
    '',
  ].join('\n');
}

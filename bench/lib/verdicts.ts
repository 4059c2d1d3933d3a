import { fmt } from './report/format.js';
import type { Row } from './types.js';

const ok = (met: boolean) => (met ? '**met**' : '**not met**');
const usable = (rows: readonly Row[]) => rows.filter((r) => !r.error && Number.isFinite(r.median));

/** "≥ ratio× reference" for each Legate row at 1 pinned worker, per variant (issue 2's per-core throughput target). */
export function ratioVerdicts(rows: readonly Row[], reference: string, ratio: number, what: string): string[] {
  const good = usable(rows);
  const out: string[] = [];
  for (const r of good.filter((x) => x.target.startsWith('legate-') && x.workers === 1)) {
    const ref = good.find((x) => x.target === reference && x.workers === 1 && x.variant === r.variant);
    if (!ref) {
      out.push(`${what}: ${r.label}, ${r.variant}: no ${reference} row to compare with`);
      continue;
    }
    const got = r.median / ref.median;
    out.push(`${what} (≥ ${ratio}× ${ref.label}, 1 worker${r.pinned ? ' pinned' : ''}): ${r.label}, ${r.variant}: ${fmt(got, 2)}× — ${ok(got >= ratio)}`);
  }
  return out;
}

/** "≥ floor" for a target's rows, with the direct row as the ceiling this machine's load side can show. */
export function floorVerdicts(rows: readonly Row[], target: string, floor: number, unit: string, what: string): string[] {
  const good = usable(rows);
  const direct = good.find((x) => x.target === 'direct');
  const out = good
    .filter((x) => x.target === target)
    .map((x) => `${what} (≥ ${fmt(floor, 0)} ${unit}): ${x.label}, ${x.workers} worker(s) ${x.pinned ? 'pinned' : 'unpinned'}: ${fmt(x.median, 0)} ${unit} — ${ok(x.median >= floor)}`);
  if (direct && direct.median < floor) {
    out.push(`Caveat: even direct (no proxy) reached only ${fmt(direct.median, 0)} ${unit} here, so this machine's load side cannot show the target either way.`);
  }
  return out;
}

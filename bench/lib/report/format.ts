import type { Row } from '../types.js';

/** Numbers for tables: thousands separators for big values, a few significant digits for small ones. */
export function fmt(v: number | undefined, digits?: number): string {
  if (v === undefined || Number.isNaN(v)) return '—';
  if (digits !== undefined) return v.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
  const a = Math.abs(v);
  const d = a >= 100 ? 0 : a >= 10 ? 1 : a >= 1 ? 2 : 3;
  return v.toLocaleString('en-US', { minimumFractionDigits: d, maximumFractionDigits: d });
}

export const workersCell = (r: Pick<Row, 'workers' | 'cpus' | 'pinned'>) => `${r.workers}, ${r.pinned ? `pinned cpu ${r.cpus}` : 'unpinned'}`;

/** The row a ratio is taken against: same worker count and variant. */
export const refRow = (rows: readonly Row[], r: Row, ref: string) => rows.find((x) => x.target === ref && x.workers === r.workers && x.variant === r.variant && !x.error);

export function compareCell(rows: readonly Row[], r: Row, ref: string, as: 'ratio' | 'difference'): string {
  const base = refRow(rows, r, ref);
  if (!base || base === r || r.error) return '—';
  if (as === 'difference') {
    const d = r.median - base.median;
    return `${d >= 0 ? '+' : ''}${fmt(d)}`;
  }
  return `${fmt(r.median / base.median, 2)}×`;
}

/** Columns aligned as istioctl's tabwriter does (each cell padded to its column's widest plus one space). */
export function formatTable(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i] + 1))).join('').trimEnd() + '\n';
  return line(header) + rows.map(line).join('');
}

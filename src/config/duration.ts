import { LegateError } from '../errors.js';

const UNIT_MS: Record<string, number> = { h: 3_600_000, m: 60_000, s: 1000, ms: 1, us: 0.001, µs: 0.001, ns: 0.000001 };

/** Parses a protobuf/Go duration ("10s", "1.5s", "1h30m", "250ms") into milliseconds. */
export function parseDuration(text: unknown): number {
  if (typeof text === 'number' && Number.isFinite(text) && text >= 0) return text * 1000;
  if (typeof text !== 'string' || text.length === 0) throw new LegateError('EDURATION', `invalid duration ${JSON.stringify(text)}`);
  const re = /(\d+(?:\.\d+)?)(h|ms|m|s|us|µs|ns)/gy;
  let total = 0;
  let consumed = 0;
  for (let m = re.exec(text); m; m = re.exec(text)) {
    total += Number(m[1]) * UNIT_MS[m[2]];
    consumed = re.lastIndex;
  }
  if (consumed !== text.length || consumed === 0) {
    throw new LegateError('EDURATION', `invalid duration ${JSON.stringify(text)} (expected e.g. "10s", "250ms", "1h")`);
  }
  return total;
}

/**
 * fast-check parameters shared by the property and fuzz tests. In `npm test` they run a fixed
 * seed and a small number of runs (deterministic, a few seconds); `npm run fuzz` sets
 * LEGATE_FUZZ_RUNS (runs per property) and leaves the seed random, or LEGATE_FUZZ_SEED replays
 * a failure that fast-check reported.
 */
import type { Parameters } from 'fast-check';

/** The seed `npm test` uses, so a regression run always tries the same inputs. */
const REGRESSION_SEED = 0x1e6a7e;

export function fuzzParams<T>(regressionRuns: number): Parameters<T> {
  const runs = Number(process.env.LEGATE_FUZZ_RUNS) || 0;
  const seed = process.env.LEGATE_FUZZ_SEED;
  if (seed !== undefined && seed !== '') return { numRuns: runs || regressionRuns, seed: Number(seed) };
  if (runs > 0) return { numRuns: runs };
  return { numRuns: regressionRuns, seed: REGRESSION_SEED };
}

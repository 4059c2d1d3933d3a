import type { MeasureContext, Row, Scenario } from './types.js';

/** What a scenario that measures on its own (no targets, no load generator) says about itself. */
export interface SelfRunSpec {
  name: string;
  title: string;
  describes: string;
  order: number;
  unit: string;
  /** One repetition is one measurement (apply, push) rather than a timed run of durSec. */
  oneShot?: boolean;
  columns?: Scenario['columns'];
  runSelf(ctx: MeasureContext): Promise<Row[]>;
}

/**
 * A scenario outside the per-target loop (micro benchmarks, config apply, xDS push): in every
 * mode, one worker, lower is better, no warm-up, no ratios against peers.
 */
export function selfRunScenario(s: SelfRunSpec): Scenario {
  const { oneShot, ...rest } = s;
  return {
    ...rest,
    higherIsBetter: false,
    modes: ['smoke', 'quick', 'full'],
    upstream: 'http',
    targets: () => [],
    workers: () => [1],
    timing: () => (oneShot ? { warmupSec: 0, durSec: 0 } : { warmupSec: 0 }),
    variants: () => [],
    compareWith: [],
  };
}

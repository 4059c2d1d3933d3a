import type { StatsRegistry, StatsWriter } from '../../stats/store.js';
import type { ClusterHosts, HostRegistry } from '../host_registry.js';
import { OUTLIER_FIELDS, O_CONSECUTIVE_5XX, O_CONSECUTIVE_GATEWAY, O_CONSECUTIVE_LOCAL_ORIGIN, O_EJECTED, SINK_SLOT } from '../host_shared.js';
import { OutlierDetector, type EjectionType, type OutlierStatName } from './detector.js';
import type { OutlierReport } from './monitor.js';
import { defineOutlierStats, type OutlierStatIndex } from './stats.js';
import { performance } from 'node:perf_hooks';

const COUNTER_FIELD: Record<EjectionType, number> = {
  consecutive_5xx: O_CONSECUTIVE_5XX,
  consecutive_gateway_failure: O_CONSECUTIVE_GATEWAY,
  consecutive_local_origin_failure: O_CONSECUTIVE_LOCAL_ORIGIN,
};

interface ClusterDetector {
  detector: OutlierDetector;
  timer: NodeJS.Timeout;
  intervalMs: number;
  slotOf: Map<string, number>;
  keyOf: Map<number, string>;
  stats: OutlierStatIndex;
}

/**
 * Main thread: one OutlierDetector per cluster that has outlier detection, fed by the
 * workers' threshold reports, its verdicts written to the hosts' shared slots (workers read
 * them when they build a host) and announced to workers (`announce`) so that every worker's
 * Host.ejected follows at once. Host-set changes come from the HostRegistry.
 */
export class OutlierManager {
  private readonly detectors = new Map<string, ClusterDetector>();

  constructor(
    private readonly hosts: HostRegistry,
    private readonly stats: { registry: StatsRegistry; writer: StatsWriter },
    private readonly announce: (cluster: string) => void,
    private readonly clock: { now(): number; random(): number } = { now: () => performance.now(), random: Math.random },
  ) {
    hosts.onChange = (name, c) => this.onHostsChanged(name, c);
  }

  /** A worker's report (src/cluster/outlier/monitor.ts). */
  onReport(r: OutlierReport): void {
    const d = this.detectors.get(r.cluster);
    const key = d?.keyOf.get(r.slot);
    if (d && key !== undefined) d.detector.onConsecutiveError(key, r.type);
  }

  isEjected(cluster: string, key: string): boolean {
    return this.detectors.get(cluster)?.detector.isEjected(key) ?? false;
  }

  hasDetector(cluster: string): boolean {
    return this.detectors.has(cluster);
  }

  close(): void {
    for (const d of this.detectors.values()) clearInterval(d.timer);
    this.detectors.clear();
  }

  private onHostsChanged(name: string, c: ClusterHosts | undefined): void {
    const od = c?.config.outlierDetection;
    let d = this.detectors.get(name);
    if (!c || !od) {
      if (d) {
        clearInterval(d.timer);
        this.stats.writer.v[d.stats.ejections_active] = 0;
      }
      this.detectors.delete(name);
      return;
    }
    if (!d) {
      const stats = defineOutlierStats(this.stats.registry, name);
      const entry: ClusterDetector = { detector: undefined!, timer: undefined!, intervalMs: 0, slotOf: new Map(), keyOf: new Map(), stats };
      entry.detector = new OutlierDetector(od, this.hooks(name, entry, stats));
      this.detectors.set(name, (d = entry));
    }
    d.detector.updateConfig(od);
    if (d.intervalMs !== od.intervalMs) {
      clearInterval(d.timer);
      const detector = d.detector;
      d.timer = setInterval(() => detector.onInterval(), od.intervalMs);
      d.timer.unref();
      d.intervalMs = od.intervalMs;
    }
    d.slotOf = new Map([...c.hosts.values()].filter((h) => h.slot !== SINK_SLOT).map((h) => [h.key, h.slot]));
    d.keyOf = new Map([...d.slotOf].map(([k, s]) => [s, k]));
    d.detector.syncHosts(d.slotOf.keys());
  }

  private hooks(cluster: string, d: ClusterDetector, stats: OutlierStatIndex) {
    const shared = this.hosts.slots.outlier;
    const w = this.stats.writer;
    return {
      now: () => this.clock.now(),
      random: () => this.clock.random(),
      setEjected: (key: string, ejected: boolean) => {
        const slot = d.slotOf.get(key);
        if (slot === undefined) return;
        Atomics.store(shared, slot * OUTLIER_FIELDS + O_EJECTED, ejected ? 1 : 0);
        this.announce(cluster);
      },
      resetCounter: (key: string, type: EjectionType) => {
        const slot = d.slotOf.get(key);
        if (slot !== undefined) Atomics.store(shared, slot * OUTLIER_FIELDS + COUNTER_FIELD[type], 0);
      },
      count: (stat: OutlierStatName) => w.inc(stats[stat]),
      // A gauge only this thread writes: its slab holds the whole value.
      activeChanged: (n: number) => (w.v[stats.ejections_active] = n),
    };
  }
}

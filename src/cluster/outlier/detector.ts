import type { OutlierDetection } from '../../config/model.js';

export type EjectionType = 'consecutive_5xx' | 'consecutive_gateway_failure' | 'consecutive_local_origin_failure';

/** Envoy's `cluster.<name>.outlier_detection.*` stats this detector moves. */
export type OutlierStatName =
  | 'ejections_enforced_total'
  | 'ejections_overflow'
  | `ejections_enforced_${EjectionType}`
  | `ejections_detected_${EjectionType}`;

/** What the detector acts on: the shared verdicts and counters, the stats, the clock. */
export interface DetectorHooks {
  /** Monotonic milliseconds. */
  now(): number;
  /** [0, 1): the enforcing percentages are chances (Envoy's runtime featureEnabled). */
  random(): number;
  setEjected(key: string, ejected: boolean): void;
  resetCounter(key: string, type: EjectionType): void;
  count(stat: OutlierStatName): void;
  /** ejections_active changed. */
  activeChanged(active: number): void;
}

interface HostState {
  ejected: boolean;
  ejectedAt: number;
  /** Envoy's ejection time multiplier: grows with each ejection, decays while healthy. */
  multiplier: number;
}

/** Envoy's default max_ejection_time (Istio does not set it), or base_ejection_time if larger. */
export const DEFAULT_MAX_EJECTION_TIME_MS = 300_000;
/** Envoy's default enforcing_consecutive_local_origin_failure (Istio does not set it). */
const ENFORCING_LOCAL_ORIGIN = 100;
/** Envoy's default consecutive_local_origin_failure (Istio sets it only when given). */
export const DEFAULT_CONSECUTIVE_LOCAL_ORIGIN = 5;

/**
 * One cluster's outlier detector, on the main thread, as Envoy's: workers count consecutive
 * errors and report a host that reaches a threshold; this decides whether to eject it
 * (max_ejection_percent, though never refusing the first ejection; the enforcing
 * percentage), for how long (base_ejection_time × times ejected, capped by max_ejection_time),
 * and on every interval returns hosts whose time is up and lets the multiplier of healthy
 * hosts decay by one.
 */
export class OutlierDetector {
  private readonly hosts = new Map<string, HostState>();
  private active = 0;

  constructor(
    private config: OutlierDetection,
    private readonly hooks: DetectorHooks,
  ) {}

  updateConfig(config: OutlierDetection): void {
    this.config = config;
  }

  get ejectionsActive(): number {
    return this.active;
  }

  isEjected(key: string): boolean {
    return this.hosts.get(key)?.ejected ?? false;
  }

  multiplier(key: string): number {
    return this.hosts.get(key)?.multiplier ?? 0;
  }

  /** The cluster's host set: new hosts start healthy; a removed host's verdict goes with it. */
  syncHosts(keys: Iterable<string>): void {
    const next = new Set(keys);
    for (const [key, h] of this.hosts) {
      if (next.has(key)) continue;
      this.hosts.delete(key);
      if (h.ejected) this.setActive(this.active - 1);
    }
    for (const key of next) if (!this.hosts.has(key)) this.hosts.set(key, { ejected: false, ejectedAt: 0, multiplier: 0 });
  }

  /** A worker saw `key` reach the threshold of `type`. */
  onConsecutiveError(key: string, type: EjectionType): void {
    const h = this.hosts.get(key);
    // Reports cross threads: the host may be gone, or already ejected for another reason.
    if (!h || h.ejected) return;
    // Start counting afresh, so a new run of errors is detected even without a success between.
    this.hooks.resetCounter(key, type);
    const maxPercent = Math.min(100, this.config.maxEjectionPercent);
    const allowed = this.active === 0 || (100 * (this.active + 1)) / this.hosts.size <= maxPercent;
    if (!allowed) {
      this.hooks.count('ejections_overflow');
      return;
    }
    this.hooks.count(`ejections_detected_${type}`);
    if (this.hooks.random() * 100 >= this.enforcing(type)) return;
    this.hooks.count(`ejections_enforced_${type}`);
    this.hooks.count('ejections_enforced_total');
    if (this.config.baseEjectionTimeMs * h.multiplier < this.maxEjectionTimeMs()) h.multiplier++;
    h.ejected = true;
    h.ejectedAt = this.hooks.now();
    this.setActive(this.active + 1);
    this.hooks.setEjected(key, true);
  }

  /** The interval timer: un-eject hosts whose time is up; healthy hosts' multipliers decay. */
  onInterval(): void {
    const now = this.hooks.now();
    for (const [key, h] of this.hosts) {
      if (!h.ejected) {
        if (h.multiplier > 0) h.multiplier--;
        continue;
      }
      if (now - h.ejectedAt < this.ejectionTimeMs(h)) continue;
      h.ejected = false;
      this.setActive(this.active - 1);
      for (const t of TYPES) this.hooks.resetCounter(key, t);
      this.hooks.setEjected(key, false);
    }
  }

  /** How long the host's current ejection lasts. */
  ejectionTimeMs(h: { multiplier: number }): number {
    return Math.min(this.config.baseEjectionTimeMs * h.multiplier, this.maxEjectionTimeMs());
  }

  private maxEjectionTimeMs(): number {
    return Math.max(DEFAULT_MAX_EJECTION_TIME_MS, this.config.baseEjectionTimeMs);
  }

  private enforcing(type: EjectionType): number {
    if (type === 'consecutive_5xx') return this.config.enforcingConsecutive5xx;
    if (type === 'consecutive_gateway_failure') return this.config.enforcingConsecutiveGatewayFailure;
    return ENFORCING_LOCAL_ORIGIN;
  }

  private setActive(n: number): void {
    this.active = n;
    this.hooks.activeChanged(n);
  }
}

const TYPES: readonly EjectionType[] = ['consecutive_5xx', 'consecutive_gateway_failure', 'consecutive_local_origin_failure'];

import { HOST_STAT_FIELDS, SINK_SLOT } from './host_shared.js';
import { hostKey } from './host_update.js';
import { performance } from 'node:perf_hooks';

/**
 * Bumped (per worker thread) whenever a host's `ejected` flag flips, so that load balancers
 * notice on their next pick and rebuild their view of the usable hosts.
 */
export const hostHealth = { epoch: 0 };

/**
 * One upstream endpoint as a worker sees it. Objects are stable for as long as the endpoint
 * stays in its cluster's host set (pools, load-balancer state and outlier verdicts hang off
 * them); a snapshot or DNS update that keeps an endpoint keeps its Host.
 */
export class Host {
  /** `ip:port` (`[v6]:port`), as Envoy names hosts in /clusters and stats. */
  readonly key: string;
  /** This worker's requests (HTTP) or connections (TCP) in flight to the host: LEAST_REQUEST reads it. */
  activeRequests = 0;
  private ejectedFlag = false;
  /** The host's shared slot (outlier counters, /clusters stats), assigned by the main thread. */
  slot = SINK_SLOT;
  /** Where the host's stats start in a stats slab (slot × fields), kept to spare the hot path a multiply. */
  statBase = 0;
  /** When the host joined the set (slow start measures from here), performance.now() ms. */
  readonly addedAtMs: number;

  constructor(
    readonly address: string,
    readonly port: number,
    readonly weight = 1,
    readonly locality?: string,
    readonly labels?: Readonly<Record<string, string>>,
    addedAtMs = performance.now(),
  ) {
    this.key = hostKey(this);
    this.addedAtMs = addedAtMs;
  }

  setSlot(slot: number): this {
    this.slot = slot;
    this.statBase = slot * HOST_STAT_FIELDS;
    return this;
  }

  /** Outlier detection's verdict, applied on this worker; an ejected host takes no new traffic. */
  get ejected(): boolean {
    return this.ejectedFlag;
  }
  set ejected(value: boolean) {
    if (value === this.ejectedFlag) return;
    this.ejectedFlag = value;
    hostHealth.epoch++;
  }
}

import { EventEmitter } from 'node:events';
import type { Snapshot } from './model.js';
import { shareWith, type SnapshotDelta } from './snapshot_delta.js';

export interface Rejection {
  at: string;
  /** The version that kept serving. */
  keptVersion: number;
  errors: string[];
}

/** A new snapshot, and (after the first) what changed since the previous one. */
export interface SnapshotUpdate {
  snapshot: Snapshot;
  delta?: SnapshotDelta;
}

/**
 * What every configuration source (files, xDS) does with a candidate snapshot: share the
 * unchanged resources with the snapshot in force, skip no-op changes, remember when each
 * resource last changed, and emit `update` ({snapshot, delta}) or `rejected` (Rejection).
 * The supervisor listens to these and applies updates in order; it cannot tell the sources apart.
 */
export class SnapshotSource extends EventEmitter {
  protected version = 0;
  private readonly introduced = new WeakMap<object, { version: number | string; at: string }>();
  current: Snapshot | undefined;
  lastRejected: Rejection | undefined;
  /** Counts for /config_dump and tests. */
  readonly counts = { applied: 0, rejected: 0, unchanged: 0 };

  /** Shares `next` with the current snapshot and emits it; returns the snapshot in force and whether it changed. */
  protected accept(next: Snapshot): { snapshot: Snapshot; changed: boolean } {
    const { snapshot, delta, changed } = shareWith(this.current, next);
    if (!changed && this.current) {
      this.counts.unchanged++;
      return { snapshot: this.current, changed: false };
    }
    this.version = snapshot.version;
    this.current = snapshot;
    for (const list of [snapshot.listeners, snapshot.routes, snapshot.clusters] as object[][])
      for (const o of list) if (!this.introduced.has(o)) this.introduced.set(o, { version: this.versionOf(o) ?? snapshot.version, at: snapshot.builtAt });
    this.counts.applied++;
    const update: SnapshotUpdate = { snapshot, delta };
    this.emit('update', update);
    return { snapshot, changed: true };
  }

  protected reject(errors: string[]): Rejection {
    this.counts.rejected++;
    this.lastRejected = { at: new Date().toISOString(), keptVersion: this.current?.version ?? 0, errors };
    this.emit('rejected', this.lastRejected);
    return this.lastRejected;
  }

  /** The version a source gives a resource object (xDS: its version_info); default: the snapshot's. */
  protected versionOf(_resource: object): number | string | undefined {
    return undefined;
  }

  /** The version and time at which this resource object (unchanged since) was introduced. */
  resourceInfo(resource: object): { version: number | string; at: string } | undefined {
    return this.introduced.get(resource);
  }
}

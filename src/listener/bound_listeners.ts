import type { Server } from 'node:net';
import type { Listener, Snapshot } from '../config/model.js';
import { logger } from '../log.js';
import type { WorkerPool } from '../main/worker_pool.js';
import { listenHandoff } from './handoff.js';
import type { NativeSockets } from './native/index.js';

const log = logger('listener');

interface Bound {
  server: Server;
  key: string;
}

/**
 * The listening sockets of the `bindToPort` listeners, kept in step with the snapshot in force
 * (main thread, hand-off accept mode). A listener a change adds is bound before the snapshot
 * is published, so it accepts at once; a removed one keeps accepting for drainDuration —
 * workers serve its connections with the last snapshot that had it — and is then closed.
 */
export class BoundListeners {
  private readonly bound = new Map<string, Bound>();
  private readonly retiring = new Set<Server>();
  /** Listeners that could not be bound, with why (shown in /config_dump). */
  readonly errors = new Map<string, string>();
  /** Listeners an admin drain stopped: later snapshots do not bind them again. */
  private readonly stopped = new Set<string>();

  constructor(
    private readonly native: NativeSockets,
    private readonly pool: WorkerPool,
    private readonly opts: { transparent: boolean; backlog: number; onLost: () => void },
  ) {}

  async sync(snapshot: Snapshot): Promise<void> {
    const drainMs = snapshot.mesh.drainDurationMs;
    const wanted = snapshot.listeners.filter((l) => l.bindToPort && !this.stopped.has(l.name));
    const names = new Set(wanted.map((l) => l.name));
    for (const [name, b] of this.bound) if (!names.has(name)) this.retire(name, b, drainMs);
    for (const l of wanted) {
      const key = `${l.address.address}:${l.address.port}`;
      const cur = this.bound.get(l.name);
      if (cur?.key === key) continue;
      // Same name, new address: the old socket closes first so that the port can be reused.
      if (cur) this.retire(l.name, cur, 0);
      await this.bind(l, key);
    }
  }

  private async bind(l: Listener, key: string): Promise<void> {
    try {
      const server = await listenHandoff(l, this.native, this.pool, this.opts);
      this.bound.set(l.name, { server, key });
      this.errors.delete(l.name);
      log.info(`listening on ${l.address.address}:${l.address.port} (${l.name})`);
    } catch (err) {
      const msg = (err as Error).message;
      this.errors.set(l.name, msg);
      log.error(`listener ${l.name} on ${key} could not be bound: ${msg}`);
    }
  }

  private retire(name: string, b: Bound, drainMs: number): void {
    this.bound.delete(name);
    this.retiring.add(b.server);
    log.info(`listener ${name} removed: closing after ${drainMs} ms of drain`);
    const close = () => {
      this.retiring.delete(b.server);
      b.server.close();
    };
    if (drainMs <= 0) close();
    else setTimeout(close, drainMs).unref();
  }

  names(): string[] {
    return [...this.bound.keys()];
  }

  /** Stop accepting on these listeners for good (/drain_listeners); open connections are not touched. */
  stop(names: readonly string[]): void {
    for (const name of names) {
      this.stopped.add(name);
      const b = this.bound.get(name);
      if (b) this.retire(name, b, 0);
    }
  }

  /** Stop accepting everywhere (shutdown). */
  closeAll(): void {
    for (const b of this.bound.values()) b.server.close();
    for (const s of this.retiring) s.close();
    this.bound.clear();
    this.retiring.clear();
  }
}

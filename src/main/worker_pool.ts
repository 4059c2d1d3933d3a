import { BroadcastChannel } from 'node:worker_threads';
import { Piscina } from 'piscina';
import { statsForDelta, type WorkerMessage, type WorkerSnapshot } from '../config/snapshot.js';
import type { SnapshotDelta } from '../config/snapshot_delta.js';
import { logger } from '../log.js';
import type { NativeSockets } from '../listener/native/index.js';
import type { StatsRegistry } from '../stats/store.js';
import {
  ACK_CHANNEL,
  CONFIG_CHANNEL,
  HELLO_CHANNEL,
  HANDOFF_FREE,
  HANDOFF_RECLAIMED,
  type AcceptMode,
  type ConfigAck,
  type HandoffTask,
  type WorkerInit,
} from './protocol.js';

const log = logger('workers');
const HANDOFF_SLOTS = 1 << 16;

/**
 * The workers (a piscina pool of fixed size), how connections and snapshots reach them, and
 * what happens when one dies: piscina starts a replacement, connections whose hand-off had
 * not been claimed are re-sent to another worker, and the dead worker's gauges are zeroed.
 */
export class WorkerPool {
  private readonly pool: Piscina;
  private readonly config = new BroadcastChannel(CONFIG_CHANNEL);
  private readonly hello = new BroadcastChannel(HELLO_CHANNEL);
  private readonly acks = new BroadcastChannel(ACK_CHANNEL);
  /** The version each live worker serves, by thread id. */
  private readonly applied = new Map<number, number>();
  private waiters: { version: number; resolve: () => void }[] = [];
  /** How long each worker took to apply its last snapshot or delta (ms). */
  readonly lastApplyMs = new Map<number, number>();
  private readonly slots: Int32Array;
  private readonly freeSlots: number[] = [];
  private current: WorkerSnapshot | undefined;
  private closing = false;

  constructor(
    readonly size: number,
    private readonly registry: StatsRegistry,
    private readonly native: NativeSockets | null,
    opts: { acceptMode: AcceptMode; transparent: boolean; onRestart: () => void },
  ) {
    const handoffSlots = new SharedArrayBuffer(HANDOFF_SLOTS * 4);
    this.slots = new Int32Array(handoffSlots);
    for (let i = HANDOFF_SLOTS - 1; i >= 0; i--) this.freeSlots.push(i);
    const workerData: WorkerInit = { stats: registry.shared, handoffSlots, acceptMode: opts.acceptMode, transparent: opts.transparent };
    this.pool = new Piscina({
      filename: new URL('./worker.js', import.meta.url).href,
      minThreads: size,
      maxThreads: size,
      idleTimeout: Infinity,
      // 'sync' would park idle workers in Atomics.wait and freeze the connections they own.
      atomics: 'async',
      concurrentTasksPerWorker: 64,
      maxQueue: 'auto',
      workerData,
    });
    this.pool.on('workerDestroy', (w: { threadId: number }) => {
      registry.releaseSlab(w.threadId);
      this.applied.delete(w.threadId);
      if (this.closing) return;
      log.error(`worker thread ${w.threadId} died; starting a replacement (the other workers keep serving)`);
      opts.onRestart();
    });
    this.pool.on('error', (err: Error) => log.error(`worker error: ${err.message}`));
    this.hello.onmessage = () => {
      if (this.current) this.config.postMessage({ kind: 'full', ...this.current } satisfies WorkerMessage);
    };
    this.acks.onmessage = (event) => {
      const ack = (event as { data: ConfigAck }).data;
      this.applied.set(ack.threadId, Math.max(ack.version, this.applied.get(ack.threadId) ?? 0));
      if (ack.applyMs !== undefined) this.lastApplyMs.set(ack.threadId, ack.applyMs);
      this.settleWaiters();
    };
  }

  /**
   * One message per change, to every worker: the delta from the previous snapshot when there
   * is one (a worker that missed a version asks for the whole snapshot), else the snapshot.
   */
  publish(ws: WorkerSnapshot, delta?: SnapshotDelta): void {
    const base = this.current?.snapshot.version;
    this.current = ws;
    const msg: WorkerMessage = delta && delta.baseVersion === base ? { kind: 'delta', delta, stats: statsForDelta(ws.stats, delta) } : { kind: 'full', ...ws };
    this.config.postMessage(msg);
  }

  /** Versions served by the live workers (thread id → version). */
  appliedVersions(): ReadonlyMap<number, number> {
    return this.applied;
  }

  /** Resolves once every worker serves `version` or later. */
  whenApplied(version: number): Promise<void> {
    return new Promise((resolve) => {
      this.waiters.push({ version, resolve });
      this.settleWaiters();
    });
  }

  private settleWaiters(): void {
    if (this.waiters.length === 0) return;
    const live = this.pool.threads.length;
    const versions = [...this.applied.values()];
    const min = versions.length >= Math.max(live, this.size) ? Math.min(...versions) : 0;
    this.waiters = this.waiters.filter((w) => {
      if (min < w.version) return true;
      w.resolve();
      return false;
    });
  }

  /** Hands an accepted, duplicated fd to a worker; the fd is closed here only if no worker took it. */
  dispatch(fd: number, listener: string, dst: HandoffTask['dst'], onLost: () => void): void {
    const slot = this.freeSlots.pop();
    if (slot === undefined) {
      this.native?.close(fd);
      onLost();
      return;
    }
    Atomics.store(this.slots, slot, HANDOFF_FREE);
    const task: HandoffTask = { fd, slot, listener, dst };
    this.send(task, 2, onLost);
  }

  private send(task: HandoffTask, triesLeft: number, onLost: () => void): void {
    this.pool.run(task).then(
      () => this.freeSlots.push(task.slot),
      () => {
        // The worker died before or while taking the task. Re-send while nobody owns the fd.
        if (Atomics.load(this.slots, task.slot) === HANDOFF_FREE && triesLeft > 0 && !this.closing) {
          this.send(task, triesLeft - 1, onLost);
          return;
        }
        if (Atomics.compareExchange(this.slots, task.slot, HANDOFF_FREE, HANDOFF_RECLAIMED) === HANDOFF_FREE) {
          this.native?.close(task.fd);
          onLost();
        }
        this.freeSlots.push(task.slot);
      },
    );
  }

  get threads(): number {
    return this.pool.threads.length;
  }

  async close(): Promise<void> {
    this.closing = true;
    this.config.close();
    this.hello.close();
    this.acks.close();
    await this.pool.destroy();
  }
}

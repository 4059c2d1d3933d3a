import { BroadcastChannel } from 'node:worker_threads';
import { Piscina } from 'piscina';
import type { WorkerSnapshot } from '../config/snapshot.js';
import type { HostEntry, HostUpdate, HostUpdateMessage, HostUpdateSink } from '../cluster/host_update.js';
import { logger } from '../log.js';
import type { NativeSockets } from '../listener/native/index.js';
import type { StatsRegistry } from '../stats/store.js';
import { channelName, HANDOFF_FREE, HANDOFF_RECLAIMED, type AcceptMode, type HandoffTask, type WorkerInit } from './protocol.js';

const log = logger('workers');
const HANDOFF_SLOTS = 1 << 16;
let poolCount = 0;

/**
 * The workers (a piscina pool of fixed size), how connections and snapshots reach them, and
 * what happens when one dies: piscina starts a replacement, connections whose hand-off had
 * not been claimed are re-sent to another worker, and the dead worker's gauges are zeroed.
 */
export class WorkerPool implements HostUpdateSink {
  private readonly pool: Piscina;
  private readonly config: BroadcastChannel;
  private readonly hello: BroadcastChannel;
  private readonly listening: BroadcastChannel;
  private readonly stopListening: BroadcastChannel;
  /** reuseport: threads that have reported their capture listeners bound. */
  private readonly listeningThreads = new Set<number>();
  private listeningWaiters: (() => void)[] = [];
  private readonly slots: Int32Array;
  private readonly freeSlots: number[] = [];
  private current: WorkerSnapshot | undefined;
  private readonly hostSets = new Map<string, HostUpdate>();
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
    const poolId = `${process.pid}.${++poolCount}`;
    this.config = new BroadcastChannel(channelName(poolId, 'config'));
    this.hello = new BroadcastChannel(channelName(poolId, 'hello'));
    this.listening = new BroadcastChannel(channelName(poolId, 'listening'));
    this.stopListening = new BroadcastChannel(channelName(poolId, 'stop-listening'));
    const workerData: WorkerInit = { poolId, stats: registry.shared, handoffSlots, acceptMode: opts.acceptMode, transparent: opts.transparent };
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
    // piscina's worker events carry no stable identity, so watch each Worker's own 'exit'.
    const watched = new WeakSet<object>();
    this.pool.on('workerCreate', () => {
      for (const worker of this.pool.threads) {
        if (watched.has(worker)) continue;
        watched.add(worker);
        const threadId = worker.threadId;
        worker.once('exit', () => {
          registry.releaseSlab(threadId);
          if (this.closing) return;
          log.error(`worker thread ${threadId} died; starting a replacement (the other workers keep serving)`);
          opts.onRestart();
        });
      }
    });
    this.pool.on('error', (err: Error) => log.error(`worker error: ${err.message}`));
    this.hello.onmessage = () => {
      if (this.current) this.config.postMessage(this.withHosts(this.current));
    };
    this.listening.onmessage = (event) => {
      this.listeningThreads.add((event as { data: { threadId: number } }).data.threadId);
      if (this.listeningThreads.size >= this.size) for (const resolve of this.listeningWaiters.splice(0)) resolve();
    };
  }

  /** reuseport: resolves once every worker has bound its capture listeners (readiness waits for this). */
  whenListening(): Promise<void> {
    if (this.listeningThreads.size >= this.size) return Promise.resolve();
    return new Promise((resolve) => this.listeningWaiters.push(resolve));
  }

  /** reuseport drain: every worker closes its capture listeners (hand-off closes the main thread's own). */
  stopAccepting(): void {
    this.stopListening.postMessage('stop');
  }

  /** One message per change, to every worker. */
  publish(ws: WorkerSnapshot): void {
    this.current = ws;
    this.config.postMessage(this.withHosts(ws));
  }

  /**
   * A snapshot with the DNS clusters' current full host sets, so that a worker that starts
   * late has them before it serves the connections that waited for its first snapshot.
   */
  private withHosts(ws: WorkerSnapshot): WorkerSnapshot {
    return this.hostSets.size === 0 ? ws : { ...ws, hosts: [...this.hostSets.values()] };
  }

  /** A DNS cluster's host-set change (a diff, or the first full set); the full set is kept for late workers. */
  publishHosts(update: HostUpdate, full: readonly HostEntry[]): void {
    this.hostSets.set(update.cluster, { cluster: update.cluster, key: update.key, seq: update.seq, full: [...full] });
    this.config.postMessage({ hostUpdate: update } satisfies HostUpdateMessage);
  }

  forgetHosts(cluster: string): void {
    this.hostSets.delete(cluster);
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

  /** The live worker threads (for /server_info and fault tests that kill one). */
  get threads(): readonly import('node:worker_threads').Worker[] {
    return this.pool.threads;
  }

  async close(): Promise<void> {
    this.closing = true;
    this.config.close();
    this.hello.close();
    this.listening.close();
    this.stopListening.close();
    await this.pool.destroy();
  }
}

import { BroadcastChannel } from 'node:worker_threads';
import { Piscina } from 'piscina';
import { roundRobinBalancer } from './round_robin_balancer.js';
import type { HostEntry, HostUpdate, HostUpdateMessage, HostUpdateSink } from '../cluster/host_update.js';
import { statsForDelta, type WorkerMessage, type WorkerSnapshot } from '../config/snapshot.js';
import type { SnapshotDelta } from '../config/snapshot_delta.js';
import { logger } from '../log.js';
import type { NativeSockets } from '../listener/native/index.js';
import type { StatsRegistry } from '../stats/store.js';
import { createConnectionLimitShared } from '../listener/connection_limit.js';
import { createHostShared, HostSlots, type HostShared } from '../cluster/host_shared.js';
import type { OutlierReport } from '../cluster/outlier/monitor.js';
import type { CircuitBreakerRegistry } from '../cluster/circuit_breaker_registry.js';
import { channelName, HANDOFF_FREE, HANDOFF_RECLAIMED, type AcceptMode, type ConfigAck, type DrainRequest, type HandoffTask, type MemoryMessage, type OutlierUpdateMessage, type StopListening, type WorkerInit } from './protocol.js';
import type { HeapFigures } from '../admin/memory.js';

const log = logger('workers');
const HANDOFF_SLOTS = 1 << 16;
/** Upstream hosts (cluster, host pairs) with outlier detection and /clusters stats. */
const DEFAULT_HOST_SLOTS = 4096;
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
  private readonly acks: BroadcastChannel;
  private readonly listening: BroadcastChannel;
  private readonly stopListening: BroadcastChannel;
  private readonly outlier: BroadcastChannel;
  /** Per-host shared state (one stats slab per stats registry slab). */
  readonly hostShared: HostShared;
  /** The main thread's window on it (its own slab is the registry's last). */
  readonly hostSlots: HostSlots;
  /** Workers' outlier-detection reports (the main-thread detector listens). */
  onOutlierReport: ((r: OutlierReport) => void) | undefined;
  private readonly drain: BroadcastChannel;
  private readonly memory: BroadcastChannel;
  private memoryQuestions = 0;
  /** The version each live worker serves, by thread id. */
  private readonly applied = new Map<number, number>();
  private waiters: { version: number; resolve: () => void }[] = [];
  /** How long each worker took to apply its last snapshot or delta (ms). */
  readonly lastApplyMs = new Map<number, number>();
  /** reuseport: threads that have reported their capture listeners bound. */
  private readonly listeningThreads = new Set<number>();
  private listeningWaiters: (() => void)[] = [];
  private readonly slots: Int32Array;
  private readonly freeSlots: number[] = [];
  private current: WorkerSnapshot | undefined;
  private readonly hostSets = new Map<string, HostUpdate>();
  private closing = false;
  /** Names this pool's BroadcastChannels (several pools live in one process in tests). */
  readonly id: string;

  constructor(
    readonly size: number,
    private readonly registry: StatsRegistry,
    private readonly native: NativeSockets | null,
    opts: { acceptMode: AcceptMode; transparent: boolean; locality?: string; certDir?: string; credentialDir?: string; busyPoll?: boolean; onRestart: () => void; hostSlots?: number; breakers?: CircuitBreakerRegistry; maxConnections?: number },
  ) {
    this.hostShared = createHostShared(opts.hostSlots ?? DEFAULT_HOST_SLOTS, registry.shared.slabs);
    this.hostSlots = new HostSlots(this.hostShared, registry.shared.slabs - 1);
    const handoffSlots = new SharedArrayBuffer(HANDOFF_SLOTS * 4);
    this.slots = new Int32Array(handoffSlots);
    for (let i = HANDOFF_SLOTS - 1; i >= 0; i--) this.freeSlots.push(i);
    const poolId = (this.id = `${process.pid}.${++poolCount}`);
    this.config = new BroadcastChannel(channelName(poolId, 'config'));
    this.hello = new BroadcastChannel(channelName(poolId, 'hello'));
    this.acks = new BroadcastChannel(channelName(poolId, 'ack'));
    this.listening = new BroadcastChannel(channelName(poolId, 'listening'));
    this.stopListening = new BroadcastChannel(channelName(poolId, 'stop-listening'));
    this.outlier = new BroadcastChannel(channelName(poolId, 'outlier'));
    this.outlier.onmessage = (event) => this.onOutlierReport?.((event as { data: OutlierReport }).data);
    const workerData: WorkerInit = {
      poolId,
      stats: registry.shared,
      hostShared: this.hostShared,
      handoffSlots,
      connectionLimit: createConnectionLimitShared(opts.maxConnections ?? 0),
      acceptMode: opts.acceptMode,
      transparent: opts.transparent,
      locality: opts.locality ?? '',
      certDir: opts.certDir,
      credentialDir: opts.credentialDir,
      busyPoll: opts.busyPoll,
      breakers: opts.breakers?.shared,
    };
    this.drain = new BroadcastChannel(channelName(poolId, 'drain'));
    this.memory = new BroadcastChannel(channelName(poolId, 'memory'));
    this.pool = new Piscina({
      filename: new URL('./worker.js', import.meta.url).href,
      minThreads: size,
      maxThreads: size,
      idleTimeout: Infinity,
      // 'sync' would park idle workers in Atomics.wait and freeze the connections they own.
      atomics: 'async',
      concurrentTasksPerWorker: 64,
      loadBalancer: roundRobinBalancer(64),
      // A burst of connections must wait for a busy worker, never be refused: the hand-off
      // slots already bound how many can be in flight ('auto' allowed only threads², and a
      // burst of ~130 connections on 2 workers lost some).
      maxQueue: HANDOFF_SLOTS,
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
          for (const slab of registry.releaseSlab(threadId)) this.hostSlots.zeroGauges(slab);
          opts.breakers?.releaseWorker(threadId);
          this.applied.delete(threadId);
          this.lastApplyMs.delete(threadId);
          if (this.closing) return;
          log.error(`worker thread ${threadId} died; starting a replacement (the other workers keep serving)`);
          opts.onRestart();
        });
      }
    });
    this.pool.on('error', (err: Error) => log.error(`worker error: ${err.message}`));
    this.hello.onmessage = () => {
      if (this.current) this.config.postMessage(this.full(this.current));
    };
    this.acks.onmessage = (event) => {
      const ack = (event as { data: ConfigAck }).data;
      this.applied.set(ack.threadId, Math.max(ack.version, this.applied.get(ack.threadId) ?? 0));
      if (ack.applyMs !== undefined) this.lastApplyMs.set(ack.threadId, ack.applyMs);
      this.settleWaiters();
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

  /** reuseport drain: every worker closes its capture listeners, or just `listeners` (hand-off closes the main thread's own). */
  stopAccepting(listeners?: string[]): void {
    this.stopListening.postMessage({ listeners } satisfies StopListening);
  }

  /** Every worker starts an HTTP drain of these listeners (`connection: close`, idle connections closed). */
  drainHttp(listeners: string[]): void {
    this.drain.postMessage({ listeners } satisfies DrainRequest);
  }

  /** Each live worker's heap figures; a worker that does not answer within `timeoutMs` is left out. */
  heaps(timeoutMs = 500): Promise<HeapFigures[]> {
    const ask = ++this.memoryQuestions;
    const answers = new Map<number, HeapFigures>();
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.memory.removeEventListener('message', onAnswer);
        resolve([...answers.values()]);
      };
      const onAnswer = (event: Event) => {
        const msg = (event as MessageEvent<MemoryMessage>).data;
        if (!('answer' in msg) || msg.answer !== ask) return;
        answers.set(msg.threadId, msg.heap);
        if (answers.size >= this.pool.threads.length) done();
      };
      const timer = setTimeout(done, timeoutMs);
      this.memory.addEventListener('message', onAnswer);
      this.memory.postMessage({ ask } satisfies MemoryMessage);
    });
  }

  /**
   * One message per change, to every worker: the delta from the previous snapshot when there
   * is one (a worker that missed a version asks for the whole snapshot), else the snapshot.
   */
  publish(ws: WorkerSnapshot, delta?: SnapshotDelta): void {
    const base = this.current?.snapshot.version;
    this.current = ws;
    const msg: WorkerMessage = delta && delta.baseVersion === base ? { kind: 'delta', delta, stats: statsForDelta(ws.stats, delta) } : this.full(ws);
    this.config.postMessage(msg);
  }

  /**
   * The whole snapshot, with the DNS clusters' current full host sets, so that a worker that
   * starts late has them before it serves the connections that waited for its first snapshot.
   * (Workers that follow every delta already have them: host changes travel as diffs.)
   */
  private full(ws: WorkerSnapshot): WorkerMessage {
    return this.hostSets.size === 0 ? { kind: 'full', ...ws } : { kind: 'full', ...ws, hosts: [...this.hostSets.values()] };
  }

  /** A DNS cluster's host-set change (a diff, or the first full set); the full set is kept for late workers. */
  publishHosts(update: HostUpdate, full: readonly HostEntry[]): void {
    this.hostSets.set(update.cluster, { cluster: update.cluster, key: update.key, seq: update.seq, full: [...full] });
    this.config.postMessage({ hostUpdate: update } satisfies HostUpdateMessage);
  }

  /** Outlier verdicts for `cluster` changed: workers re-read the hosts' ejected flags. */
  announceEjections(cluster: string): void {
    this.config.postMessage({ outlierUpdate: cluster } satisfies OutlierUpdateMessage);
  }

  forgetHosts(cluster: string): void {
    this.hostSets.delete(cluster);
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

  /** The live worker threads (for /server_info and fault tests that kill one). */
  get threads(): readonly import('node:worker_threads').Worker[] {
    return this.pool.threads;
  }

  async close(): Promise<void> {
    this.closing = true;
    this.config.close();
    this.hello.close();
    this.acks.close();
    this.listening.close();
    this.stopListening.close();
    this.outlier.close();
    this.drain.close();
    this.memory.close();
    await this.pool.destroy();
  }
}

import { HTTP_CONNECTION_MANAGER, type Listener, type Snapshot } from '../../../../config/model.js';
import type { WorkerState } from '../../../../listener/connection.js';
import type { Destination } from '../../../../listener/listener_table.js';
import { logger } from '../../../../log.js';
import { httpContext } from '../factory.js';
import type { HttpContext } from '../http_context.js';
import { uwsCanServe } from './eligible.js';
import type { UwsApp, UwsHttpRequest, UwsHttpResponse, UwsListenSocket, UwsModule } from './uws_api.js';
import { UwsDownstream } from './uws_downstream.js';

const log = logger('uws');

interface UwsListener {
  name: string;
  /** `address:port`: a change of either opens a new socket. */
  key: string;
  app: UwsApp;
  socket: UwsListenSocket | false;
  dst: Destination;
  /** The context requests are served with, and the worker state it was built from. */
  seen: WorkerState | undefined;
  ctx: HttpContext | undefined;
}

/**
 * A worker's uWS Apps, one per plain HTTP listener, kept in step with the snapshot. uWS binds
 * with SO_REUSEPORT, so every worker listens on the same ports and the kernel spreads the
 * connections (as `--accept-mode reuseport`). A removed listener stops accepting at once; its
 * open connections are served with the last configuration that had it for drainDuration, then
 * closed. Every socket must be closed before the thread ends: a worker exiting with an open
 * uWS socket aborts the whole process (uv_loop_close with open handles).
 */
export class UwsListeners {
  private readonly live = new Map<string, UwsListener>();
  private readonly retired = new Set<UwsApp>();
  /** Listeners a drain stopped: a later snapshot does not bind them again. */
  private readonly stopped = new Set<string>();
  private closed = false;

  constructor(
    private readonly uws: UwsModule,
    private readonly current: () => WorkerState | undefined,
  ) {}

  /** The listeners this front end serves (the others are left to the node engine). */
  static serves(l: Listener): boolean {
    return uwsCanServe(l);
  }

  sync(snapshot: Snapshot): void {
    if (this.closed) return;
    const wanted = new Map<string, Listener>();
    for (const l of snapshot.listeners) if (uwsCanServe(l) && !this.stopped.has(l.name)) wanted.set(l.name, l);
    for (const [name, entry] of this.live) {
      const l = wanted.get(name);
      if (!l || `${l.address.address}:${l.address.port}` !== entry.key) this.retire(entry, l ? 0 : snapshot.mesh.drainDurationMs);
    }
    for (const l of wanted.values()) if (!this.live.has(l.name)) this.open(l);
  }

  private open(l: Listener): void {
    const { address, port } = l.address;
    const entry: UwsListener = { name: l.name, key: `${address}:${port}`, app: this.uws.App(), socket: false, dst: { address, port }, seen: undefined, ctx: undefined };
    const localAddress = `${address}:${port}`;
    entry.app.any('/*', (res: UwsHttpResponse, req: UwsHttpRequest) => {
      const ctx = this.contextFor(entry);
      if (!ctx) return void res.close();
      new UwsDownstream(res, req, ctx, localAddress).start();
    });
    // uWS listens synchronously: the socket (or false) is known when listen() returns.
    entry.app.listen(address, port, (socket) => (entry.socket = socket));
    if (!entry.socket) {
      log.error(`listener ${l.name} on ${entry.key} could not be bound by the uws front end`);
      entry.app.close();
      return;
    }
    this.live.set(l.name, entry);
  }

  /** Requests follow the newest configuration; a listener the newest one lacks keeps its last. */
  private contextFor(entry: UwsListener): HttpContext | undefined {
    const state = this.current();
    if (state && state !== entry.seen) {
      entry.seen = state;
      const filter = state.listeners.select(entry.name, entry.dst)?.chain.filters[0];
      if (filter?.name === HTTP_CONNECTION_MANAGER) entry.ctx = httpContext(filter, { worker: state, listenerName: entry.name, originalDst: entry.dst });
    }
    return entry.ctx;
  }

  private retire(entry: UwsListener, drainMs: number): void {
    this.live.delete(entry.name);
    if (entry.socket) this.uws.us_listen_socket_close(entry.socket);
    entry.socket = false;
    this.retired.add(entry.app);
    const closeApp = () => {
      if (this.retired.delete(entry.app)) entry.app.close();
    };
    if (drainMs <= 0) closeApp();
    else setTimeout(closeApp, drainMs).unref();
  }

  /** Stop accepting on these listeners for good (drain); all of them, and every connection, when `names` is absent (shutdown). */
  stop(names?: readonly string[]): void {
    if (!names) return this.closeAll();
    for (const name of names) {
      this.stopped.add(name);
      const entry = this.live.get(name);
      if (entry) {
        this.live.delete(name);
        if (entry.socket) this.uws.us_listen_socket_close(entry.socket);
        entry.socket = false;
        // Open connections stay until shutdown, as on the node engine's drained listeners.
        this.retired.add(entry.app);
      }
    }
  }

  /** Closes every listen socket and connection; the worker may then exit. */
  closeAll(): void {
    this.closed = true;
    for (const entry of this.live.values()) entry.app.close();
    for (const app of this.retired) app.close();
    this.live.clear();
    this.retired.clear();
  }
}

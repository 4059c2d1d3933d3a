import { EventEmitter } from 'node:events';
import * as grpc from '@grpc/grpc-js';
import { adsService } from './protos.js';
import { TYPE, TYPE_KEYS, keyOf, type TypeKey } from './type_urls.js';
import type { Json } from './convert/values.js';
import { logger } from '../log.js';

const log = logger('xds');

/** One response for one type, as the handler sees it (both protocols). */
export interface TypeUpdate {
  type: TypeKey;
  version: string;
  /** SotW: the whole set for wildcard types (CDS, LDS, NDS), the sent subset for named ones (EDS, RDS). Delta: what changed. */
  resources: { name?: string; version?: string; resource: Json }[];
  /** Delta: names removed. SotW: undefined. */
  removed?: string[];
  protocol: 'sotw' | 'delta';
}

export interface AdsHandler {
  /** Applies an update; returns why it was rejected (NACK with this as error_detail), or undefined (ACK). */
  apply(update: TypeUpdate): string | undefined;
  /** Names to subscribe to for a named type (EDS, RDS); undefined for wildcard types. */
  names(type: TypeKey): string[] | undefined;
  /** Delta reconnect: the versions of the resources the proxy has. */
  knownVersions(type: TypeKey): Record<string, string>;
}

export interface AdsClientOptions {
  delta: boolean;
  node: Json;
  /** Types to subscribe (NDS only when the DNS proxy wants it). */
  types: readonly TypeKey[];
  backoffBaseMs?: number;
  backoffMaxMs?: number;
}

interface TypeState {
  /** SotW: last accepted version_info (sent back on ACK, NACK and reconnect). */
  version: string;
  nonce: string;
  /** Named types: what the server was last asked for. */
  subscribed: Set<string>;
  /** Whether this stream has asked for the type yet. */
  requested: boolean;
}

/**
 * One ADS stream to the management server: State-of-the-World (StreamAggregatedResources) or
 * Delta (DeltaAggregatedResources). Every response is handed to the handler and answered with
 * an ACK (new version and nonce) or a NACK (previous version, the nonce, error_detail). A lost
 * stream is retried with jittered exponential backoff (Envoy's 500 ms base, 30 s cap) while the
 * handler keeps the configuration it has. Emits `connected` (boolean) on stream state changes.
 */
export class AdsClient extends EventEmitter {
  private readonly client: grpc.Client;
  private call: grpc.ClientDuplexStream<Json, Json> | undefined;
  private state = new Map<TypeKey, TypeState>();
  private attempt = 0;
  private retryTimer: NodeJS.Timeout | undefined;
  private closed = false;
  private nodeSent = false;
  connected = false;

  constructor(
    readonly target: string,
    private readonly opts: AdsClientOptions,
    private readonly handler: AdsHandler,
  ) {
    super();
    this.client = new grpc.Client(target, grpc.credentials.createInsecure(), {
      'grpc.keepalive_time_ms': 30_000,
      'grpc.keepalive_timeout_ms': 10_000,
      'grpc.max_receive_message_length': 256 * 1024 * 1024,
    });
    for (const t of TYPE_KEYS) this.state.set(t, { version: '', nonce: '', subscribed: new Set(), requested: false });
  }

  start(): void {
    this.open();
  }

  private open(): void {
    if (this.closed) return;
    const svc = adsService();
    const m = this.opts.delta ? svc.DeltaAggregatedResources : svc.StreamAggregatedResources;
    const call = this.client.makeBidiStreamRequest(m.path, m.requestSerialize, m.responseDeserialize);
    this.call = call;
    this.nodeSent = false;
    for (const s of this.state.values()) {
      s.requested = false;
      s.nonce = '';
      s.subscribed = new Set();
    }
    call.on('metadata', () => this.setConnected(true));
    call.on('data', (msg: Json) => {
      if (call !== this.call) return;
      this.attempt = 0;
      this.setConnected(true);
      this.onResponse(msg);
    });
    const lost = (why: string) => {
      if (call !== this.call) return;
      this.call = undefined;
      this.setConnected(false);
      this.scheduleReconnect(why);
    };
    call.on('error', (err: grpc.ServiceError) => lost(`${err.code}: ${err.details || err.message}`));
    call.on('end', () => lost('stream ended by the server'));
    // The node goes on the first request only (Istio's bootstrap sets set_node_on_first_message_only).
    for (const t of this.opts.types) {
      if (this.handler.names(t)?.length === 0) continue; // asked once there are names (an empty list would mean "all")
      this.request(t);
    }
  }

  private setConnected(c: boolean): void {
    if (this.connected === c) return;
    this.connected = c;
    this.emit('connected', c);
  }

  private scheduleReconnect(why: string): void {
    if (this.closed) return;
    const base = this.opts.backoffBaseMs ?? 500;
    const max = this.opts.backoffMaxMs ?? 30_000;
    // Full jitter over an exponentially growing window, as Envoy's JitteredExponentialBackOffStrategy.
    const delay = Math.floor(Math.random() * Math.min(max, base * 2 ** this.attempt++)) + 1;
    log.warn(`ADS stream to ${this.target} lost (${why}); retrying in ${delay} ms, keeping the current configuration`);
    clearTimeout(this.retryTimer);
    this.retryTimer = setTimeout(() => this.open(), delay);
    this.retryTimer.unref();
  }

  /** The named types' subscriptions follow the configuration (EDS from clusters, RDS from listeners). */
  updateSubscriptions(): void {
    for (const t of this.opts.types) {
      const s = this.state.get(t)!;
      const names = this.handler.names(t);
      if (!names || (!s.requested && names.length === 0)) continue;
      if (!this.opts.delta && names.length === 0) continue; // SotW: an empty list would mean "all"; stale entries are harmless
      const next = new Set(names);
      if (!s.requested) {
        this.request(t);
        continue;
      }
      if (next.size === s.subscribed.size && [...next].every((n) => s.subscribed.has(n))) continue;
      this.request(t);
    }
  }

  private request(t: TypeKey, answer?: { nonce: string; error?: string }): void {
    const call = this.call;
    if (!call) return;
    const s = this.state.get(t)!;
    const names = this.handler.names(t);
    const msg: Json = { type_url: TYPE[t] };
    if (!this.nodeSent) {
      msg.node = this.opts.node;
      this.nodeSent = true;
    }
    if (answer) msg.response_nonce = answer.nonce;
    if (answer?.error) msg.error_detail = { code: grpc.status.INVALID_ARGUMENT, message: answer.error };
    if (this.opts.delta) {
      if (!s.requested) {
        // Wildcard types subscribe with an empty list (Envoy's legacy wildcard); on reconnect the server learns what is already here.
        msg.resource_names_subscribe = names ?? [];
        msg.initial_resource_versions = this.handler.knownVersions(t);
        s.subscribed = new Set(names ?? []);
      } else if (names) {
        const next = new Set(names);
        msg.resource_names_subscribe = [...next].filter((n) => !s.subscribed.has(n));
        msg.resource_names_unsubscribe = [...s.subscribed].filter((n) => !next.has(n));
        s.subscribed = next;
      }
    } else {
      msg.version_info = s.version;
      if (!answer) msg.response_nonce = s.nonce;
      msg.resource_names = names ?? [];
      s.subscribed = new Set(names ?? []);
    }
    s.requested = true;
    call.write(msg);
  }

  private onResponse(msg: Json): void {
    const t = keyOf(msg.type_url);
    if (!t) {
      log.warn(`ignoring a response of unrequested type ${msg.type_url}`);
      return;
    }
    const s = this.state.get(t)!;
    const delta = this.opts.delta;
    const update: TypeUpdate = delta
      ? {
          type: t,
          version: msg.system_version_info ?? '',
          resources: (msg.resources ?? []).map((r: Json) => ({ name: r.name, version: r.version, resource: r.resource })),
          removed: msg.removed_resources ?? [],
          protocol: 'delta',
        }
      : { type: t, version: msg.version_info ?? '', resources: (msg.resources ?? []).map((r: Json) => ({ resource: r })), protocol: 'sotw' };
    let error: string | undefined;
    try {
      error = this.handler.apply(update);
    } catch (err) {
      error = `internal error: ${(err as Error).message}`;
    }
    s.nonce = msg.nonce ?? '';
    if (!error && !delta) s.version = update.version;
    if (error) log.warn(`NACK ${t} version ${update.version}: ${error}`);
    this.request(t, { nonce: s.nonce, error });
    // A new cluster or listener set may change the EDS/RDS names; ask after answering.
    if (!error) this.updateSubscriptions();
  }

  close(): void {
    this.closed = true;
    clearTimeout(this.retryTimer);
    this.call?.cancel();
    this.call = undefined;
    this.client.close();
  }
}

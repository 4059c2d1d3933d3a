import * as grpc from '@grpc/grpc-js';
import { logger } from '../../log.js';
import { adsService } from '../protos.js';
import type { Json } from '../encode/values.js';
import { keyOf, TYPE, TYPE_KEYS, type TypeKey } from '../type_urls.js';
import type { ConfigStore } from './config_store.js';
import { nodeScope, type NodeScope } from './node_scope.js';
import type { ProxyStatus, TypeStatus } from './proxy_status.js';
import type { ServedResource } from './served_config.js';

const log = logger('xds-server');

/** Types a proxy asks for whole (an empty name list means all of them); EDS and RDS are asked by name. */
const WILDCARD_TYPES = new Set<TypeKey>(['cluster', 'listener', 'nameTable']);

interface Stream extends ProxyStatus {
  call: grpc.ServerDuplexStream<Json, Json>;
  scope?: NodeScope;
  nonce: number;
}

/**
 * ADS (State of the World and Delta) over gRPC, serving each proxy the configuration of its
 * scope. Pushes in Envoy's order (CDS, EDS, LDS, RDS, then NDS) whenever the store changes,
 * sends a type again only when what that proxy would get of it changed, and keeps per proxy
 * and type what was sent, ACKed and NACKed (see proxy_status.ts).
 */
export class AdsServer {
  readonly streams = new Set<Stream>();
  private readonly server = new grpc.Server();

  constructor(private readonly store: ConfigStore) {
    store.on('change', () => {
      for (const s of this.streams) {
        try {
          this.pushAll(s);
        } catch (err) {
          // This proxy's scope has no valid configuration at all: it keeps what it has.
          log.error(`push to ${s.nodeId}: ${(err as Error).message}`);
        }
      }
    });
    this.server.addService(adsService() as unknown as grpc.ServiceDefinition, {
      StreamAggregatedResources: (call: grpc.ServerDuplexStream<Json, Json>) => this.serve(call, 'sotw'),
      DeltaAggregatedResources: (call: grpc.ServerDuplexStream<Json, Json>) => this.serve(call, 'delta'),
    });
  }

  /** Listens (port 0: any free port) and resolves with the port. */
  listen(host: string, port: number): Promise<number> {
    return new Promise((res, rej) => this.server.bindAsync(`${host}:${port}`, grpc.ServerCredentials.createInsecure(), (e, p) => (e ? rej(e) : res(p))));
  }

  close(): void {
    this.server.forceShutdown();
    this.streams.clear();
  }

  private serve(call: grpc.ServerDuplexStream<Json, Json>, protocol: 'sotw' | 'delta'): void {
    const s: Stream = { call, protocol, nodeId: '', scopeKey: '', connectedAt: new Date().toISOString(), types: new Map(), nonce: 0 };
    this.streams.add(s);
    // Response headers at once: a client counts the stream as up from them (Envoy's connected_state).
    call.sendMetadata(new grpc.Metadata());
    call.on('data', (msg: Json) => {
      try {
        this.onRequest(s, msg);
      } catch (err) {
        log.error(`stream of ${s.nodeId || 'unknown node'}: ${(err as Error).message}`);
        call.destroy(err as Error);
        this.streams.delete(s);
      }
    });
    const gone = () => this.streams.delete(s);
    call.on('error', gone);
    call.on('cancelled', gone);
    call.on('end', () => {
      gone();
      call.end();
    });
  }

  private onRequest(s: Stream, msg: Json): void {
    if (!s.scope) {
      s.scope = nodeScope(msg.node);
      s.nodeId = s.scope.id;
      s.scopeKey = s.scope.key;
      log.info(`${s.protocol} stream from ${s.nodeId} (${s.scope.role}, namespace ${s.scope.namespace}${s.scope.generator === 'grpc' ? ', proxyless gRPC' : ''})`);
    }
    const type = keyOf(msg.type_url);
    if (!type) return log.warn(`${s.nodeId} asked for ${msg.type_url}, which this server does not serve`);
    let st = s.types.get(type);
    const first = !st;
    if (!st) s.types.set(type, (st = { subscribed: new Set(), has: new Map(), responded: false }));
    const stale = msg.response_nonce && msg.response_nonce !== st.nonceSent;
    if (msg.response_nonce && !stale) this.recordAnswer(s, type, st, msg);
    if (s.protocol === 'sotw') {
      if (stale) return;
      const names: string[] = msg.resource_names ?? [];
      const next = (names.length === 0 && WILDCARD_TYPES.has(type)) || names.includes('*') ? '*' : new Set(names);
      const changed = first || !sameSubscription(st.subscribed, next);
      st.subscribed = next;
      if (changed) this.push(s, type, true);
      return;
    }
    const subscribe: string[] = msg.resource_names_subscribe ?? [];
    const unsubscribe: string[] = msg.resource_names_unsubscribe ?? [];
    if (first) {
      st.subscribed = (subscribe.length === 0 && WILDCARD_TYPES.has(type)) || subscribe.includes('*') ? '*' : new Set(subscribe);
      for (const [n, v] of Object.entries((msg.initial_resource_versions ?? {}) as Record<string, string>)) st.has.set(n, v);
    } else if (st.subscribed instanceof Set) {
      for (const n of subscribe) st.subscribed.add(n);
      for (const n of unsubscribe) {
        st.subscribed.delete(n);
        st.has.delete(n);
      }
    }
    if (first || subscribe.length > 0) this.push(s, type, first);
  }

  private recordAnswer(s: Stream, type: TypeKey, st: TypeStatus, msg: Json): void {
    if (msg.error_detail) {
      const detail = String(msg.error_detail.message ?? '');
      st.lastNack = { version: st.versionSent ?? '', nonce: msg.response_nonce, detail, at: new Date().toISOString() };
      log.warn(`${s.nodeId} rejected ${type} version ${st.versionSent}: ${detail}`);
      const before = st.beforeLastSend;
      if (before && before.nonce === msg.response_nonce) for (const [name, version] of before.previous) version === undefined ? st.has.delete(name) : st.has.set(name, version);
    } else {
      st.versionAcked = st.versionSent;
      st.nonceAcked = msg.response_nonce;
    }
  }

  private pushAll(s: Stream): void {
    for (const type of TYPE_KEYS) if (s.types.has(type)) this.push(s, type, false);
  }

  private push(s: Stream, type: TypeKey, force: boolean): void {
    if (!s.scope) return;
    const st = s.types.get(type)!;
    const config = this.store.configFor(s.scope);
    const all = config.resources[type];
    const selected: ServedResource[] = st.subscribed === '*' ? [...all.values()] : [...st.subscribed].flatMap((n) => all.get(n) ?? []);
    const version = config.versions[type];
    if (s.protocol === 'sotw') {
      const key = selected.map((r) => `${r.name}=${r.version}`).join(',');
      if (!force && st.responded && st.has.get('') === key) return;
      st.has.set('', key);
      this.send(s, st, { type_url: TYPE[type], version_info: version, resources: selected.map((r) => r.any) }, version);
      return;
    }
    const changed = selected.filter((r) => st.has.get(r.name) !== r.version);
    const present = new Set(selected.map((r) => r.name));
    const removed = [...st.has.keys()].filter((n) => !present.has(n));
    if (changed.length === 0 && removed.length === 0 && st.responded && !force) return;
    const previous = new Map<string, string | undefined>();
    for (const r of changed) {
      previous.set(r.name, st.has.get(r.name));
      st.has.set(r.name, r.version);
    }
    for (const n of removed) {
      previous.set(n, st.has.get(n));
      st.has.delete(n);
    }
    const resources = changed.map((r) => ({ name: r.name, version: r.version, resource: r.any }));
    this.send(s, st, { type_url: TYPE[type], system_version_info: version, resources, removed_resources: removed }, version);
    st.beforeLastSend = { nonce: st.nonceSent!, previous };
  }

  private send(s: Stream, st: TypeStatus, response: Json, version: string): void {
    const nonce = String(++s.nonce);
    st.nonceSent = nonce;
    st.versionSent = version;
    st.responded = true;
    s.call.write({ ...response, nonce });
  }
}

function sameSubscription(a: '*' | Set<string>, b: '*' | Set<string>): boolean {
  if (a === '*' || b === '*') return a === b;
  return a.size === b.size && [...a].every((n) => b.has(n));
}

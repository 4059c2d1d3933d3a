import * as grpc from '@grpc/grpc-js';
import type { ExecutionContext } from 'ava';
import { adsService } from '../../src/xds/protos.js';
import { anyFromEnvoyJson } from '../../src/xds/proto_json.js';
import { TYPE, keyOf, type TypeKey } from '../../src/xds/type_urls.js';

type Json = any;

interface Stream {
  delta: boolean;
  call: grpc.ServerDuplexStream<Json, Json>;
  /** Named subscriptions per type (absent: wildcard / not asked). */
  subscribed: Map<TypeKey, Set<string> | '*'>;
  /** Delta: versions the client has, per type and name. */
  sent: Map<TypeKey, Map<string, string>>;
}

/**
 * A management server for tests: ADS over gRPC (SotW and Delta) serving whatever the test
 * sets, as Envoy JSON (converted to protos like a real server would encode them). It records
 * every request (ACKs and NACKs included), pushes on change, and can drop its streams.
 */
export class TestXdsServer {
  readonly requests: { delta: boolean; msg: Json }[] = [];
  private readonly resources = new Map<TypeKey, Map<string, { version: string; any: Json }>>();
  private readonly versions = new Map<TypeKey, number>();
  private readonly streams = new Set<Stream>();
  private nonce = 0;
  private server = new grpc.Server();
  port = 0;

  static async start(t: ExecutionContext): Promise<TestXdsServer> {
    const s = new TestXdsServer();
    await s.listen();
    t.teardown(() => s.close());
    return s;
  }

  get address(): string {
    return `127.0.0.1:${this.port}`;
  }

  private async listen(port = 0): Promise<void> {
    this.server = new grpc.Server();
    const svc = adsService();
    this.server.addService(svc as unknown as grpc.ServiceDefinition, {
      StreamAggregatedResources: (call: grpc.ServerDuplexStream<Json, Json>) => this.serve(call, false),
      DeltaAggregatedResources: (call: grpc.ServerDuplexStream<Json, Json>) => this.serve(call, true),
    });
    this.port = await new Promise<number>((res, rej) => this.server.bindAsync(`127.0.0.1:${port}`, grpc.ServerCredentials.createInsecure(), (e, p) => (e ? rej(e) : res(p))));
  }

  /** Replaces the set of one type (Envoy JSON resources) and pushes it. */
  set(type: TypeKey, resources: Json[]): void {
    const v = String((this.versions.get(type) ?? 0) + 1);
    this.versions.set(type, Number(v));
    const map = new Map<string, { version: string; any: Json }>();
    const old = this.resources.get(type);
    for (const r of resources) {
      const name = nameOf(type, r);
      const any = anyFromEnvoyJson({ '@type': TYPE[type], ...r });
      const prev = old?.get(name);
      map.set(name, prev && JSON.stringify(prev.any) === JSON.stringify(any) ? prev : { version: v, any });
    }
    this.resources.set(type, map);
    for (const s of this.streams) this.push(s, type);
  }

  /** Ends every stream (the client should reconnect). */
  dropStreams(): void {
    for (const s of this.streams) s.call.end();
    this.streams.clear();
  }

  /** Stops listening and drops streams; `restart()` listens again on the same port. */
  async stop(): Promise<void> {
    this.streams.clear();
    this.server.forceShutdown();
  }

  async restart(): Promise<void> {
    await this.listen(this.port);
  }

  close(): void {
    this.server.forceShutdown();
  }

  /** Requests of a type that answer a response (ACK or NACK). */
  answers(type: TypeKey): Json[] {
    return this.requests.filter((r) => r.msg.type_url === TYPE[type] && r.msg.response_nonce).map((r) => r.msg);
  }

  async waitFor<T>(what: string, fn: () => T | undefined | false, ms = 10_000): Promise<T> {
    const until = Date.now() + ms;
    for (;;) {
      const v = fn();
      if (v) return v;
      if (Date.now() > until) throw new Error(`timed out waiting for ${what}; requests: ${JSON.stringify(this.requests.map((r) => r.msg), null, 1).slice(0, 4000)}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  private serve(call: grpc.ServerDuplexStream<Json, Json>, delta: boolean): void {
    const s: Stream = { delta, call, subscribed: new Map(), sent: new Map() };
    this.streams.add(s);
    // Response headers at once, so the client sees the stream up before any response (as with Envoy's connected_state).
    call.sendMetadata(new grpc.Metadata());
    call.on('data', (msg: Json) => this.onRequest(s, msg));
    call.on('error', () => this.streams.delete(s));
    call.on('end', () => {
      this.streams.delete(s);
      call.end();
    });
  }

  private onRequest(s: Stream, msg: Json): void {
    this.requests.push({ delta: s.delta, msg });
    const type = keyOf(msg.type_url);
    if (!type) return;
    if (s.delta) {
      const cur = s.subscribed.get(type);
      const subscribe: string[] = msg.resource_names_subscribe ?? [];
      const unsubscribe: string[] = msg.resource_names_unsubscribe ?? [];
      if (!msg.response_nonce && cur === undefined) {
        s.subscribed.set(type, subscribe.length === 0 || subscribe.includes('*') ? '*' : new Set(subscribe));
        s.sent.set(type, new Map(Object.entries(msg.initial_resource_versions ?? {})));
      } else if (cur instanceof Set) {
        for (const n of subscribe) cur.add(n);
        for (const n of unsubscribe) {
          cur.delete(n);
          s.sent.get(type)?.delete(n);
        }
      }
      if (!msg.response_nonce || subscribe.length > 0) this.push(s, type);
      return;
    }
    const names: string[] = msg.resource_names ?? [];
    const cur = s.subscribed.get(type);
    const next = names.length === 0 ? '*' : new Set(names);
    const changed = cur === undefined || cur === '*' ? cur !== next : next === '*' || next.size !== cur.size || [...next].some((n) => !cur.has(n));
    s.subscribed.set(type, next);
    if (!msg.response_nonce || changed) this.push(s, type);
  }

  private selected(s: Stream, type: TypeKey): [string, { version: string; any: Json }][] {
    const sub = s.subscribed.get(type);
    const all = [...(this.resources.get(type) ?? new Map())];
    return sub === '*' ? all : all.filter(([n]) => sub?.has(n));
  }

  private push(s: Stream, type: TypeKey): void {
    if (!s.subscribed.has(type) || !this.resources.has(type)) return;
    const nonce = String(++this.nonce);
    const version = String(this.versions.get(type) ?? 0);
    if (!s.delta) {
      s.call.write({ type_url: TYPE[type], version_info: version, nonce, resources: this.selected(s, type).map(([, r]) => r.any) });
      return;
    }
    const sent = s.sent.get(type)!;
    const chosen = this.selected(s, type);
    const changed = chosen.filter(([n, r]) => sent.get(n) !== r.version);
    const present = new Set(chosen.map(([n]) => n));
    const removed = [...sent.keys()].filter((n) => !present.has(n) && (s.subscribed.get(type) === '*' || !this.resources.get(type)?.has(n)));
    if (changed.length === 0 && removed.length === 0 && sent.size > 0) return;
    for (const [n, r] of changed) sent.set(n, r.version);
    for (const n of removed) sent.delete(n);
    s.call.write({
      type_url: TYPE[type],
      system_version_info: version,
      nonce,
      resources: changed.map(([name, r]) => ({ name, version: r.version, resource: r.any })),
      removed_resources: removed,
    });
  }
}

function nameOf(type: TypeKey, r: Json): string {
  return type === 'endpoint' ? r.cluster_name : type === 'nameTable' ? '' : r.name;
}

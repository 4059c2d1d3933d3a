import type { MeshSettings, ProxyRole, Snapshot } from '../config/model.js';
import { HTTP_CONNECTION_MANAGER } from '../config/model.js';
import { SnapshotSource } from '../config/snapshot_source.js';
import { logger } from '../log.js';
import { AdsClient, type AdsHandler, type TypeUpdate } from './ads_client.js';
import { ConversionError, ConversionReport } from './convert/report.js';
import type { Json } from './convert/values.js';
import { XdsResources } from './resources.js';
import type { XdsStats } from './stats.js';
import { SHORT, TYPE_KEYS, type TypeKey } from './type_urls.js';

const log = logger('xds');

export interface XdsSourceOptions {
  /** `host:port` of the management server (istiod's 15010, `legate xds-server`). */
  target: string;
  role: ProxyRole;
  /** Delta xDS (Istio's default) or State of the World. */
  delta: boolean;
  node: Json;
  /** xDS carries no MeshConfig: these come from the process (defaults, ISTIO_META_*). */
  mesh: MeshSettings;
  /** Subscribe to NDS (the DNS proxy's name table). */
  nameTable: boolean;
  backoffBaseMs?: number;
  backoffMaxMs?: number;
}

/**
 * Configuration from an ADS stream. Each response is converted (a bad one is NACKed and
 * counted as a rejected change while the last good configuration keeps serving), assembled
 * with warming (resources.ts), and handed to the same apply path as files (SnapshotSource).
 * `start()` resolves with the first complete snapshot (clusters and listeners received,
 * nothing warming); `watch()` then lets later changes through as `update` events.
 */
export class XdsSource extends SnapshotSource implements AdsHandler {
  readonly resources = new XdsResources();
  private readonly client: AdsClient;
  private readonly versions = new WeakMap<object, string>();
  /** Everything noted as ignored so far, each once (also in /config_dump). */
  readonly notes = new Map<string, string>();
  private emitting = false;
  private firstDone: ((s: Snapshot) => void) | undefined;
  private warming: { clusters: string[]; listeners: string[] } = { clusters: [], listeners: [] };

  constructor(
    private readonly opts: XdsSourceOptions,
    private readonly stats?: XdsStats,
  ) {
    super();
    const types = TYPE_KEYS.filter((t) => t !== 'nameTable' || opts.nameTable);
    this.client = new AdsClient(opts.target, { delta: opts.delta, node: opts.node, types, backoffBaseMs: opts.backoffBaseMs, backoffMaxMs: opts.backoffMaxMs }, this);
    this.client.on('connected', (c: boolean) => {
      this.stats?.setConnected(c);
      log.info(`ADS stream to ${opts.target} ${c ? 'connected' : 'disconnected'}`);
    });
  }

  get connected(): boolean {
    return this.client.connected;
  }

  /** Connects; resolves with the first complete snapshot. */
  start(): Promise<Snapshot> {
    const first = new Promise<Snapshot>((resolve) => (this.firstDone = resolve));
    this.client.start();
    return first;
  }

  /** From now on every good change is emitted as `update`. */
  watch(): void {
    this.emitting = true;
    this.rebuild();
  }

  apply(u: TypeUpdate): string | undefined {
    const report = new ConversionReport();
    const rds = u.type === 'route' ? this.rdsStatTargets(u) : [];
    this.stats?.count(u.type, 'update_attempt', rds);
    try {
      this.resources.apply(u, report);
    } catch (err) {
      if (!(err instanceof ConversionError)) throw err;
      this.stats?.count(u.type, 'update_rejected', rds);
      const message = `${SHORT[u.type]} version ${u.version}: ${err.message}`;
      log.error(`xDS update rejected, the last good configuration keeps serving: ${message}`);
      this.reject([message]);
      return err.message;
    }
    this.stats?.count(u.type, 'update_success', rds);
    for (const [key, text] of report.notes) {
      if (this.notes.has(key)) continue;
      this.notes.set(key, text);
      log.warn(`xDS: ${text}`);
    }
    this.rebuild();
    return undefined;
  }

  names(t: TypeKey): string[] | undefined {
    if (t === 'endpoint') return this.resources.edsNames();
    if (t === 'route') return this.resources.rdsNames();
    return undefined;
  }

  knownVersions(t: TypeKey): Record<string, string> {
    return this.resources.knownVersions(t);
  }

  protected override versionOf(resource: object): string | undefined {
    return this.versions.get(resource);
  }

  private rebuild(): void {
    const r = this.resources;
    if (!this.current && !(r.received.has('cluster') && r.received.has('listener'))) return;
    const a = r.assemble(this.current);
    this.warming = a.warming;
    if (!this.current && (a.warming.clusters.length > 0 || a.warming.listeners.length > 0)) return;
    if (this.current && !this.emitting) return;
    for (const [o, v] of a.versions) this.versions.set(o, v);
    const next: Snapshot = {
      version: this.version + 1,
      source: `xds:${this.opts.target}`,
      builtAt: new Date().toISOString(),
      role: this.opts.role,
      mesh: this.opts.mesh,
      listeners: a.listeners,
      routes: a.routes,
      clusters: a.clusters,
    };
    if (a.nameTable) next.nameTable = a.nameTable;
    const { snapshot } = this.accept(next);
    if (this.firstDone) {
      const done = this.firstDone;
      this.firstDone = undefined;
      done(snapshot);
    }
  }

  /** The (stat_prefix, route name) pairs of an RDS response, for Envoy's per-connection-manager RDS stats. */
  private rdsStatTargets(u: TypeUpdate): { statPrefix: string; name: string }[] {
    const names = new Set(u.resources.map((x) => x.name ?? x.resource?.name));
    const out: { statPrefix: string; name: string }[] = [];
    for (const e of this.resources.listeners.values())
      for (const fc of [...(e.value.listener?.filterChains ?? []), ...(e.value.listener?.defaultFilterChain ? [e.value.listener.defaultFilterChain] : [])])
        for (const f of fc.filters) if (f.name === HTTP_CONNECTION_MANAGER && names.has(f.routeConfigName)) out.push({ statPrefix: f.statPrefix, name: f.routeConfigName });
    return out;
  }

  /** /config_dump sections' version_info: the last accepted version of their xDS type. */
  sectionVersion(section: string): string | undefined {
    const t = ({ dynamic_listeners: 'listener', dynamic_route_configs: 'route', dynamic_active_clusters: 'cluster' } as Record<string, TypeKey>)[section];
    return t ? this.resources.accepted.get(t)?.version : undefined;
  }

  /** For /config_dump: per-type versions, warming resources, the stream state and the notes. */
  info(): Record<string, unknown> {
    const types: Record<string, unknown> = {};
    for (const t of TYPE_KEYS) {
      const a = this.resources.accepted.get(t);
      if (a) types[SHORT[t]] = { version_info: a.version, last_updated: a.at };
    }
    return {
      xds: {
        server: this.opts.target,
        protocol: this.opts.delta ? 'delta' : 'sotw',
        connected: this.client.connected,
        types,
        warming: this.warming,
        ignored: [...this.notes.values()],
      },
    };
  }

  close(): void {
    this.client.close();
  }
}

import { EventEmitter } from 'node:events';
import { PROXY_DEFAULTS } from '../../main/options.js';
import { formatDiagnostic, hasErrors } from '../../config/diagnostics.js';
import type { Resource } from '../../config/resources.js';
import { DEFAULT_TRANSLATE_OPTIONS, type TranslateOptions } from '../../config/translate/context.js';
import { translate } from '../../config/translate/index.js';
import { logger } from '../../log.js';
import { grpcResources, grpcServices, type GrpcService } from './grpc_generator.js';
import type { NodeScope } from './node_scope.js';
import { envoyResources, served, type ServedConfig } from './served_config.js';

const log = logger('xds-server');

/** Listener ports the translation puts in sidecar listeners (istiod's are fixed; tests move them). */
export interface ServerPorts {
  outboundPort: number;
  inboundPort: number;
}

/**
 * The configuration the server hands out: the last good set of documents, translated once per
 * scope (role, namespace, labels, DNS flags, generator) and encoded. `set()` replaces the
 * documents and emits `change`; proxies then ask for their scope again. A scope whose
 * translation fails keeps what it had (as a proxy keeps its last good configuration).
 */
/** The proxy's loopback-only ports at Istio's defaults: admin and the DNS proxy. */
const SIDECAR_LOOPBACK_PORTS = [PROXY_DEFAULTS.adminPort, PROXY_DEFAULTS.dnsPort];

export class ConfigStore extends EventEmitter {
  private resources: readonly Resource[] = [];
  private services: GrpcService[] = [];
  private generation = 0;
  private readonly byScope = new Map<string, { generation: number; config: ServedConfig }>();

  constructor(private readonly ports: ServerPorts = { outboundPort: DEFAULT_TRANSLATE_OPTIONS.outboundPort, inboundPort: DEFAULT_TRANSLATE_OPTIONS.inboundPort }) {
    super();
  }

  get version(): number {
    return this.generation;
  }

  set(resources: readonly Resource[]): void {
    this.resources = resources;
    this.services = grpcServices(resources);
    this.generation++;
    this.emit('change', this.generation);
  }

  /** The served configuration for a scope at the current generation. */
  configFor(scope: NodeScope): ServedConfig {
    const cached = this.byScope.get(scope.key);
    if (cached?.generation === this.generation) return cached.config;
    const opts: TranslateOptions = {
      ...DEFAULT_TRANSLATE_OPTIONS,
      ...this.ports,
      // Sidecars served over xDS forward inbound to 127.0.0.1 too: their admin and DNS proxy
      // ports (Istio's 15000 and 15053) must not be reachable through the pod IP.
      loopbackPorts: SIDECAR_LOOPBACK_PORTS,
      role: scope.generator === 'grpc' ? 'sidecar' : scope.role,
      namespace: scope.namespace,
      labels: scope.labels,
      dnsCapture: scope.dnsCapture,
      dnsAutoAllocate: scope.dnsAutoAllocate,
    };
    const t = translate(this.resources, opts);
    if (hasErrors(t.diagnostics)) {
      const errors = t.diagnostics.filter((d) => d.severity === 'error').map(formatDiagnostic);
      log.error(`configuration for ${scope.key} rejected, keeping the last good one:\n${errors.join('\n')}`);
      if (cached) return cached.config;
      throw new Error(`no valid configuration for ${scope.id}: ${errors[0]}`);
    }
    const json = scope.generator === 'grpc' ? grpcResources(t, this.services) : envoyResources(t);
    const config = served(json);
    this.byScope.set(scope.key, { generation: this.generation, config });
    return config;
  }
}

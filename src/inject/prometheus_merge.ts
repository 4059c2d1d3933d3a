import { PROXY_DEFAULTS } from '../main/options.js';

/** Where pilot-agent (and Legate's status port) serves the merged metrics. */
const STATUS_PORT = PROXY_DEFAULTS.statusPort;

const SCRAPE = 'prometheus.io/scrape';
const PATH = 'prometheus.io/path';
const PORT = 'prometheus.io/port';

export interface PrometheusMerge {
  /** The annotations the pod ends up with (pointing Prometheus at the status port). */
  annotations: Record<string, string>;
  /** ISTIO_PROMETHEUS_ANNOTATIONS for the sidecar: the app's own scrape settings, when it had some. */
  appScrape?: string;
}

/**
 * Istio's metrics merging (meshConfig enablePrometheusMerge, on by default): Prometheus scrapes
 * the status port, which serves the proxy's metrics followed by the app's; the app's own
 * `prometheus.io/*` annotations move into the sidecar's ISTIO_PROMETHEUS_ANNOTATIONS. A pod with
 * `prometheus.io/scrape: "false"` or `prometheus.istio.io/merge-metrics: "false"` is left alone,
 * and one already pointing at the status port (re-injection) keeps what it has.
 */
export function prometheusMerge(annotations: Readonly<Record<string, string>>): PrometheusMerge | undefined {
  if (annotations[SCRAPE] === 'false' || annotations['prometheus.istio.io/merge-metrics'] === 'false') return undefined;
  if (annotations[PORT] === String(STATUS_PORT)) return undefined;
  const own: Record<string, string> = {};
  if (annotations[SCRAPE] !== undefined) own.scrape = annotations[SCRAPE];
  if (annotations[PATH] !== undefined) own.path = annotations[PATH];
  if (annotations[PORT] !== undefined) own.port = annotations[PORT];
  return {
    annotations: { [PATH]: '/stats/prometheus', [PORT]: String(STATUS_PORT), [SCRAPE]: 'true' },
    ...(Object.keys(own).length > 0 && { appScrape: JSON.stringify(own) }),
  };
}

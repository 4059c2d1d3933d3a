import parsePrometheusTextFormat, { type ParsedFamily } from 'parse-prometheus-text-format';

/** Prometheus text parsed by a real exposition-format parser (a port of Prometheus' Python client parser), by family name. */
export function parsePrometheus(text: string): Map<string, ParsedFamily> {
  const families = parsePrometheusTextFormat(text);
  const out = new Map<string, ParsedFamily>();
  for (const f of families) {
    if (out.has(f.name)) throw new Error(`family ${f.name} appears twice`);
    out.set(f.name, f);
  }
  return out;
}

/** Istio's label names for HTTP metrics, in the order Istio's stats filter adds them. */
export const ISTIO_HTTP_LABELS = [
  'reporter', 'source_workload', 'source_canonical_service', 'source_canonical_revision', 'source_workload_namespace', 'source_principal', 'source_app',
  'source_version', 'source_cluster', 'destination_workload', 'destination_workload_namespace', 'destination_principal', 'destination_app',
  'destination_version', 'destination_service', 'destination_canonical_service', 'destination_canonical_revision', 'destination_service_name',
  'destination_service_namespace', 'destination_cluster', 'request_protocol', 'response_code', 'grpc_response_status', 'response_flags',
  'connection_security_policy',
];
export const ISTIO_TCP_LABELS = ISTIO_HTTP_LABELS.filter((l) => l !== 'response_code' && l !== 'grpc_response_status');

export interface HistogramSeries {
  labels: Record<string, string>;
  buckets: Record<string, string>;
  sum: string;
  count: string;
}

/**
 * The series of one histogram family. The parser folds a histogram's label sets into one
 * (prom2json's flattening), so the histogram's sample lines are read again untyped, where
 * every line keeps its labels.
 */
export function histogramSeries(text: string, name: string): HistogramSeries[] {
  const untyped = parsePrometheusTextFormat(text.replace(/^# TYPE \S+ histogram$/gm, ''));
  // Lines of one name that are not adjacent come back as several families.
  const lines = (suffix: string) => untyped.filter((f) => f.name === name + suffix).flatMap((f) => f.metrics);
  const key = (labels: Record<string, string> | undefined) => JSON.stringify(Object.entries(labels ?? {}).filter(([k]) => k !== 'le'));
  const out = new Map<string, HistogramSeries>();
  for (const m of lines('_bucket')) {
    const { le, ...labels } = m.labels ?? {};
    let s = out.get(key(labels));
    if (!s) out.set(key(labels), (s = { labels, buckets: {}, sum: '', count: '' }));
    s.buckets[le] = m.value!;
  }
  for (const m of lines('_sum')) out.get(key(m.labels))!.sum = m.value!;
  for (const m of lines('_count')) out.get(key(m.labels))!.count = m.value!;
  return [...out.values()];
}

import { isMap, type Document } from 'yaml';

type Path = (string | number)[];

/**
 * The pod template's metadata after injection, as Istio's template writes it: what was added
 * (sidecar.istio.io/status, which also makes injection idempotent), the revision, the default
 * container for kubectl, Prometheus scraping, and the canonical service labels.
 */
export function markPod(
  doc: Document,
  metaPath: Path,
  meta: Record<string, any>,
  facts: { status: unknown; workloadName: string; firstContainer: string | undefined; prometheus: Record<string, string> | undefined },
): void {
  const first = facts.firstContainer;
  const annotations: Record<string, string> = meta.annotations ?? {};
  const add: Record<string, string> = {
    'istio.io/rev': 'default',
    'kubectl.kubernetes.io/default-container': annotations['kubectl.kubernetes.io/default-container'] ?? first,
    'kubectl.kubernetes.io/default-logs-container': annotations['kubectl.kubernetes.io/default-logs-container'] ?? first,
  };
  for (const [k, v] of Object.entries(add)) if (v !== undefined && annotations[k] === undefined) doc.setIn([...metaPath, 'annotations', k], v);
  // Metrics merging replaces the app's own scrape annotations (they travel in the sidecar's env).
  for (const [k, v] of Object.entries(facts.prometheus ?? {})) doc.setIn([...metaPath, 'annotations', k], v);
  doc.setIn([...metaPath, 'annotations', 'sidecar.istio.io/status'], JSON.stringify(facts.status));
  blockStyle(doc, [...metaPath, 'annotations']);
  const labels: Record<string, string> = meta.labels ?? {};
  const canonical = labels['service.istio.io/canonical-name'] ?? labels['app.kubernetes.io/name'] ?? labels.app ?? facts.workloadName;
  const revision = labels['service.istio.io/canonical-revision'] ?? labels['app.kubernetes.io/version'] ?? labels.version ?? 'latest';
  doc.setIn([...metaPath, 'labels', 'security.istio.io/tlsMode'], 'istio');
  doc.setIn([...metaPath, 'labels', 'service.istio.io/canonical-name'], canonical);
  doc.setIn([...metaPath, 'labels', 'service.istio.io/canonical-revision'], revision);
  blockStyle(doc, [...metaPath, 'labels']);
}

/** A short flow map (`{app: x}`) that gains Istio's long keys reads better as a block. */
function blockStyle(doc: Document, path: Path): void {
  const node = doc.getIn(path, true);
  if (isMap(node)) node.flow = false;
}

import { isSeq, parse, parseAllDocuments, type Document } from 'yaml';
import type { InjectOptions } from './options.js';
import { rewriteProbes } from './probes.js';
import { initContainer, sidecarContainer, volumes, WAIT_FOR_PROXY, type PodFacts } from './template.js';
import { LegateError } from '../errors.js';
import { markPod } from './metadata.js';
import { prometheusMerge } from './prometheus_merge.js';
import { alreadyInjected, ownerUri, podTemplatePath, skipReason } from './workload.js';

type Path = (string | number)[];
type Obj = Record<string, any>;

/** The pod's proxy.istio.io/config annotation (YAML or JSON) — the per-pod ProxyConfig override; unreadable: none. */
function podProxyConfig(annotations: Record<string, string>): Obj {
  const raw = annotations['proxy.istio.io/config'];
  if (!raw) return {};
  try {
    const v: unknown = parse(raw);
    return v && typeof v === 'object' && !Array.isArray(v) ? (v as Obj) : {};
  } catch {
    return {};
  }
}

/** Adds to a sequence node in place (kept order and comments of the items there), creating it if absent. */
function addItems(doc: Document, path: Path, items: unknown[], atStart: boolean): void {
  const node = doc.getIn(path, true);
  if (!isSeq(node)) {
    doc.setIn(path, doc.createNode(items, { aliasDuplicateObjects: false }));
    return;
  }
  node.flow = false; // a one-line `[...]` would otherwise print the injected containers in flow style too
  const nodes = items.map((i) => doc.createNode(i, { aliasDuplicateObjects: false }));
  if (atStart) node.items.unshift(...nodes);
  else node.items.push(...nodes);
}

/** Injects one document in place; returns why it was left alone, or undefined when injected. */
export function injectDocument(doc: Document, opts: InjectOptions): string | undefined {
  const root = doc.toJS() as Obj | null;
  const base = podTemplatePath(root?.kind);
  if (!root || !base) return 'not a workload';
  const meta: Obj = valueAt(root, [...base, 'metadata']) ?? {};
  const spec: Obj = valueAt(root, [...base, 'spec']) ?? {};
  const skip = skipReason(meta, spec);
  if (skip) return skip;
  if (alreadyInjected(meta, spec)) return 'already injected';
  if (!Array.isArray(spec.containers)) return 'no containers';

  const annotations: Record<string, string> = meta.annotations ?? {};
  const specPath = [...base, 'spec'];
  const metaPath = [...base, 'metadata'];
  const namespace = root.metadata?.namespace ?? meta.namespace ?? 'default';
  const workloadName = root.kind === 'Pod' ? String(root.metadata?.name ?? meta.generateName ?? '') : String(root.metadata?.name ?? '');
  const proxyConfig = podProxyConfig(annotations);
  const hold = proxyConfig.holdApplicationUntilProxyStarts ?? opts.holdApplicationUntilProxyStarts;
  const native = String(annotations['sidecar.istio.io/nativeSidecar'] ?? '') === 'true';
  const mode = annotations['sidecar.istio.io/interceptionMode'] ?? 'REDIRECT';
  const facts: PodFacts = {
    annotations,
    workloadName,
    owner: ownerUri(String(root.apiVersion ?? 'v1'), root.kind, namespace, workloadName),
    appContainers: spec.containers.map((c: Obj) => c.name),
    podPorts: spec.containers.flatMap((c: Obj) => c.ports ?? []),
    proxyConfig,
  };

  const probes = annotations['sidecar.istio.io/rewriteAppHTTPProbers'] === 'false' ? { replacements: [], probers: {} } : rewriteProbes(spec.containers);
  for (const r of probes.replacements) doc.setIn([...specPath, 'containers', r.container, r.field], doc.createNode(r.probe, { aliasDuplicateObjects: false }));

  const merge = prometheusMerge(annotations);
  const sidecar = sidecarContainer(opts, facts, mode, { probers: probes.probers, appScrape: merge?.appScrape }, native);
  const init = opts.cni || mode === 'NONE' ? [] : [initContainer(opts, facts, mode)];
  if (native) {
    // Kubernetes' native sidecar: an init container that keeps running; what follows (the app's own
    // init containers too) starts once its startup probe passes, so they have a working network.
    addItems(doc, [...specPath, 'initContainers'], [...init, { ...sidecar, restartPolicy: 'Always' }], true);
  } else {
    // First, as Istio does: the rules are in place before anything else of the pod runs.
    if (init.length) addItems(doc, [...specPath, 'initContainers'], init, true);
    // Held apps need the proxy first: the kubelet starts containers in order and waits for postStart.
    if (hold) addItems(doc, [...specPath, 'containers'], [{ ...sidecar, lifecycle: WAIT_FOR_PROXY }], true);
    else addItems(doc, [...specPath, 'containers'], [sidecar], false);
  }
  addItems(doc, [...specPath, 'volumes'], volumes(), false);

  const status = {
    initContainers: native ? [...init.map((c) => c.name), 'istio-proxy'] : init.map((c) => c.name),
    containers: native ? [] : ['istio-proxy'],
    volumes: volumes().map((v) => v.name),
    imagePullSecrets: null,
    revision: 'default',
  };
  markPod(doc, metaPath, meta, { status, workloadName, firstContainer: spec.containers[0]?.name, prometheus: merge?.annotations });
  return undefined;
}

function valueAt(o: Obj, path: Path): any {
  let v: any = o;
  for (const k of path) v = v?.[k];
  return v;
}

/** `legate inject` over multi-document YAML: workloads gain the sidecar, everything else passes through. */
export function injectYaml(text: string, opts: InjectOptions): { output: string; notes: string[] } {
  const notes: string[] = [];
  const docs = parseAllDocuments(text);
  if (!Array.isArray(docs)) return { output: text, notes };
  const out: string[] = [];
  docs.forEach((doc, i) => {
    if (doc.errors.length) throw new LegateError('EYAML', `document ${i + 1}: ${doc.errors[0].message.split('\n')[0]}`);
    if (doc.contents === null) return;
    const why = injectDocument(doc, opts);
    const r = doc.toJS() as Obj;
    if (why && why !== 'not a workload') notes.push(`${r.kind}/${r.metadata?.name}: not injected (${why})`);
    // A document parsed after an explicit `---` prints its own marker; the others get one here.
    const text = doc.toString();
    out.push(out.length === 0 || text.startsWith('---') ? text : `---\n${text}`);
  });
  return { output: out.join(''), notes };
}

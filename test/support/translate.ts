import { formatDiagnostic, type Diagnostic } from '../../src/config/diagnostics.js';
import { translate, type Translation } from '../../src/config/translate/index.js';
import { parseText, type Resource } from '../../src/config/resources.js';
import type { Snapshot } from '../../src/config/model.js';
import { DEFAULT_TRANSLATE_OPTIONS, type TranslateOptions } from '../../src/config/translate/context.js';

/** Translates YAML text (file name `inline.yaml`); `diagnostics` include parse problems, `lines` are them formatted. */
export function translateYaml(yaml: string, opts: Partial<TranslateOptions> = {}): Translation & { lines: string[] } {
  const resources: Resource[] = [];
  const diagnostics: Diagnostic[] = [];
  parseText(yaml, 'inline.yaml', resources, diagnostics);
  const t = translate(resources, { ...DEFAULT_TRANSLATE_OPTIONS, ...opts });
  const all = [...diagnostics, ...t.diagnostics];
  return { ...t, diagnostics: all, lines: all.map((d) => formatDiagnostic(d)) };
}

export function snapshotOf(t: Translation, version = 1): Snapshot {
  return { version, source: 'test', builtAt: '', role: t.role, mesh: t.mesh, listeners: t.listeners, routes: t.routes, clusters: t.clusters, nameTable: t.nameTable };
}

export function meshYaml(meta: Record<string, string>, extra = ''): string {
  return `apiVersion: v1
kind: ConfigMap
metadata: {name: istio, namespace: istio-system}
data:
  mesh: |
${extra
  .split('\n')
  .filter(Boolean)
  .map((l) => `    ${l}`)
  .join('\n')}
    defaultConfig:
      proxyMetadata: ${JSON.stringify(meta)}
---
`;
}

export function serviceEntry(name: string, spec: Record<string, unknown>, meta: Record<string, unknown> = {}): string {
  return `apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: ${JSON.stringify({ name, namespace: 'default', ...meta })}
spec: ${JSON.stringify(spec)}
---
`;
}

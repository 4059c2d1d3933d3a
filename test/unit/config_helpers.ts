import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { formatDiagnostic } from '../../src/config/diagnostics.js';
import { loadResources } from '../../src/config/resources.js';
import { DEFAULT_TRANSLATE_OPTIONS, type TranslateOptions } from '../../src/config/translate/context.js';
import { translate, type Translation } from '../../src/config/translate/index.js';
import type { Diagnostic } from '../../src/config/diagnostics.js';

/** Fixtures live in the source tree; ava runs from the project root. */
export const FIXTURES = join(process.cwd(), 'test', 'fixtures', 'config');

export function fixture(...parts: string[]): string {
  return join(FIXTURES, ...parts);
}

export function rel(d: Diagnostic): string {
  return formatDiagnostic({ ...d, file: relative(process.cwd(), d.file) });
}

export function translateFiles(paths: string[], opts: Partial<TranslateOptions> = {}): Translation & { lines: string[] } {
  const loaded = loadResources(paths);
  const t = translate(loaded.resources, { ...DEFAULT_TRANSLATE_OPTIONS, ...opts });
  return { ...t, diagnostics: [...loaded.diagnostics, ...t.diagnostics], lines: [...loaded.diagnostics, ...t.diagnostics].map(rel) };
}

export function tempDir(prefix = 'legate-config-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

export function write(dir: string, name: string, text: string): string {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
}

/** A minimal STATIC ServiceEntry with one HTTP port, a VIP and labelled endpoints. */
export function serviceEntry(name: string, opts: { ns?: string; vip?: string; port?: number; protocol?: string; endpoints?: [string, Record<string, string>][]; created?: string; exportTo?: string[] } = {}): string {
  const eps = (opts.endpoints ?? [['10.1.0.1', { version: 'v1' }]]).map(([a, l]) => `  - address: ${a}\n    labels: ${JSON.stringify(l)}`).join('\n');
  return `apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata:
  name: ${name}
  namespace: ${opts.ns ?? 'default'}
${opts.created ? `  creationTimestamp: "${opts.created}"\n` : ''}spec:
  hosts: [${name}.${opts.ns ?? 'default'}.svc.cluster.local]
${opts.vip ? `  addresses: [${opts.vip}]\n` : ''}${opts.exportTo ? `  exportTo: ${JSON.stringify(opts.exportTo)}\n` : ''}  location: MESH_INTERNAL
  resolution: STATIC
  ports:
  - {number: ${opts.port ?? 80}, name: ${(opts.protocol ?? 'HTTP').toLowerCase()}, protocol: ${opts.protocol ?? 'HTTP'}}
  endpoints:
${eps}
---
`;
}

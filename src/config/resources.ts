import { createHash } from 'node:crypto';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { LineCounter, parseAllDocuments, type Document } from 'yaml';
import type { Diagnostic } from './diagnostics.js';

/** One Kubernetes-style document from a config file, with what is needed to point at its lines. */
export interface Resource {
  apiVersion: string;
  kind: string;
  name: string;
  namespace: string;
  creationTimestamp?: string;
  spec: any;
  data?: any;
  file: string;
  /** 1-based line of the document's first key. */
  line: number;
  /** Line of a field, e.g. lineOf(['spec', 'ports', 0, 'number']); falls back to the nearest parent. */
  lineOf(path: readonly (string | number)[]): number;
}

export interface LoadResult {
  resources: Resource[];
  diagnostics: Diagnostic[];
  files: string[];
  /** Hash of the file names and contents: equal digests mean nothing changed. */
  digest: string;
}

/** Parsed files by path, reused while a file's text is unchanged (a reload re-parses only what changed). */
export type ParseCache = Map<string, { text: string; resources: Resource[]; diagnostics: Diagnostic[] }>;

const CONFIG_EXTENSIONS = /\.(ya?ml|json)$/i;

/**
 * Lists config files under the given paths. Directories are read one level deep, skipping
 * dot-entries, so a Kubernetes ConfigMap mount (`..data` symlink, `..2024_…` dirs) is read
 * through its visible names only, never twice.
 */
export function listConfigFiles(paths: readonly string[]): string[] {
  const files: string[] = [];
  for (const p of paths) {
    const st = statSync(p);
    if (!st.isDirectory()) {
      files.push(p);
      continue;
    }
    for (const entry of readdirSync(p).sort()) {
      if (entry.startsWith('.') || !CONFIG_EXTENSIONS.test(entry)) continue;
      const full = join(p, entry);
      if (statSync(full).isFile()) files.push(full);
    }
  }
  return files;
}

export function loadResources(paths: readonly string[], cache?: ParseCache): LoadResult {
  const diagnostics: Diagnostic[] = [];
  const resources: Resource[] = [];
  const hash = createHash('sha1');
  let files: string[];
  try {
    files = listConfigFiles(paths);
  } catch (err) {
    diagnostics.push({ severity: 'error', file: String((err as { path?: string }).path ?? paths.join(',')), line: 0, resource: '', path: '', message: (err as Error).message });
    return { resources, diagnostics, files: [], digest: '' };
  }
  const seen = new Set<string>();
  for (const file of files) {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (err) {
      diagnostics.push({ severity: 'error', file, line: 0, resource: '', path: '', message: (err as Error).message });
      continue;
    }
    hash.update(file).update('\0').update(text).update('\0');
    seen.add(file);
    const cached = cache?.get(file);
    if (cached && cached.text === text) {
      resources.push(...cached.resources);
      diagnostics.push(...cached.diagnostics);
      continue;
    }
    const own: Resource[] = [];
    const ownDiags: Diagnostic[] = [];
    parseText(text, file, own, ownDiags);
    cache?.set(file, { text, resources: own, diagnostics: ownDiags });
    resources.push(...own);
    diagnostics.push(...ownDiags);
  }
  if (cache) for (const f of cache.keys()) if (!seen.has(f)) cache.delete(f);
  return { resources, diagnostics, files, digest: hash.digest('hex') };
}

export function parseText(text: string, file: string, resources: Resource[], diagnostics: Diagnostic[]): void {
  const lineCounter = new LineCounter();
  const docs = parseAllDocuments(text, { lineCounter, uniqueKeys: true }) as Document.Parsed[] | { errors: unknown[] };
  if (!Array.isArray(docs)) {
    diagnostics.push({ severity: 'error', file, line: 1, resource: '', path: '', message: 'not a YAML stream' });
    return;
  }
  const lineAt = (offset: number | undefined) => (offset === undefined ? 1 : lineCounter.linePos(offset).line);
  for (const doc of docs) {
    if (doc.errors.length > 0) {
      for (const e of doc.errors) {
        const first = e.message.split('\n')[0];
        const col = / at line \d+, column (\d+):?$/.exec(first);
        const message = col ? `${first.slice(0, col.index)} (column ${col[1]})` : first;
        diagnostics.push({ severity: 'error', file, line: lineAt(e.pos?.[0]), resource: '', path: '', message: `YAML: ${message}` });
      }
      continue;
    }
    const value = doc.toJS({ maxAliasCount: 100 }) as any;
    if (value === null || value === undefined) continue;
    const docLine = lineAt(doc.contents?.range?.[0]);
    if (typeof value !== 'object' || Array.isArray(value)) {
      diagnostics.push({ severity: 'error', file, line: docLine, resource: '', path: '', message: 'document is not a mapping' });
      continue;
    }
    // A `kind: List` wraps items, as `kubectl get -o yaml` writes them.
    const items: { value: any; path: (string | number)[] }[] =
      value.kind === 'List' && Array.isArray(value.items) ? value.items.map((v: any, i: number) => ({ value: v, path: ['items', i] })) : [{ value, path: [] }];
    for (const { value: obj, path: base } of items) {
      const lineOf = (path: readonly (string | number)[]): number => {
        for (let n = path.length; n >= 0; n--) {
          const node = doc.getIn([...base, ...path.slice(0, n)], true) as { range?: [number, number, number] } | undefined;
          if (node && typeof node === 'object' && node.range) return lineAt(node.range[0]);
        }
        return docLine;
      };
      const meta = obj?.metadata ?? {};
      resources.push({
        apiVersion: String(obj?.apiVersion ?? ''),
        kind: String(obj?.kind ?? ''),
        name: String(meta.name ?? ''),
        namespace: String(meta.namespace ?? 'default'),
        creationTimestamp: meta.creationTimestamp ? String(meta.creationTimestamp) : undefined,
        spec: obj?.spec,
        data: obj?.data,
        file,
        line: base.length ? lineOf([]) : docLine,
        lineOf,
      });
    }
  }
}

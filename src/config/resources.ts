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

/**
 * Parsed YAML documents, reused while their text is unchanged: a reload re-parses only the
 * documents that changed, and unchanged ones come back as the same Resource objects (the
 * translator memoizes on them). Keyed by file, occurrence and text; entries not seen in the
 * latest load are dropped.
 */
export class ParseCache {
  entries = new Map<string, ParsedChunk>();
  /** Per file: its last text and what it gave, reused whole while the file is unchanged. */
  files = new Map<string, { text: string; resources: Resource[]; diagnostics: Diagnostic[]; keys: [string, ParsedChunk][] }>();
}

const CONFIG_EXTENSIONS = /\.(ya?ml|json)$/i;

/** Whether a directory entry is read as configuration (dot-entries such as `..data` are not). */
export const isConfigFileName = (name: string): boolean => !name.startsWith('.') && CONFIG_EXTENSIONS.test(name);

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
      if (!isConfigFileName(entry)) continue;
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
  const used = cache ? new Map<string, ParsedChunk>() : undefined;
  for (const file of files) {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (err) {
      diagnostics.push({ severity: 'error', file, line: 0, resource: '', path: '', message: (err as Error).message });
      continue;
    }
    hash.update(file).update('\0').update(text).update('\0');
    const same = cache?.files.get(file);
    if (same && same.text === text && used) {
      resources.push(...same.resources);
      diagnostics.push(...same.diagnostics);
      for (const [k, v] of same.keys) used.set(k, v);
      continue;
    }
    const own: Resource[] = [];
    const ownDiags: Diagnostic[] = [];
    const keys: [string, ParsedChunk][] = [];
    parseText(text, file, own, ownDiags, cache, used, keys);
    cache?.files.set(file, { text, resources: own, diagnostics: ownDiags, keys });
    resources.push(...own);
    diagnostics.push(...ownDiags);
  }
  if (cache && used) {
    cache.entries = used;
    for (const f of cache.files.keys()) if (!files.includes(f)) cache.files.delete(f);
  }
  return { resources, diagnostics, files, digest: hash.digest('hex') };
}

/** Splits a YAML stream at its `---` document markers (column 0), keeping each chunk's first line. */
function splitDocuments(text: string): { text: string; line: number }[] {
  const out: { text: string; line: number }[] = [];
  let prev = 0;
  let line = 0;
  const re = /^---(?=[ \t\r\n]|$)/gm;
  for (let m = re.exec(text); m; m = re.exec(text)) {
    if (m.index === 0) continue;
    const chunk = text.slice(prev, m.index);
    out.push({ text: chunk, line });
    for (let i = chunk.indexOf('\n'); i >= 0; i = chunk.indexOf('\n', i + 1)) line++;
    prev = m.index;
  }
  out.push({ text: text.slice(prev), line });
  return out;
}

/** One chunk's parse: resources (lines relative to the chunk) and problems. */
interface ParsedChunk {
  resources: FileResource[];
  diagnostics: { line: number; message: string }[];
}

/** Parses `text` (a file's content) into resources, through `cache` when given. */
export function parseText(
  text: string,
  file: string,
  resources: Resource[],
  diagnostics: Diagnostic[],
  cache?: ParseCache,
  used?: Map<string, ParsedChunk>,
  keys?: [string, ParsedChunk][],
): void {
  const seen = new Map<string, number>();
  for (const chunk of splitDocuments(text)) {
    const n = seen.get(chunk.text) ?? 0;
    seen.set(chunk.text, n + 1);
    const key = `${file}\0${n}\0${chunk.text}`;
    let parsed = cache?.entries.get(key) ?? used?.get(key);
    if (!parsed) parsed = parseChunk(chunk.text, file);
    used?.set(key, parsed);
    keys?.push([key, parsed]);
    for (const r of parsed.resources) {
      r.offset = chunk.line;
      resources.push(r);
    }
    for (const d of parsed.diagnostics) diagnostics.push({ severity: 'error', file, line: chunk.line + d.line, resource: '', path: '', message: d.message });
  }
}

/** Where a resource came from; its YAML is parsed again only if a diagnostic needs a field's line. */
class ChunkSource {
  private docs?: Document.Parsed[];
  private lc?: LineCounter;
  constructor(readonly text: string) {}
  relLine(docIndex: number, fullPath: readonly (string | number)[], fallback: number): number {
    if (!this.docs) {
      this.lc = new LineCounter();
      this.docs = parseAllDocuments(this.text, { lineCounter: this.lc, uniqueKeys: true }) as Document.Parsed[];
    }
    const doc = this.docs[docIndex];
    if (!doc) return fallback;
    for (let n = fullPath.length; n >= 0; n--) {
      const node = doc.getIn(fullPath.slice(0, n), true) as { range?: [number, number, number] } | undefined;
      if (node && typeof node === 'object' && node.range) return this.lc!.linePos(node.range[0]).line;
    }
    return fallback;
  }
}

class FileResource implements Resource {
  offset = 0;
  readonly apiVersion: string;
  readonly kind: string;
  readonly name: string;
  readonly namespace: string;
  readonly creationTimestamp?: string;
  readonly spec: any;
  readonly data?: any;
  constructor(
    obj: any,
    readonly file: string,
    private readonly source: ChunkSource,
    private readonly docIndex: number,
    private readonly base: (string | number)[],
    private readonly relDocLine: number,
  ) {
    const meta = obj?.metadata ?? {};
    this.apiVersion = String(obj?.apiVersion ?? '');
    this.kind = String(obj?.kind ?? '');
    this.name = String(meta.name ?? '');
    this.namespace = String(meta.namespace ?? 'default');
    this.creationTimestamp = meta.creationTimestamp ? String(meta.creationTimestamp) : undefined;
    this.spec = obj?.spec;
    this.data = obj?.data;
  }
  get line(): number {
    return this.offset + this.relDocLine;
  }
  lineOf(path: readonly (string | number)[]): number {
    return this.offset + this.source.relLine(this.docIndex, [...this.base, ...path], this.relDocLine);
  }
}

function parseChunk(text: string, file: string): ParsedChunk {
  const out: ParsedChunk = { resources: [], diagnostics: [] };
  const lineCounter = new LineCounter();
  const docs = parseAllDocuments(text, { lineCounter, uniqueKeys: true }) as Document.Parsed[] | { errors: unknown[] };
  if (!Array.isArray(docs)) {
    out.diagnostics.push({ line: 1, message: 'not a YAML stream' });
    return out;
  }
  const source = new ChunkSource(text);
  const lineAt = (offset: number | undefined) => (offset === undefined ? 1 : lineCounter.linePos(offset).line);
  docs.forEach((doc, docIndex) => {
    if (doc.errors.length > 0) {
      for (const e of doc.errors) {
        const first = e.message.split('\n')[0];
        const col = / at line \d+, column (\d+):?$/.exec(first);
        const message = col ? `${first.slice(0, col.index)} (column ${col[1]})` : first;
        out.diagnostics.push({ line: lineAt(e.pos?.[0]), message: `YAML: ${message}` });
      }
      return;
    }
    let value: any;
    try {
      value = doc.toJS({ maxAliasCount: 100 });
    } catch (err) {
      // An alias without its anchor (or an alias bomb) parses but cannot be resolved.
      out.diagnostics.push({ line: lineAt(doc.contents?.range?.[0]), message: `YAML: ${(err as Error).message}` });
      return;
    }
    if (value === null || value === undefined) return;
    const docLine = lineAt(doc.contents?.range?.[0]);
    if (typeof value !== 'object' || Array.isArray(value)) {
      out.diagnostics.push({ line: docLine, message: 'document is not a mapping' });
      return;
    }
    // A `kind: List` wraps items, as `kubectl get -o yaml` writes them.
    if (value.kind === 'List' && Array.isArray(value.items)) {
      value.items.forEach((v: any, i: number) => {
        const node = doc.getIn(['items', i], true) as { range?: [number, number, number] } | undefined;
        out.resources.push(new FileResource(v, file, source, docIndex, ['items', i], node?.range ? lineAt(node.range[0]) : docLine));
      });
    } else out.resources.push(new FileResource(value, file, source, docIndex, [], docLine));
  });
  return out;
}

import { readdirSync, statSync, watch, type FSWatcher } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { formatDiagnostic, hasErrors, type Diagnostic } from './diagnostics.js';
import { isConfigFileName, loadResources, ParseCache, type Resource } from './resources.js';
import { translate } from './translate/index.js';
import type { TranslateOptions } from './translate/context.js';
import type { Snapshot } from './model.js';
import { SnapshotSource } from './snapshot_source.js';
import { logger, stackOf } from '../log.js';
import { performance } from 'node:perf_hooks';

const log = logger('config');

export interface LoadOutcome {
  snapshot?: Snapshot;
  diagnostics: Diagnostic[];
  /** Hash of the files read (see LoadResult.digest). */
  digest?: string;
  /** Milliseconds spent reading and parsing, and translating (validation included). */
  timings?: { parseMs: number; translateMs: number };
  /** The parsed documents, when they were good (the xDS server translates them again per proxy). */
  resources?: Resource[];
}

/** Reads, validates and translates the files; no snapshot when anything is an error. */
export function loadSnapshot(paths: readonly string[], opts: TranslateOptions, version: number, cache?: ParseCache): LoadOutcome {
  const t0 = performance.now();
  const loaded = loadResources(paths, cache);
  const t1 = performance.now();
  if (hasErrors(loaded.diagnostics)) return { diagnostics: loaded.diagnostics, digest: loaded.digest };
  const t = translate(loaded.resources, opts);
  const timings = { parseMs: Math.round(t1 - t0), translateMs: Math.round(performance.now() - t1) };
  const diagnostics = [...loaded.diagnostics, ...t.diagnostics];
  if (hasErrors(diagnostics)) return { diagnostics, digest: loaded.digest, timings };
  return {
    diagnostics,
    digest: loaded.digest,
    timings,
    resources: loaded.resources,
    snapshot: {
      version,
      source: `files:${loaded.files.join(',')}`,
      builtAt: new Date().toISOString(),
      role: t.role,
      mesh: t.mesh,
      listeners: t.listeners,
      routes: t.routes,
      clusters: t.clusters,
      nameTable: t.nameTable,
    },
  };
}

export type { Rejection, SnapshotUpdate } from './snapshot_source.js';

/**
 * Configuration from files and directories, watched. Emits `update` ({snapshot, delta}) for
 * each good change; a bad change is rejected whole (`rejected`), and the last good snapshot
 * stays in force. Directories are watched rather than files so that editors' atomic renames
 * and Kubernetes' `..data` symlink swaps are seen; a slow poll backs the watch up (a watch
 * can silently stop when a mount is replaced). Changes are debounced, a reload whose files
 * are byte-identical does nothing, and only changed files are re-parsed.
 */
export class FileConfigSource extends SnapshotSource {
  private watchers: FSWatcher[] = [];
  private timer: NodeJS.Timeout | undefined;
  private poller: NodeJS.Timeout | undefined;
  private pollSignature = '';
  private appliedDigest = '';
  private readonly cache = new ParseCache();
  /** How long the last good change took on the main thread, by phase (ms). */
  lastTimings: { parseMs: number; translateMs: number; shareMs: number } | undefined;

  constructor(
    private readonly paths: readonly string[],
    private readonly opts: TranslateOptions,
    private readonly debounceMs = 100,
    private readonly pollMs = 2000,
  ) {
    super();
  }

  /** First load: errors are fatal to the caller, since there is no last good config yet. */
  load(): LoadOutcome {
    return this.apply();
  }

  /** Reloads now (also what the watch does after the debounce). */
  reload(): LoadOutcome {
    return this.apply();
  }

  private apply(): LoadOutcome {
    let outcome: LoadOutcome;
    try {
      outcome = loadSnapshot(this.paths, this.opts, this.version + 1, this.cache);
    } catch (err) {
      // A translator bug must not take the last good configuration down with it.
      outcome = { diagnostics: [{ severity: 'error', file: this.paths.join(','), line: 0, resource: '', path: '', message: `internal error: ${stackOf(err)}` }] };
    }
    if (outcome.snapshot && outcome.digest === this.appliedDigest && this.current) {
      this.counts.unchanged++;
      return { ...outcome, snapshot: this.current };
    }
    for (const d of outcome.diagnostics) (d.severity === 'error' ? log.error : log.warn)(formatDiagnostic(d));
    // `files`: a good change on disk, even one that leaves this proxy's snapshot as it was.
    if (outcome.snapshot) this.emit('files', outcome);
    if (outcome.snapshot) {
      const ts = performance.now();
      const { snapshot } = this.accept(outcome.snapshot);
      this.lastTimings = { ...outcome.timings!, shareMs: Math.round(performance.now() - ts) };
      this.appliedDigest = outcome.digest ?? '';
      return { ...outcome, snapshot };
    }
    this.reject(outcome.diagnostics.filter((d) => d.severity === 'error').map(formatDiagnostic));
    return outcome;
  }

  private watchDirs(): string[] {
    const dirs = new Set<string>();
    for (const p of this.paths) {
      const abs = resolve(p);
      let isDir = false;
      try {
        isDir = statSync(abs).isDirectory();
      } catch {
        /* a file being replaced: watch its directory */
      }
      dirs.add(isDir ? abs : dirname(abs));
    }
    return [...dirs];
  }

  watch(): void {
    for (const dir of this.watchDirs()) this.watchDir(dir);
    this.pollSignature = this.signature();
    this.poller = setInterval(() => this.checkForChange(), this.pollMs);
    this.poller.unref();
  }

  /**
   * Reloads only when what the config paths hold changed: a directory event may be about a
   * neighbouring file (a log written next to a config file must not reload it every time).
   */
  private checkForChange(): void {
    const sig = this.signature();
    if (sig === this.pollSignature) return;
    this.pollSignature = sig;
    this.schedule();
  }

  private watchDir(dir: string): void {
    try {
      const w = watch(dir, { persistent: false }, () => this.checkForChange());
      w.on('error', (err) => {
        log.warn(`watch of ${dir} failed: ${err.message}; relying on polling`);
        w.close();
      });
      this.watchers.push(w);
    } catch (err) {
      log.warn(`cannot watch ${dir}: ${(err as Error).message}; relying on polling`);
    }
  }

  /** Names, inodes, sizes and mtimes of what the paths hold: cheap, and it changes whenever content can have. */
  private signature(): string {
    const parts: string[] = [];
    const add = (f: string) => {
      try {
        const st = statSync(f);
        parts.push(`${f}:${st.ino}:${st.size}:${st.mtimeMs}`);
      } catch {
        parts.push(`${f}:missing`);
      }
    };
    for (const p of this.paths) {
      add(p);
      try {
        if (statSync(p).isDirectory()) for (const e of readdirSync(p)) if (isConfigFileName(e)) add(join(p, e));
      } catch {
        /* missing: recorded above */
      }
    }
    return parts.join('|');
  }

  private schedule(): void {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      log.info('configuration changed on disk; reloading');
      this.pollSignature = this.signature();
      this.apply();
    }, this.debounceMs);
    this.timer.unref();
  }

  close(): void {
    clearTimeout(this.timer);
    clearInterval(this.poller);
    for (const w of this.watchers) w.close();
    this.watchers = [];
  }
}

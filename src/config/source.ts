import { EventEmitter } from 'node:events';
import { watch, type FSWatcher } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { statSync } from 'node:fs';
import { formatDiagnostic, hasErrors, type Diagnostic } from './diagnostics.js';
import { loadResources } from './resources.js';
import { translate } from './translate/index.js';
import type { TranslateOptions } from './translate/context.js';
import type { Snapshot } from './model.js';
import { logger } from '../log.js';

const log = logger('config');

export interface LoadOutcome {
  snapshot?: Snapshot;
  diagnostics: Diagnostic[];
}

/** Reads, validates and translates the files; no snapshot when anything is an error. */
export function loadSnapshot(paths: readonly string[], opts: TranslateOptions, version: number): LoadOutcome {
  const loaded = loadResources(paths);
  if (hasErrors(loaded.diagnostics)) return { diagnostics: loaded.diagnostics };
  const t = translate(loaded.resources, opts);
  const diagnostics = [...loaded.diagnostics, ...t.diagnostics];
  if (hasErrors(diagnostics)) return { diagnostics };
  return {
    diagnostics,
    snapshot: {
      version,
      source: `files:${loaded.files.join(',')}`,
      builtAt: new Date().toISOString(),
      mesh: t.mesh,
      listeners: t.listeners,
      clusters: t.clusters,
      nameTable: t.nameTable,
    },
  };
}

export interface Rejection {
  at: string;
  errors: string[];
}

/**
 * Configuration from files and directories, watched. Emits `snapshot` for each good change;
 * a bad change is rejected whole (`rejected`), and the last good snapshot stays in force.
 * Directories are watched rather than files so that editors' atomic renames and Kubernetes'
 * `..data` symlink swaps are seen.
 */
export class FileConfigSource extends EventEmitter {
  private version = 0;
  private watchers: FSWatcher[] = [];
  private timer: NodeJS.Timeout | undefined;
  current: Snapshot | undefined;
  lastRejected: Rejection | undefined;

  constructor(
    private readonly paths: readonly string[],
    private readonly opts: TranslateOptions,
    private readonly debounceMs = 100,
  ) {
    super();
  }

  /** First load: errors are fatal to the caller, since there is no last good config yet. */
  load(): LoadOutcome {
    return this.apply();
  }

  private apply(): LoadOutcome {
    const outcome = loadSnapshot(this.paths, this.opts, this.version + 1);
    for (const d of outcome.diagnostics) (d.severity === 'error' ? log.error : log.warn)(formatDiagnostic(d));
    if (outcome.snapshot) {
      this.version = outcome.snapshot.version;
      this.current = outcome.snapshot;
      this.emit('snapshot', outcome.snapshot);
    } else {
      this.lastRejected = { at: new Date().toISOString(), errors: outcome.diagnostics.filter((d) => d.severity === 'error').map(formatDiagnostic) };
      this.emit('rejected', this.lastRejected);
    }
    return outcome;
  }

  watch(): void {
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
    for (const dir of dirs) {
      const w = watch(dir, { persistent: false }, () => this.schedule());
      w.on('error', (err) => log.warn(`watch of ${dir} failed: ${err.message}`));
      this.watchers.push(w);
    }
  }

  private schedule(): void {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      log.info('configuration changed on disk; reloading');
      this.apply();
    }, this.debounceMs);
    this.timer.unref();
  }

  close(): void {
    clearTimeout(this.timer);
    for (const w of this.watchers) w.close();
    this.watchers = [];
  }
}

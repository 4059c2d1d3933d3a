import { readFileSync, unwatchFile, watchFile } from 'node:fs';

/** How often watched certificate files are checked (stat only). Istio's agent reacts to file events within about a second too. */
const POLL_MS = 1000;

/**
 * A set of PEM files read together and watched by polling `stat`, which follows Kubernetes'
 * `..data` symlink swaps and files that appear later, unlike a directory watch. A change is
 * applied only when `accept` takes the new contents (e.g. a key that matches its certificate),
 * so a rotation caught half-written keeps the last good set until the next change.
 */
export class PemFiles<T> {
  private value: T | undefined;
  private error: string | undefined;
  private watching = false;
  private readonly onChange = () => this.load();

  constructor(
    readonly paths: readonly string[],
    private readonly accept: (contents: string[]) => T,
  ) {
    this.load();
  }

  /** The last good contents, as `accept` made them; undefined until all files were read once. */
  get current(): T | undefined {
    return this.value;
  }

  /** Why the files could not be used (missing, unreadable, rejected), for logs. */
  get lastError(): string | undefined {
    return this.error;
  }

  /** Starts polling (not keeping the thread alive). */
  watch(): this {
    if (this.watching) return this;
    this.watching = true;
    for (const p of this.paths) watchFile(p, { interval: POLL_MS, persistent: false }, this.onChange);
    return this;
  }

  close(): void {
    if (!this.watching) return;
    this.watching = false;
    for (const p of this.paths) unwatchFile(p, this.onChange);
  }

  /** Reads and accepts the files now (also what the watcher does). Returns whether they were taken. */
  load(): boolean {
    try {
      const next = this.accept(this.paths.map((p) => readFileSync(p, 'utf8')));
      this.value = next;
      this.error = undefined;
      return true;
    } catch (err) {
      this.error = (err as Error).message;
      return false;
    }
  }
}

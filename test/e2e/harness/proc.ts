import { spawn as spawnChild, type ChildProcess } from 'node:child_process';

/** What a finished command left behind. */
export interface ExecResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  stdoutBuf: Buffer;
}

export interface RunOptions {
  input?: string | Buffer;
  /** Kill the command (SIGKILL) after this long; default 20 s. */
  timeoutMs?: number;
  env?: NodeJS.ProcessEnv;
  /** Throw when the exit code is not 0 (default true). */
  check?: boolean;
}

export class CommandError extends Error {
  constructor(
    readonly argv: readonly string[],
    readonly result: ExecResult,
  ) {
    super(
      `command failed (${result.signal ?? `exit ${result.code}`}): ${argv.join(' ')}` +
        (result.stderr.trim() ? `\nstderr: ${result.stderr.trim().slice(-2000)}` : '') +
        (result.stdout.trim() ? `\nstdout: ${result.stdout.trim().slice(-1000)}` : ''),
    );
  }
}

/** Runs a command to completion (no shell), capturing its output. */
export function run(argv: readonly string[], opts: RunOptions = {}): Promise<ExecResult> {
  return new Promise((resolve, reject) => {
    const child = spawnChild(argv[0], argv.slice(1), { stdio: ['pipe', 'pipe', 'pipe'], env: opts.env ?? process.env });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.stderr.on('data', (b: Buffer) => err.push(b));
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 20_000);
    child.once('error', (e) => {
      clearTimeout(timer);
      reject(new Error(`cannot run ${argv[0]}: ${e.message}`));
    });
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      const stdoutBuf = Buffer.concat(out);
      const result: ExecResult = { code, signal, stdout: stdoutBuf.toString('utf8'), stderr: Buffer.concat(err).toString('utf8'), stdoutBuf };
      if ((opts.check ?? true) && code !== 0) reject(new CommandError(argv, result));
      else resolve(result);
    });
    child.stdin.on('error', () => {
      /* the command may exit without reading its input */
    });
    child.stdin.end(opts.input ?? '');
  });
}

export interface ExitStatus {
  code: number | null;
  signal: NodeJS.Signals | null;
}

const MAX_KEPT = 256 * 1024;

/**
 * A long-running process (server, proxy, streaming client). Its output is kept (the last
 * 256 KiB of each stream) so a failing test can show it, and stdout can be read as lines.
 */
export class Proc {
  readonly pid: number;
  readonly exited: Promise<ExitStatus>;
  private stdoutText = '';
  private stderrText = '';
  private lineWaiters: { test: (line: string) => boolean; resolve: (line: string) => void }[] = [];
  private lines: string[] = [];
  private partial = '';
  private status: ExitStatus | undefined;

  constructor(
    readonly label: string,
    readonly argv: readonly string[],
    private readonly child: ChildProcess,
  ) {
    if (child.pid === undefined) throw new Error(`cannot start ${argv.join(' ')}`);
    this.pid = child.pid;
    child.stdout!.setEncoding('utf8');
    child.stderr!.setEncoding('utf8');
    child.stdout!.on('data', (s: string) => this.onStdout(s));
    child.stderr!.on('data', (s: string) => (this.stderrText = keepTail(this.stderrText + s)));
    this.exited = new Promise((resolve) => {
      child.once('close', (code, signal) => {
        this.status = { code, signal };
        resolve(this.status);
      });
    });
  }

  static start(label: string, argv: readonly string[], env?: NodeJS.ProcessEnv): Proc {
    const child = spawnChild(argv[0], argv.slice(1), { stdio: ['pipe', 'pipe', 'pipe'], env: env ?? process.env });
    child.stdin!.on('error', () => {});
    child.once('error', () => {});
    return new Proc(label, argv, child);
  }

  get running(): boolean {
    return this.status === undefined;
  }

  get exitStatus(): ExitStatus | undefined {
    return this.status;
  }

  get stdout(): string {
    return this.stdoutText;
  }

  get stderr(): string {
    return this.stderrText;
  }

  /** Complete stdout lines so far. */
  get stdoutLines(): readonly string[] {
    return this.lines;
  }

  /** stdout lines that parse as JSON objects. */
  jsonLines<T = Record<string, unknown>>(): T[] {
    const out: T[] = [];
    for (const l of this.lines) {
      if (!l.startsWith('{')) continue;
      try {
        out.push(JSON.parse(l) as T);
      } catch {
        /* not JSON */
      }
    }
    return out;
  }

  write(data: string | Buffer): void {
    this.child.stdin!.write(data);
  }

  endInput(): void {
    this.child.stdin!.end();
  }

  signal(sig: NodeJS.Signals): void {
    if (this.running) {
      try {
        process.kill(this.pid, sig);
      } catch {
        /* already gone */
      }
    }
  }

  /** Sends `sig`, waits up to `graceMs`, then SIGKILL; resolves to how it ended. */
  async stop(sig: NodeJS.Signals = 'SIGTERM', graceMs = 3000): Promise<ExitStatus> {
    if (!this.running) return this.status!;
    this.signal(sig);
    const t = setTimeout(() => this.signal('SIGKILL'), graceMs);
    const st = await this.exited;
    clearTimeout(t);
    return st;
  }

  /** Resolves with the first stdout line (past or future) that passes `test`. */
  waitForLine(test: RegExp | ((line: string) => boolean), timeoutMs = 20_000): Promise<string> {
    const fn = typeof test === 'function' ? test : (l: string) => test.test(l);
    const seen = this.lines.find(fn);
    if (seen !== undefined) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const waiter = { test: fn, resolve: (l: string) => (clearTimeout(timer), resolve(l)) };
      const timer = setTimeout(() => {
        this.lineWaiters = this.lineWaiters.filter((w) => w !== waiter);
        reject(new Error(`${this.label}: no stdout line matching ${test} within ${timeoutMs} ms${this.running ? '' : ` (exited: ${JSON.stringify(this.status)})`}\n${this.describe()}`));
      }, timeoutMs);
      this.lineWaiters.push(waiter);
      void this.exited.then(() => {
        // Give the last 'data' events a turn before giving up on an exited process.
        setTimeout(() => {
          if (this.lineWaiters.includes(waiter)) {
            this.lineWaiters = this.lineWaiters.filter((w) => w !== waiter);
            clearTimeout(timer);
            reject(new Error(`${this.label}: exited (${JSON.stringify(this.status)}) without a stdout line matching ${test}\n${this.describe()}`));
          }
        }, 50);
      });
    });
  }

  /** Label, command, exit status and output tails, for failure messages. */
  describe(maxChars = 4000): string {
    const tail = (s: string) => (s.length > maxChars ? '…' + s.slice(-maxChars) : s);
    return [
      `--- ${this.label} (pid ${this.pid}${this.status ? `, exited ${JSON.stringify(this.status)}` : ', running'}): ${this.argv.join(' ')}`,
      this.stdoutText ? `stdout:\n${tail(this.stdoutText)}` : 'stdout: (empty)',
      this.stderrText ? `stderr:\n${tail(this.stderrText)}` : 'stderr: (empty)',
    ].join('\n');
  }

  private onStdout(s: string): void {
    this.stdoutText = keepTail(this.stdoutText + s);
    const parts = (this.partial + s).split('\n');
    this.partial = parts.pop()!;
    for (const line of parts) {
      this.lines.push(line);
      for (const w of [...this.lineWaiters]) {
        if (w.test(line)) {
          this.lineWaiters = this.lineWaiters.filter((x) => x !== w);
          w.resolve(line);
        }
      }
    }
  }
}

function keepTail(s: string): string {
  return s.length > MAX_KEPT ? s.slice(-MAX_KEPT) : s;
}

/** Polls `probe` until it returns a value other than undefined, or fails after `timeoutMs`. */
export async function eventually<T>(what: string, probe: () => Promise<T | undefined> | T | undefined, timeoutMs = 10_000, everyMs = 50): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const v = await probe();
      if (v !== undefined) return v;
    } catch (err) {
      lastError = err;
    }
    if (Date.now() >= deadline) {
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${lastError ? `: ${(lastError as Error).message}` : ''}`);
    }
    await sleep(everyMs);
  }
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

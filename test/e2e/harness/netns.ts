import { spawnSync } from 'node:child_process';
import { randomBytes, randomInt } from 'node:crypto';
import { Proc, run, type ExecResult, type RunOptions } from './proc.js';
import { requireE2eEnvironment } from './root.js';

/** The part of ava's ExecutionContext the harness uses (so helpers work with any test). */
export interface TestContext {
  teardown(fn: () => unknown): void;
  log(...values: unknown[]): void;
  readonly passed: boolean;
  readonly title: string;
}

export interface UserOptions {
  /** Run as this uid (via `setpriv`); root when absent. */
  uid?: number;
  /** Group (default: same as uid). */
  gid?: number;
  /** Capabilities kept after the uid change (ambient), e.g. `net_admin` for a TPROXY sidecar. */
  caps?: string[];
}

export type NsExecOptions = RunOptions & UserOptions;

export interface SpawnOptions extends UserOptions {
  label?: string;
  env?: NodeJS.ProcessEnv;
}

/** An address on one end of a veth pair. */
export interface LinkEnd {
  ns: Netns;
  ifname: string;
  ip: string;
}

export interface Link {
  a: LinkEnd;
  b: LinkEnd;
  /** e.g. 10.201.17.0/24 */
  subnet: string;
  prefixLength: number;
}

/** Namespaces not yet destroyed, for the last-resort cleanup when the test process exits. */
const live = new Set<Netns>();
let exitHook = false;

/**
 * If a test process ends without running teardowns (a timeout, an uncaught error), delete
 * what it made anyway: SIGKILL everything inside each namespace, then the namespace.
 */
function installExitHook(): void {
  if (exitHook) return;
  exitHook = true;
  process.once('exit', () => {
    for (const ns of live) {
      const pids = spawnSync('ip', ['netns', 'pids', ns.name], { encoding: 'utf8' }).stdout ?? '';
      for (const pid of [...ns.processes.map((p) => p.pid), ...pids.split(/\s+/).filter(Boolean).map(Number)]) {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          /* gone */
        }
      }
      spawnSync('ip', ['netns', 'del', ns.name]);
    }
  });
}

/** Drops privileges for a command: uid/gid, no supplementary groups (util-linux setpriv). */
export function asUser(opts: UserOptions): string[] {
  if (opts.uid === undefined) return [];
  const gid = opts.gid ?? opts.uid;
  const caps = opts.caps?.length ? [`--inh-caps=${opts.caps.map((c) => `+${c}`).join(',')}`, `--ambient-caps=${opts.caps.map((c) => `+${c}`).join(',')}`] : [];
  return ['setpriv', `--reuid=${opts.uid}`, `--regid=${gid}`, '--clear-groups', ...caps];
}

/**
 * A network namespace made for one test (`legate-<purpose>-<random>`), with `lo` up. Every
 * process spawned through it is killed, and the namespace (with its veth ends) deleted, in
 * the test's teardown — also when the test fails or throws.
 */
export class Netns {
  private readonly procs: Proc[] = [];
  private ifCount = 0;
  private deleted = false;

  private constructor(
    private readonly t: TestContext,
    readonly name: string,
    readonly purpose: string,
  ) {}

  static async create(t: TestContext, purpose: string): Promise<Netns> {
    await requireE2eEnvironment();
    const safe = purpose.replace(/[^a-z0-9]/gi, '').toLowerCase().slice(0, 16) || 'ns';
    const ns = new Netns(t, `legate-${safe}-${randomBytes(4).toString('hex')}`, purpose);
    installExitHook();
    await run(['ip', 'netns', 'add', ns.name]);
    live.add(ns);
    t.teardown(() => ns.destroy());
    await ns.exec(['ip', 'link', 'set', 'lo', 'up']);
    return ns;
  }

  /** Runs a command inside the namespace to completion (as root unless uid is given). */
  exec(argv: readonly string[], opts: NsExecOptions = {}): Promise<ExecResult> {
    return run(this.wrap(argv, opts), opts);
  }

  /** Starts a long-running command inside the namespace; it is killed at teardown. */
  spawn(argv: readonly string[], opts: SpawnOptions = {}): Proc {
    const proc = Proc.start(opts.label ?? `${this.purpose}:${argv[0].split('/').pop()}`, this.wrap(argv, opts), opts.env);
    this.procs.push(proc);
    return proc;
  }

  /** Processes spawned through this namespace so far (for failure reports). */
  get processes(): readonly Proc[] {
    return this.procs;
  }

  /** A fresh interface name inside this namespace: eth0, eth1, … */
  nextIfname(): string {
    return `eth${this.ifCount++}`;
  }

  /**
   * Joins two namespaces with a veth pair on a /24 picked at random from 10.64–250.x.0
   * (only ever configured inside the two namespaces): `a` gets .1, `b` gets .2.
   */
  static async link(a: Netns, b: Netns, subnet?: string): Promise<Link> {
    const base = subnet ?? `10.${randomInt(64, 251)}.${randomInt(0, 256)}.0`;
    const prefix = base.split('.').slice(0, 3).join('.');
    const ifA = a.nextIfname();
    const ifB = b.nextIfname();
    await run(['ip', '-n', a.name, 'link', 'add', ifA, 'type', 'veth', 'peer', 'name', ifB, 'netns', b.name]);
    const ends: [Netns, string, string][] = [
      [a, ifA, `${prefix}.1`],
      [b, ifB, `${prefix}.2`],
    ];
    for (const [ns, ifname, ip] of ends) {
      await ns.exec(['ip', 'addr', 'add', `${ip}/24`, 'dev', ifname]);
      await ns.exec(['ip', 'link', 'set', ifname, 'up']);
    }
    return { a: { ns: a, ifname: ifA, ip: `${prefix}.1` }, b: { ns: b, ifname: ifB, ip: `${prefix}.2` }, subnet: `${prefix}.0/24`, prefixLength: 24 };
  }

  /** `ip route add <dst> via <gateway>` inside the namespace (dst may be `default`). */
  async addRoute(dst: string, via: string): Promise<void> {
    await this.exec(['ip', 'route', 'add', dst, 'via', via]);
  }

  /** Kills (SIGKILL) what was spawned here, anything else left inside, and deletes the namespace. */
  async destroy(): Promise<void> {
    if (this.deleted) return;
    this.deleted = true;
    // A failing test shows what every process in the namespace printed.
    if (!this.t.passed) for (const p of this.procs) this.t.log(p.describe());
    // No grace: a test that wants a graceful stop (the proxy's drain) does it itself.
    await Promise.all(this.procs.map((p) => p.stop('SIGKILL')));
    // Anything else still inside (a client started with exec that outlived its timeout, …).
    const left = await run(['ip', 'netns', 'pids', this.name], { check: false });
    for (const pid of left.stdout.split(/\s+/).filter(Boolean).map(Number)) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        /* gone */
      }
    }
    await run(['ip', 'netns', 'del', this.name], { check: false });
    live.delete(this);
  }

  private wrap(argv: readonly string[], opts: UserOptions): string[] {
    return ['ip', 'netns', 'exec', this.name, ...asUser(opts), ...argv];
  }
}

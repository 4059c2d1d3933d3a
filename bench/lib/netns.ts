import { execFileSync } from 'node:child_process';

/**
 * The network namespace the benchmark runs in, and its iptables rules. Legate is a
 * transparent sidecar: traffic reaches 15001 only through a nat OUTPUT REDIRECT, and the
 * proxy runs as uid 1337 so its own upstream connections are not captured. Every target,
 * not only Legate, is reached through a REDIRECT from a VIP so that all rows pay the same
 * NAT cost. Kept in one module so that it can be swapped for the project's shared netns
 * harness (and `legate iptables`) later.
 */

export const PROXY_UID = 1337;
/** Legate's ServiceEntries use this VIP; the capture rule covers LEGATE_VIP_RANGE. */
export const LEGATE_VIP = '240.240.0.1';
const LEGATE_VIP_RANGE = '240.240.0.0/16';
/** Peers and "direct" are reached at this VIP, each port redirected to the target's own port. */
export const PEER_VIP = '240.240.1.1';
const CAPTURE_PORT = '15001';

const run = (cmd: string, args: string[]) => execFileSync(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] }).toString();

function tryRun(cmd: string, args: string[]): void {
  try {
    run(cmd, args);
  } catch {
    /* best effort */
  }
}

/** Creates the namespace with loopback up, the VIP route and the capture rule. Root only. */
export function createNetns(name: string): void {
  deleteNetns(name);
  run('ip', ['netns', 'add', name]);
  try {
    const inNs = (cmd: string, args: string[]) => run('ip', ['netns', 'exec', name, cmd, ...args]);
    inNs('ip', ['link', 'set', 'lo', 'up']);
    // `src 127.0.0.1`: without it the client's source address would be 0.0.0.0 and replies would go nowhere.
    inNs('ip', ['route', 'add', LEGATE_VIP_RANGE, 'dev', 'lo', 'src', '127.0.0.1']);
    inNs('iptables', ['-t', 'nat', '-A', 'OUTPUT', '-p', 'tcp', '-d', LEGATE_VIP_RANGE, '-m', 'owner', '!', '--uid-owner', String(PROXY_UID), '-j', 'REDIRECT', '--to-ports', CAPTURE_PORT]);
    // Connection-rate runs open thousands of connections per second. The ephemeral range stays
    // above every port the harness listens on (15000–15090, 18080–18100): a client socket that
    // happened to take 15001 would make the next proxy's bind() fail.
    inNs('sysctl', ['-q', '-w', 'net.ipv4.ip_local_port_range=20000 65000']);
    inNs('sysctl', ['-q', '-w', 'net.ipv4.tcp_tw_reuse=1']);
    inNs('sysctl', ['-q', '-w', 'net.core.somaxconn=8192']);
    tryRun('ip', ['netns', 'exec', name, 'sysctl', '-q', '-w', 'net.netfilter.nf_conntrack_tcp_timeout_time_wait=1']);
  } catch (err) {
    deleteNetns(name);
    throw err;
  }
}

/** Pids of processes still inside the namespace (ours: nothing else runs in it). */
export function netnsPids(name: string): number[] {
  try {
    return run('ip', ['netns', 'pids', name]).split(/\s+/).filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

export function deleteNetns(name: string): void {
  for (const pid of netnsPids(name)) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      /* already gone */
    }
  }
  tryRun('ip', ['netns', 'del', name]);
}

/** The command prefix that runs a program inside the namespace. */
export function inNetns(name: string, argv: string[]): string[] {
  return ['ip', 'netns', 'exec', name, ...argv];
}

/** Called from inside the namespace: VIP:port (PEER_VIP) → 127.0.0.1:toPort for everyone. */
export function addPeerRedirect(vipPort: number, toPort: number): () => void {
  const spec = ['OUTPUT', '-p', 'tcp', '-d', PEER_VIP, '--dport', String(vipPort), '-j', 'REDIRECT', '--to-ports', String(toPort)];
  run('iptables', ['-t', 'nat', '-I', ...spec.slice(0, 1), '1', ...spec.slice(1)]);
  return () => tryRun('iptables', ['-t', 'nat', '-D', ...spec]);
}

/** The command prefix that runs a program as the proxy's uid (excluded from capture). */
export function asProxyUser(argv: string[]): string[] {
  return ['setpriv', `--reuid=${PROXY_UID}`, `--regid=${PROXY_UID}`, '--clear-groups', ...argv];
}

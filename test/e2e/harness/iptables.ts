import { join } from 'node:path';
import type { Netns } from './netns.js';
import { NODE, REPO_ROOT } from './programs.js';

/** The istio-iptables settings the harness captures a pod with (Istio's sidecar defaults). */
export interface CaptureOptions {
  /** -p */
  outboundPort: number;
  /** -z */
  inboundPort: number;
  /** -u / -g */
  proxyUid: number;
  proxyGid: number;
  /** -m */
  mode: 'REDIRECT' | 'TPROXY';
  /** -i: outbound IP ranges captured */
  includeOutboundRanges: string;
  /** -b: inbound ports captured */
  includeInboundPorts: string;
  /** -d: inbound ports not captured */
  excludeInboundPorts: number[];
  /** More `legate iptables` flags (-x, -o, -q, --dns-capture, …). */
  extraArgs: string[];
}

export const DEFAULT_CAPTURE: CaptureOptions = {
  outboundPort: 15001,
  inboundPort: 15006,
  proxyUid: 1337,
  proxyGid: 1337,
  mode: 'REDIRECT',
  includeOutboundRanges: '*',
  includeInboundPorts: '*',
  excludeInboundPorts: [15090, 15021, 15020],
  extraArgs: [],
};

/** The `legate iptables` command line for these options (istio-iptables flags). */
export function captureArgv(opts: Partial<CaptureOptions> = {}): string[] {
  const o = { ...DEFAULT_CAPTURE, ...opts };
  return [
    NODE,
    join(REPO_ROOT, 'bin/legate.js'),
    'iptables',
    '-p', String(o.outboundPort),
    '-z', String(o.inboundPort),
    '-u', String(o.proxyUid),
    '-g', String(o.proxyGid),
    '-m', o.mode,
    '-i', o.includeOutboundRanges,
    '-b', o.includeInboundPorts,
    '-d', o.excludeInboundPorts.join(','),
    ...o.extraArgs,
  ];
}

/**
 * Installs the sidecar's traffic capture inside `ns` with the project's own `legate iptables`
 * (run as root in the namespace, as istio-init runs) — the one place the e2e tests apply
 * iptables rules. Returns the nat table as `iptables-save` prints it, for failure reports.
 */
export async function applyCapture(ns: Netns, opts: Partial<CaptureOptions> = {}): Promise<string> {
  await ns.exec(captureArgv(opts));
  return (await ns.exec(['iptables-save', '-t', 'nat'])).stdout;
}

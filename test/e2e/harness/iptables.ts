import type { Netns } from './netns.js';

/** The istio-iptables settings the harness captures a pod with (Istio's defaults). */
export interface CaptureOptions {
  outboundPort: number;
  inboundPort: number;
  proxyUid: number;
  proxyGid: number;
  /** Inbound ports not captured (-d). */
  excludeInboundPorts: number[];
}

export const DEFAULT_CAPTURE: CaptureOptions = {
  outboundPort: 15001,
  inboundPort: 15006,
  proxyUid: 1337,
  proxyGid: 1337,
  excludeInboundPorts: [15090, 15021, 15020],
};

/**
 * TEMPORARY, until `legate iptables` lands (branch `iptables`): Istio's REDIRECT rules as
 * istio-init writes them (seeds/002), applied with iptables-restore. The one caller is
 * applyCapture() below; it switches to the project's command when that exists.
 */
function istioRules(o: CaptureOptions): string {
  return [
    '*nat',
    '-N ISTIO_REDIRECT',
    '-N ISTIO_IN_REDIRECT',
    '-N ISTIO_INBOUND',
    '-N ISTIO_OUTPUT',
    `-A ISTIO_REDIRECT -p tcp -j REDIRECT --to-ports ${o.outboundPort}`,
    `-A ISTIO_IN_REDIRECT -p tcp -j REDIRECT --to-ports ${o.inboundPort}`,
    '-A PREROUTING -p tcp -j ISTIO_INBOUND',
    ...o.excludeInboundPorts.map((p) => `-A ISTIO_INBOUND -p tcp --dport ${p} -j RETURN`),
    '-A ISTIO_INBOUND -p tcp -j ISTIO_IN_REDIRECT',
    '-A OUTPUT -p tcp -j ISTIO_OUTPUT',
    '-A ISTIO_OUTPUT -o lo -s 127.0.0.6/32 -j RETURN',
    `-A ISTIO_OUTPUT -o lo ! -d 127.0.0.1/32 -m owner --uid-owner ${o.proxyUid} -j ISTIO_IN_REDIRECT`,
    `-A ISTIO_OUTPUT -o lo -m owner ! --uid-owner ${o.proxyUid} -j RETURN`,
    `-A ISTIO_OUTPUT -m owner --uid-owner ${o.proxyUid} -j RETURN`,
    `-A ISTIO_OUTPUT -o lo ! -d 127.0.0.1/32 -m owner --gid-owner ${o.proxyGid} -j ISTIO_IN_REDIRECT`,
    `-A ISTIO_OUTPUT -o lo -m owner ! --gid-owner ${o.proxyGid} -j RETURN`,
    `-A ISTIO_OUTPUT -m owner --gid-owner ${o.proxyGid} -j RETURN`,
    '-A ISTIO_OUTPUT -d 127.0.0.1/32 -j RETURN',
    '-A ISTIO_OUTPUT -j ISTIO_REDIRECT',
    'COMMIT',
    '',
  ].join('\n');
}

/**
 * Installs the sidecar's traffic capture inside `ns` — the one place the e2e tests apply
 * iptables rules. Returns the rules as `iptables-save` prints them, for failure reports.
 */
export async function applyCapture(ns: Netns, opts: Partial<CaptureOptions> = {}): Promise<string> {
  const o = { ...DEFAULT_CAPTURE, ...opts };
  await ns.exec(['iptables-restore', '--noflush'], { input: istioRules(o) });
  return (await ns.exec(['iptables-save', '-t', 'nat'])).stdout;
}

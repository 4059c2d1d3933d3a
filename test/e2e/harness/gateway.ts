import type { TestContext } from './netns.js';
import { Pod, type ProxyStartOptions } from './pod.js';
import type { RemoteHost } from './remote.js';

export interface GatewayPodOptions {
  /** The gateway's own labels (`--proxy-labels`), which Gateway selectors are matched against. */
  labels: Record<string, string>;
  /** Istio YAML documents the router reads (a function: of `remote` once joined, for endpoint addresses). */
  config: string[] | ((remote: RemoteHost) => string[]);
  proxy?: ProxyStartOptions;
}

/**
 * An ingress or egress gateway: a namespace joined to `remote` like a pod but without
 * capture, running `legate proxy router` as uid 1337. Like Istio's gateway pods it may bind
 * ports below 1024, and `remote` forwards between its links, so captured pods on the same
 * remote host reach the gateway (the egress pattern) and the remote host reaches it as a client.
 */
export async function gatewayPod(t: TestContext, remote: RemoteHost, o: GatewayPodOptions): Promise<Pod> {
  const gw = await Pod.create(t, { remote, purpose: 'gw', capture: false });
  await gw.ns.exec(['sysctl', '-qw', 'net.ipv4.ip_unprivileged_port_start=0']);
  await remote.ns.exec(['sysctl', '-qw', 'net.ipv4.ip_forward=1']);
  gw.writeConfig(...(typeof o.config === 'function' ? o.config(remote) : o.config));
  const labels = Object.entries(o.labels).map(([k, v]) => `${k}=${v}`).join(',');
  await gw.startProxy({ concurrency: 1, ...o.proxy, mode: 'router', args: ['--proxy-labels', labels, ...(o.proxy?.args ?? [])] });
  return gw;
}

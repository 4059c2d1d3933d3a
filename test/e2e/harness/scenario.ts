import type { TestContext } from './netns.js';
import { Pod, type ProxyStartOptions } from './pod.js';
import { RemoteHost } from './remote.js';
import type { TcpMode, TestServer } from './servers.js';

export interface PodWithRemoteOptions {
  /** The proxy's YAML documents; a function when they need the remote host's address. */
  config: string[] | ((remote: RemoteHost) => string[]);
  proxy?: ProxyStartOptions;
  /** TCP servers on the remote host (default: echo on 7000, digest on 7001). */
  tcp?: { port: number; mode: TcpMode }[];
  /** An HTTP server on the remote host, on this port. */
  http?: number;
}

export interface PodWithRemote {
  pod: Pod;
  remote: RemoteHost;
  tcp: TestServer;
  http?: TestServer;
}

export const ECHO_PORT = 7000;
export const DIGEST_PORT = 7001;

/** The usual start of a sidecar e2e test: remote host with servers, captured pod, proxy ready. */
export async function podWithRemote(t: TestContext, o: PodWithRemoteOptions): Promise<PodWithRemote> {
  const remote = await RemoteHost.create(t);
  const pod = await Pod.create(t, { remote });
  const [tcp, http] = await Promise.all([
    remote.tcpServer(o.tcp ?? [
      { port: ECHO_PORT, mode: 'echo' },
      { port: DIGEST_PORT, mode: 'digest' },
    ]),
    o.http === undefined ? undefined : remote.httpServer(o.http),
  ]);
  pod.writeConfig(...(typeof o.config === 'function' ? o.config(remote) : o.config));
  await pod.startProxy(o.proxy);
  return { pod, remote, tcp, http };
}

import { Netns, type TestContext } from './netns.js';
import { startHttpServer, startTcpServer, type TcpMode, type TestServer } from './servers.js';

/**
 * A host outside the pod: its own namespace, joined to pods by veth (Pod.create does the
 * joining), running real upstream servers as root.
 */
export class RemoteHost {
  /** Address of this host on its first link (set when a pod is joined to it). */
  ip = '';

  private constructor(
    readonly t: TestContext,
    readonly ns: Netns,
  ) {}

  static async create(t: TestContext, purpose = 'remote'): Promise<RemoteHost> {
    return new RemoteHost(t, await Netns.create(t, purpose));
  }

  /** TCP servers (echo / digest) on the given ports, listening on every address of this host. */
  tcpServer(listens: { port: number; mode: TcpMode }[]): Promise<TestServer> {
    return startTcpServer(this.ns, listens);
  }

  /**
   * programs/http_server on `port` (every address of this host); `name` tells several apart,
   * `keepAliveMs` is how long it keeps an idle keep-alive connection (Node adds 1 s), `idleCloseMs` closes one exactly that long after its last answer.
   */
  httpServer(port: number, name?: string, opts: { keepAliveMs?: number; idleCloseMs?: number } = {}): Promise<TestServer> {
    return startHttpServer(this.ns, port, { name, ...opts });
  }
}

import { Flag } from '../../network/http_connection_manager/stream_info.js';
import { VIRTUAL_INBOUND } from '../../../config/model.js';
import type { ConnectionContext } from '../../../listener/connection.js';

/**
 * Istio's TCP metrics for one tcp_proxy connection: opened when the upstream connects, and
 * closed with the bytes the downstream sent and received when it closes (both on the same
 * label set). A connection that never reached an upstream is opened and closed at once with
 * its response flag (NC no cluster, UH no healthy host, UF connect failure or timeout).
 */
export class TcpIstioStats {
  private opened = false;
  /** The server side of mTLS: connection_security_policy="mutual_tls". */
  private readonly mutualTls: boolean;

  private constructor(
    private readonly ctx: ConnectionContext,
    private readonly peer: number,
  ) {
    this.mutualTls = ctx.listenerName === VIRTUAL_INBOUND && ctx.tls?.peerPrincipal !== undefined;
  }

  static for(ctx: ConnectionContext, cluster: string): TcpIstioStats | undefined {
    const istio = ctx.worker.statIndex.istio;
    if (!istio || !ctx.worker.stats.istio) return undefined;
    const peer = istio.peers[cluster] ?? istio.noCluster[ctx.listenerName === VIRTUAL_INBOUND ? 'destination' : 'source'];
    return new TcpIstioStats(ctx, peer);
  }

  connected(): void {
    this.opened = true;
    this.ctx.worker.stats.istio!.tcpOpened(this.peer, 0, this.mutualTls);
  }

  /** `failure`: why no upstream was reached (0 once connected). */
  closed(sent: number, received: number, failure: Flag.NC | Flag.UH | Flag.UF | Flag.UO | 0): void {
    const istio = this.ctx.worker.stats.istio!;
    const flags = this.opened ? 0 : failure || Flag.UF;
    if (!this.opened) istio.tcpOpened(this.peer, flags, this.mutualTls);
    istio.tcpClosed(this.peer, flags, sent, received, this.mutualTls);
  }
}

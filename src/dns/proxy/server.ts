import { Buffer } from 'node:buffer';
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { createServer, isIP, type Server, type Socket } from 'node:net';
import { once } from 'node:events';
import { logger } from '../../log.js';
import type { DnsQueryHandler } from './handler.js';

const log = logger('dns');
const TCP_IDLE_MS = 30_000;

/**
 * The DNS proxy's sockets: UDP and TCP on one address and port (Istio's 127.0.0.1:15053,
 * where `legate iptables --dns-capture` redirects the pod's port-53 traffic). TCP carries
 * length-prefixed messages; several may be in flight on one connection (RFC 7766).
 */
export class DnsProxyServer {
  private udp: UdpSocket | undefined;
  private tcp: Server | undefined;
  private readonly conns = new Set<Socket>();

  constructor(
    private readonly handler: DnsQueryHandler,
    readonly address: string,
    private port: number,
  ) {}

  async start(): Promise<void> {
    const udp = createSocket({ type: isIP(this.address) === 6 ? 'udp6' : 'udp4', recvBufferSize: 1 << 22, sendBufferSize: 1 << 22 });
    udp.on('message', (msg, rinfo) => {
      this.handler.handle(msg, 'udp').then(
        (reply) => reply && udp.send(reply, rinfo.port, rinfo.address),
        (err) => log.error(`DNS query failed: ${(err as Error).message}`),
      );
    });
    udp.on('error', (err) => log.error(`DNS proxy UDP socket: ${err.message}`));
    udp.bind(this.port, this.address);
    await once(udp, 'listening');
    this.udp = udp;
    this.port = udp.address().port;
    const tcp = createServer((s) => this.onTcp(s));
    tcp.listen(this.port, this.address);
    await once(tcp, 'listening');
    this.tcp = tcp;
    log.info(`DNS proxy listening on ${this.address}:${this.port} (udp, tcp)`);
  }

  get boundPort(): number {
    return this.port;
  }

  private onTcp(s: Socket): void {
    this.conns.add(s);
    s.setTimeout(TCP_IDLE_MS, () => s.destroy());
    s.on('close', () => this.conns.delete(s));
    s.on('error', () => {});
    let buf: Buffer = Buffer.alloc(0);
    s.on('data', (chunk: Buffer) => {
      buf = buf.length === 0 ? chunk : Buffer.concat([buf, chunk]);
      while (buf.length >= 2 && buf.length >= 2 + buf.readUInt16BE(0)) {
        const msg = buf.subarray(2, 2 + buf.readUInt16BE(0));
        buf = buf.subarray(2 + msg.length);
        this.handler.handle(Buffer.from(msg), 'tcp').then(
          (reply) => {
            if (!reply || s.destroyed) return;
            const len = Buffer.alloc(2);
            len.writeUInt16BE(reply.length);
            s.write(Buffer.concat([len, reply]));
          },
          (err) => log.error(`DNS query failed: ${(err as Error).message}`),
        );
      }
    });
  }

  async close(): Promise<void> {
    this.udp?.close();
    for (const s of this.conns) s.destroy();
    if (this.tcp) await new Promise((r) => this.tcp!.close(r));
    this.udp = this.tcp = undefined;
  }
}

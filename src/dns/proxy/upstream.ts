import { Buffer } from 'node:buffer';
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { connect } from 'node:net';
import { randomInt } from 'node:crypto';
import { isIP } from 'node:net';
import { LegateError } from '../../errors.js';
import { questionEnd } from './message.js';

export interface UpstreamServer {
  address: string;
  port: number;
}

interface Pending {
  server: UpstreamServer;
  question: Buffer;
  clientId: number;
  resolve: (b: Buffer | undefined) => void;
  timer: NodeJS.Timeout;
}

/**
 * Forwards raw queries to the upstream resolvers (resolv.conf's, or configured), keeping the
 * client's EDNS and flags as they are. Each UDP query gets a fresh random ID, and an answer
 * is accepted only from the server asked, with that ID and the same question; the client's
 * ID is put back. Servers are tried in order, each with `timeoutMs`; TCP queries go over
 * TCP (one connection per query). Rejects with EUPSTREAM when every server failed.
 */
export class UpstreamForwarder {
  private readonly pending = new Map<number, Pending>();
  private udp4: UdpSocket | undefined;
  private udp6: UdpSocket | undefined;

  constructor(
    readonly servers: readonly UpstreamServer[],
    private readonly timeoutMs = 2000,
  ) {}

  async forward(query: Buffer, transport: 'udp' | 'tcp'): Promise<Buffer> {
    if (this.servers.length === 0) throw new LegateError('EUPSTREAM', 'no upstream DNS servers configured');
    let last = 'no answer';
    for (const server of this.servers) {
      try {
        const reply = transport === 'udp' ? await this.viaUdp(query, server) : await this.viaTcp(query, server);
        if (reply) return reply;
        last = `timeout from ${server.address}:${server.port}`;
      } catch (err) {
        last = `${(err as Error).message} from ${server.address}:${server.port}`;
      }
    }
    throw new LegateError('EUPSTREAM', `upstream DNS failed: ${last}`);
  }

  private socket(family: 4 | 6): UdpSocket {
    let s = family === 4 ? this.udp4 : this.udp6;
    if (s) return s;
    s = createSocket({ type: family === 4 ? 'udp4' : 'udp6', recvBufferSize: 1 << 21 });
    s.on('message', (msg, rinfo) => this.onReply(msg, rinfo.address, rinfo.port));
    s.on('error', () => {});
    s.unref();
    if (family === 4) this.udp4 = s;
    else this.udp6 = s;
    return s;
  }

  private onReply(msg: Buffer, address: string, port: number): void {
    if (msg.length < 12) return;
    const p = this.pending.get(msg.readUInt16BE(0));
    if (!p || p.server.port !== port || p.server.address !== address) return;
    const end = questionEnd(msg);
    if (end < 0 || !msg.subarray(12, end).equals(p.question)) return;
    this.pending.delete(msg.readUInt16BE(0));
    clearTimeout(p.timer);
    msg.writeUInt16BE(p.clientId, 0);
    p.resolve(msg);
  }

  /** The answer, or undefined on timeout. */
  private viaUdp(query: Buffer, server: UpstreamServer): Promise<Buffer | undefined> {
    const end = questionEnd(query);
    if (end < 0) return Promise.reject(new Error('unparsable question'));
    let id = randomInt(0x10000);
    for (let i = 0; this.pending.has(id) && i < 64; i++) id = randomInt(0x10000);
    if (this.pending.has(id)) return Promise.reject(new Error('too many queries in flight'));
    const out = Buffer.from(query);
    out.writeUInt16BE(id, 0);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        resolve(undefined);
      }, this.timeoutMs);
      this.pending.set(id, { server, question: Buffer.from(query.subarray(12, end)), clientId: query.readUInt16BE(0), resolve, timer });
      this.socket(isIP(server.address) === 6 ? 6 : 4).send(out, server.port, server.address, (err) => {
        if (!err) return;
        clearTimeout(timer);
        this.pending.delete(id);
        reject(err);
      });
    });
  }

  private viaTcp(query: Buffer, server: UpstreamServer): Promise<Buffer | undefined> {
    return new Promise((resolve, reject) => {
      const sock = connect({ host: server.address, port: server.port });
      const chunks: Buffer[] = [];
      let size = 0;
      const done = (err?: Error, reply?: Buffer) => {
        clearTimeout(timer);
        sock.destroy();
        if (err) reject(err);
        else resolve(reply);
      };
      const timer = setTimeout(() => done(undefined, undefined), this.timeoutMs);
      sock.on('error', (err) => done(err));
      sock.on('connect', () => {
        const len = Buffer.alloc(2);
        len.writeUInt16BE(query.length);
        sock.end(Buffer.concat([len, query]));
      });
      sock.on('data', (c: Buffer) => {
        chunks.push(c);
        size += c.length;
        const all = Buffer.concat(chunks, size);
        if (all.length >= 2 && all.length >= 2 + all.readUInt16BE(0)) done(undefined, all.subarray(2, 2 + all.readUInt16BE(0)));
      });
      sock.on('end', () => done(new Error('connection closed before a full answer')));
    });
  }

  close(): void {
    for (const p of this.pending.values()) {
      clearTimeout(p.timer);
      p.resolve(undefined);
    }
    this.pending.clear();
    this.udp4?.close();
    this.udp6?.close();
    this.udp4 = this.udp6 = undefined;
  }
}

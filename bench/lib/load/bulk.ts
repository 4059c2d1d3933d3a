import { connect, type Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import type { Endpoint } from '../types.js';

/** Asks the Node byte source (bench/servers/tcp_source.ts) for `bytes` bytes. */
function ask(s: Socket, bytes: number): void {
  const hdr = Buffer.alloc(8);
  hdr.writeBigUInt64BE(BigInt(bytes));
  s.write(hdr);
}

/**
 * Bulk download through the path from the Node byte source, over `connections` at once.
 * With `totalBytes`, each connection asks for its share and reads to the FIN. With `durSec`,
 * each asks for far more than it can get and the transfer is cut after `durSec` seconds, so a
 * repetition takes the same time however fast the path is. Throughput is the bytes received
 * over the elapsed time, in MB/s (10^6).
 */
export async function bulkDownload(o: { endpoint: Endpoint; connections: number; totalBytes?: number; durSec?: number }): Promise<{ mbps: number; bytes: number; errors: number }> {
  const each = o.totalBytes !== undefined ? Math.floor(o.totalBytes / o.connections) : 2 ** 50;
  const sockets: Socket[] = [];
  let bytes = 0;
  let errors = 0;
  const one = () =>
    new Promise<void>((resolve) => {
      const s = connect({ host: o.endpoint.host, port: o.endpoint.port, allowHalfOpen: true });
      sockets.push(s);
      let got = 0;
      s.once('connect', () => ask(s, each));
      s.on('data', (b: Buffer) => {
        got += b.length;
        bytes += b.length;
      });
      s.once('end', () => {
        if (got !== each) errors++;
        s.destroy();
      });
      s.once('error', () => errors++);
      s.once('close', () => resolve());
    });
  const t0 = performance.now();
  const done = Promise.all(Array.from({ length: o.connections }, one));
  if (o.durSec !== undefined) {
    await Promise.race([done, new Promise((r) => setTimeout(r, o.durSec! * 1000))]);
    const sec = (performance.now() - t0) / 1000;
    const moved = bytes;
    for (const s of sockets) s.destroy();
    return { mbps: moved / 1e6 / sec, bytes: moved, errors };
  }
  await done;
  const sec = (performance.now() - t0) / 1000;
  return { mbps: bytes / 1e6 / sec, bytes, errors };
}

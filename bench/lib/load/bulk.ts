import { connect } from 'node:net';
import { performance } from 'node:perf_hooks';
import type { Endpoint } from '../types.js';

/**
 * Bulk download through the path from the Node byte source (bench/servers/tcp_source.ts):
 * each of `connections` asks for `totalBytes / connections` bytes and reads to the FIN.
 * Throughput is all bytes over the time from the first connect to the last FIN, in MB/s (10^6).
 */
export async function bulkDownload(o: { endpoint: Endpoint; connections: number; totalBytes: number }): Promise<{ mbps: number; bytes: number; errors: number }> {
  const each = Math.floor(o.totalBytes / o.connections);
  let bytes = 0;
  let errors = 0;
  const one = () =>
    new Promise<void>((resolve) => {
      const s = connect({ host: o.endpoint.host, port: o.endpoint.port, allowHalfOpen: true });
      let got = 0;
      s.once('connect', () => {
        const hdr = Buffer.alloc(8);
        hdr.writeBigUInt64BE(BigInt(each));
        s.write(hdr);
      });
      s.on('data', (b: Buffer) => (got += b.length));
      s.once('end', () => {
        bytes += got;
        if (got !== each) errors++;
        s.destroy();
        resolve();
      });
      s.once('error', () => {
        errors++;
        resolve();
      });
    });
  const t0 = performance.now();
  await Promise.all(Array.from({ length: o.connections }, one));
  const sec = (performance.now() - t0) / 1000;
  return { mbps: bytes / 1e6 / sec, bytes, errors };
}

/**
 * Finds the end of HTTP/1.1 responses on a keep-alive connection (Content-Length framing,
 * which every upstream and proxy in the harness uses). Returns how many responses completed.
 */
export class ResponseReader {
  private buf: Buffer | undefined;
  private need = -1; // bytes of body still due, -1 while reading a head
  statusErrors = 0;

  push(chunk: Buffer): number {
    let done = 0;
    let data = this.buf ? Buffer.concat([this.buf, chunk]) : chunk;
    this.buf = undefined;
    for (;;) {
      if (this.need < 0) {
        const end = data.indexOf('\r\n\r\n');
        if (end < 0) {
          this.buf = data;
          return done;
        }
        const head = data.subarray(0, end).toString('latin1');
        if (!head.startsWith('HTTP/1.1 2')) {
          this.statusErrors++;
          if (process.env.BENCH_DEBUG_ERRORS) process.stderr.write(`non-2xx: ${head}\n`);
        }
        const cl = /\r\ncontent-length:\s*(\d+)/i.exec(head);
        this.need = cl ? Number(cl[1]) : 0;
        data = data.subarray(end + 4);
      }
      if (data.length < this.need) {
        this.need -= data.length;
        return done;
      }
      data = data.subarray(this.need);
      this.need = -1;
      done++;
      if (data.length === 0) return done;
    }
  }
}

export function request(method: string, path: string, host: string, body?: Buffer, close = false): Buffer {
  const head =
    `${method} ${path} HTTP/1.1\r\nHost: ${host}\r\nUser-Agent: legate-bench\r\n` +
    (body ? `Content-Type: application/octet-stream\r\nContent-Length: ${body.length}\r\n` : '') +
    (close ? 'Connection: close\r\n' : '') +
    '\r\n';
  return body ? Buffer.concat([Buffer.from(head, 'latin1'), body]) : Buffer.from(head, 'latin1');
}

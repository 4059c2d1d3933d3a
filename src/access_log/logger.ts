import { createWriteStream, type WriteStream } from 'node:fs';
import type { StreamInfo } from '../filters/network/http_connection_manager/stream_info.js';
import { formatJson, formatText } from './format.js';

/**
 * A worker's access log: lines are formatted on the request's completion, batched, and
 * written asynchronously with O_APPEND (one write per batch), so logging never blocks the
 * event loop and workers sharing a file do not interleave within a line.
 */
export class AccessLogger {
  private readonly out: WriteStream;
  private batch = '';
  private scheduled = false;
  private readonly format: (i: StreamInfo) => string;

  constructor(
    readonly path: string,
    encoding: 'TEXT' | 'JSON',
  ) {
    this.format = encoding === 'JSON' ? formatJson : formatText;
    // /dev/stdout (Istio's usual setting) is written through the inherited descriptor: reopening
    // it by path fails for a proxy running as uid 1337 when stdout is a file owned by another user.
    const fd = path === '/dev/stdout' ? 1 : path === '/dev/stderr' ? 2 : undefined;
    this.out = fd === undefined ? createWriteStream(path, { flags: 'a' }) : createWriteStream('', { fd, autoClose: false });
    this.out.on('error', () => {});
  }

  log(info: StreamInfo): void {
    this.batch += this.format(info);
    if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(() => this.flush());
    }
  }

  private flush(): void {
    this.scheduled = false;
    const text = this.batch;
    this.batch = '';
    if (text) this.out.write(text);
  }

  close(): void {
    this.flush();
    this.out.end();
  }
}

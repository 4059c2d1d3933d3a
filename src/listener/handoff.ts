import { createServer, type Server, type Socket } from 'node:net';
import type { Listener } from '../config/model.js';
import { logger } from '../log.js';
import type { NativeSockets } from './native/index.js';
import { originalDestination } from './original_dst.js';
import type { WorkerPool } from '../main/worker_pool.js';

const log = logger('listener');

/**
 * The default accept mode: the main thread accepts (paused, so no byte is read here), reads
 * the original destination, dup()s the fd, closes its own handle (only the original fd), and
 * hands the duplicate to a worker. Handing over the original fd would let this thread's
 * handle later close a number the kernel has reused for another connection.
 */
export function listenHandoff(
  listener: Listener,
  native: NativeSockets,
  pool: WorkerPool,
  opts: { transparent: boolean; backlog: number; onLost: () => void },
): Promise<Server> {
  const server = createServer({ pauseOnConnect: true, allowHalfOpen: true }, (socket: Socket) => {
    const handle = (socket as unknown as { _handle?: { fd: number } })._handle;
    if (!handle) return;
    let fd: number;
    let dst;
    try {
      dst = originalDestination(native, handle.fd);
      fd = native.dup(handle.fd);
    } catch (err) {
      log.error(`hand-off failed: ${(err as Error).message}`);
      socket.destroy();
      opts.onLost();
      return;
    }
    socket.destroy();
    pool.dispatch(fd, listener.name, dst, opts.onLost);
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    const fd = native.listenSocket(listener.address.address, listener.address.port, false, opts.transparent, opts.backlog);
    server.listen({ fd }, () => {
      server.off('error', reject);
      server.on('error', (err) => log.error(`listener ${listener.name} error: ${err.message}`));
      resolve(server);
    });
  });
}

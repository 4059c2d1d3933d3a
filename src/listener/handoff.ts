import { createServer, type Server, type Socket } from 'node:net';
import type { Listener } from '../config/model.js';
import { getSystemErrorName } from 'node:util';
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
  // Hands one accepted connection's fd over; `close` releases the main thread's own handle.
  const handOff = (acceptedFd: number, close: () => void): void => {
    let fd: number;
    let dst;
    try {
      dst = originalDestination(native, acceptedFd);
      fd = native.dup(acceptedFd);
    } catch (err) {
      log.error(`hand-off failed: ${(err as Error).message}`);
      close();
      opts.onLost();
      return;
    }
    close();
    pool.dispatch(fd, listener.name, dst, opts.onLost);
  };
  // Used only where the raw accept below is not available.
  const server = createServer({ pauseOnConnect: true, allowHalfOpen: true }, (socket: Socket) => {
    const handle = (socket as unknown as { _handle?: { fd: number } })._handle;
    if (handle) handOff(handle.fd, () => socket.destroy());
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    const fd = native.listenSocket(listener.address.address, listener.address.port, false, opts.transparent, opts.backlog);
    server.listen({ fd }, () => {
      acceptRaw(server, handOff);
      server.off('error', reject);
      server.on('error', (err) => log.error(`listener ${listener.name} error: ${err.message}`));
      resolve(server);
    });
  });
}

interface AcceptedHandle {
  fd: number;
  close(): void;
}
type ListeningHandle = { onconnection?: (status: number, client?: AcceptedHandle) => void };

/**
 * The main thread never reads an accepted connection; it only hands the fd over. Node's
 * listener would wrap each in a net.Socket first (streams, state, event wiring: about a tenth
 * of a short connection's whole cost) only for it to be destroyed at once. This takes the
 * accepted handle from the listening handle's callback instead (the one net.Server installs),
 * and closes it after the dup. A failed accept is logged, as net.Server would emit it.
 */
function acceptRaw(server: Server, handOff: (fd: number, close: () => void) => void): void {
  const handle = (server as unknown as { _handle?: ListeningHandle })._handle;
  if (!handle || typeof handle.onconnection !== 'function') return;
  handle.onconnection = (status, client) => {
    if (status < 0) return log.error(`accept failed: ${getSystemErrorName(status)}`);
    if (client !== undefined) handOff(client.fd, () => client.close());
  };
}

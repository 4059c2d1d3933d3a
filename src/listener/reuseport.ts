import { createServer, type Server, type Socket } from 'node:net';
import type { Snapshot } from '../config/model.js';
import { logger } from '../log.js';
import { onConnection, type WorkerState } from './connection.js';
import { nativeSockets } from './native/index.js';
import { originalDestination } from './original_dst.js';

const log = logger('reuseport');
const servers = new Map<string, Server>();
let stopped = false;
/** Listeners a drain closed: a later snapshot does not bind them again. */
const stoppedNames = new Set<string>();

/**
 * The second accept mode: every worker binds the capture ports itself with SO_REUSEPORT and
 * the kernel spreads new connections across workers, with no hand-off through the main thread.
 */
export function startReusePortListeners(snapshot: Snapshot, current: () => WorkerState | undefined, transparent: boolean): boolean {
  const native = nativeSockets();
  if (!native || stopped) return false;
  for (const l of snapshot.listeners) {
    if (!l.bindToPort || servers.has(l.name) || stoppedNames.has(l.name)) continue;
    const fd = native.listenSocket(l.address.address, l.address.port, true, transparent, 4096);
    const server = createServer({ allowHalfOpen: true }, (socket: Socket) => {
      const state = current();
      if (!state) return socket.destroy();
      const fdNum = (socket as unknown as { _handle: { fd: number } })._handle.fd;
      let dst;
      try {
        dst = originalDestination(native, fdNum);
      } catch (err) {
        // As the main thread's hand-off does: this connection is lost, the listener goes on.
        log.error(`accept on ${l.name} failed: ${(err as Error).message}`);
        return socket.destroy();
      }
      onConnection(socket, l.name, dst, state);
    });
    server.on('error', (err) => log.error(`listener ${l.name} failed: ${err.message}`));
    server.listen({ fd });
    servers.set(l.name, server);
  }
  // The sockets are bound and listening (native.listenSocket did both): the kernel queues connections from here on.
  return true;
}

/** Drain: close this worker's capture sockets (or just `names`) for good; open connections are not touched. */
export function stopReusePortListeners(names?: readonly string[]): void {
  if (!names) stopped = true;
  for (const [name, server] of servers) {
    if (names && !names.includes(name)) continue;
    server.close();
    servers.delete(name);
  }
  for (const name of names ?? []) stoppedNames.add(name);
}

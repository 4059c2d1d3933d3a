import { createRequire } from 'node:module';
import { logger } from '../../log.js';

export interface OriginalAddress {
  address: string;
  port: number;
  family: 4 | 6;
}

/** The project's addon (src/listener/native/legate_native.c), built by `npm install`. */
export interface NativeSockets {
  /** SO_ORIGINAL_DST (REDIRECTed connections); null when the connection has no NAT entry. */
  originalDst(fd: number): OriginalAddress | null;
  localAddress(fd: number): OriginalAddress;
  dup(fd: number): number;
  close(fd: number): void;
  setReusePort(fd: number): void;
  setTransparent(fd: number, family: 4 | 6): void;
  listenSocket(address: string, port: number, reusePort: boolean, transparent: boolean, backlog: number): number;
  /** Raises the soft RLIMIT_NOFILE to the hard limit; returns the new soft limit. */
  raiseFdLimit(): number;
  /** Starts or stops busy polling of the calling thread's event loop (busy_poll.c). */
  busyPoll(on: boolean): boolean;
}

let loaded: NativeSockets | null | undefined;

/**
 * The addon, or null when it cannot load. Without it the proxy still serves what does not
 * need it (admin, readiness, configuration) and says so in one line.
 */
export function nativeSockets(): NativeSockets | null {
  if (loaded !== undefined) return loaded;
  const require = createRequire(import.meta.url);
  try {
    loaded = require('../../../../build/Release/legate_native.node') as NativeSockets;
    loaded.raiseFdLimit();
  } catch (err) {
    loaded = null;
    logger('native').error(
      `native addon unavailable (${(err as Error).message.split('\n')[0]}); original-destination recovery, fd hand-off and reuseport are disabled — run "npm install" to build it`,
    );
  }
  return loaded;
}

import type { NativeSockets } from './native/index.js';
import type { Destination } from './listener_table.js';

/**
 * Where the client meant to connect. REDIRECT: SO_ORIGINAL_DST from conntrack. TPROXY: the
 * socket's local address is already the original destination. A connection that was never
 * redirected has no NAT entry, and its local address (the listener's own) is the answer,
 * which the loop guard then catches.
 */
export function originalDestination(native: NativeSockets, fd: number, transparent: boolean): Destination {
  if (!transparent) {
    try {
      const d = native.originalDst(fd);
      return { address: d.address, port: d.port };
    } catch {
      /* not redirected: fall through */
    }
  }
  const l = native.localAddress(fd);
  return { address: l.address, port: l.port };
}

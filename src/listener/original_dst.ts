import type { NativeSockets } from './native/index.js';
import type { Destination } from './listener_table.js';

/**
 * Where the client meant to connect, as Envoy's original_dst filter finds it: SO_ORIGINAL_DST
 * from conntrack when the connection was REDIRECTed (outbound, and inbound in REDIRECT mode);
 * otherwise the socket's local address — which TPROXY leaves as the original destination, and
 * which for a connection never redirected is the listener's own (the loop guard catches it).
 * In TPROXY mode inbound is TPROXYed but outbound is still REDIRECTed, so both are tried on
 * transparent listeners too.
 */
export function originalDestination(native: NativeSockets, fd: number): Destination {
  const d = native.originalDst(fd);
  if (d !== null) return { address: d.address, port: d.port };
  // No NAT entry: TPROXY, or not redirected.
  const l = native.localAddress(fd);
  return { address: l.address, port: l.port };
}

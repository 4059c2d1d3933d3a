/**
 * A worker's HTTP drain state: which listeners drain (Envoy's drain manager, per listener), and
 * the HTTP connections open on each, so that idle keep-alive ones can be closed when a drain
 * starts. Connections still busy are told `connection: close` on their next response.
 */
export interface DrainableConnection {
  /** Closes the connection if no request is in flight; a busy one closes after its response. */
  closeIfIdle(): void;
}

const draining = new Set<string>();
const open = new Map<string, Set<DrainableConnection>>();

export function isDraining(listener: string): boolean {
  return draining.size !== 0 && draining.has(listener);
}

export function trackConnection(listener: string, conn: DrainableConnection): void {
  let set = open.get(listener);
  if (!set) open.set(listener, (set = new Set()));
  set.add(conn);
}

export function untrackConnection(listener: string, conn: DrainableConnection): void {
  open.get(listener)?.delete(conn);
}

/** Starts draining these listeners on this worker. */
export function drainHttpListeners(listeners: readonly string[]): void {
  for (const name of listeners) {
    draining.add(name);
    for (const conn of [...(open.get(name) ?? [])]) conn.closeIfIdle();
  }
}

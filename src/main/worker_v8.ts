import { setFlagsFromString } from 'node:v8';

/**
 * V8 settings for the worker threads, applied before they start. V8 reads the heap flags when
 * an isolate is created, so the main thread's heap, created first, keeps V8's defaults; the
 * inlining budget is read at each optimizing compile (after this call, the main thread's too).
 *
 * Young generation: V8 starts a heap's semi-spaces at 1 MiB and grows them only when many
 * objects survive. A proxy's garbage is almost all per-request and dies young, so the space
 * fills every few hundred requests; each fill is a scavenge of a fraction of a millisecond.
 * `semiSpaceMb` starts the workers' semi-spaces larger, for fewer scavenges. The default is
 * 2: at 8 (the default until session 13) or 4, on the tcp_proxy path at 1,000 req/s every
 * scavenge (one every ~9 s) was followed by a full mark-compact of 10-17 ms plus marking steps
 * of up to 14 ms (`--trace-gc`: "finalize incremental marking via task"), which set p99.9 at
 * 20-30 ms; at 2 or below there was none, and the HTTP path's scavenges stayed ~1 a second.
 *
 * Memory reducer off: V8 runs full GCs to shrink a heap whose allocation rate looks low, which
 * is how a proxy at a moderate, steady rate looks. On a worker it took 10-30 ms pauses to give
 * back under 1 MB of a heap of 8-13 MB. (The main thread's reducer still runs, twice, about
 * 16 s after start: the flag cannot reach an isolate that already exists.)
 */
export function configureWorkerV8(semiSpaceMb: number): void {
  for (const flag of INLINING_FLAGS) setFlagsFromString(flag);
  setFlagsFromString('--no-memory-reducer');
  if (semiSpaceMb <= 0) return; // V8's own sizing
  setFlagsFromString(`--min-semi-space-size=${semiSpaceMb}`);
  // V8 caps the starting size at the maximum (16 MiB by default on 64-bit).
  if (semiSpaceMb > 16) setFlagsFromString(`--max-semi-space-size=${semiSpaceMb}`);
}

/**
 * TurboFan's inlining budget, 4x V8's default for one callee and 6x for a function's total
 * (2x the absolute cap). The data path is a pipeline of small layers (codec, connection
 * manager, filters, router, pool) whose calls V8's defaults leave as calls, with their argument
 * adaptation, checks and lost type knowledge at each. Counted on the router path
 * (bench/instructions.sh, interleaved builds): 64.0-65.1 k instructions a request at V8's
 * defaults, 60.6-61.3 k with these (BENCH_LEGATE_NODE_ARGS tried others: twice these, 3680 /
 * 11040, was worse at 63.4 k). Paired wall clock: 0.93 of the CPU per request.
 */
const INLINING_FLAGS = [
  '--max-inlined-bytecode-size=1840',
  '--max-inlined-bytecode-size-cumulative=5520',
  '--max-inlined-bytecode-size-absolute=9200',
] as const;

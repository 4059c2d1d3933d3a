/**
 * A test-only preload (`node --import crash_hook.js bin/legate.js …`) that lets an e2e test crash
 * one worker thread of a running proxy from outside — the proxy itself has no such hook. On
 * SIGUSR2 the main thread asks the workers for their thread ids over a BroadcastChannel, picks
 * the first to answer and tells it to die; that worker throws an uncaught error, as a bug would.
 * The main thread logs `crash-hook: crashing worker thread N` on stderr.
 */
import { isMainThread, threadId } from 'node:worker_threads';

const channel = new BroadcastChannel('legate-test-crash-hook');
type Msg = { ask: true } | { here: number } | { crash: number };

if (isMainThread) {
  let victim: number | undefined;
  channel.onmessage = (e) => {
    const m = (e as MessageEvent<Msg>).data;
    if ('here' in m && victim === undefined) {
      victim = m.here;
      process.stderr.write(`crash-hook: crashing worker thread ${victim}\n`);
      channel.postMessage({ crash: victim } satisfies Msg);
    }
  };
  process.on('SIGUSR2', () => {
    victim = undefined;
    channel.postMessage({ ask: true } satisfies Msg);
  });
  (channel as unknown as { unref(): void }).unref();
} else {
  channel.onmessage = (e) => {
    const m = (e as MessageEvent<Msg>).data;
    if ('ask' in m) channel.postMessage({ here: threadId } satisfies Msg);
    if ('crash' in m && m.crash === threadId) {
      setImmediate(() => {
        throw new Error(`injected crash of worker thread ${threadId} (test hook)`);
      });
    }
  };
  (channel as unknown as { unref(): void }).unref();
}

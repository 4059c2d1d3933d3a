import { BroadcastChannel } from 'node:worker_threads';
import type { Snapshot } from '../../../../config/model.js';
import type { WorkerState } from '../../../../listener/connection.js';
import { logger } from '../../../../log.js';
import { channelName, type FrontEndMessage } from '../../../../main/protocol.js';
import { loadUws } from './load.js';
import { UwsListeners } from './uws_listeners.js';

const log = logger('uws');

/**
 * The uWS front end of one worker (`--http-frontend uws`): loads the addon, serves the plain
 * HTTP listeners, and closes every uWS socket when the main thread asks before stopping the
 * workers, or when this thread is about to die of an uncaught exception (an open uWS socket
 * at thread exit would abort the whole process).
 */
export function startUwsFrontEnd(poolId: string, threadId: number, modulePath: string | undefined, current: () => WorkerState | undefined): UwsListeners | undefined {
  const loaded = loadUws(modulePath);
  if ('reason' in loaded) {
    // The main thread loaded it before choosing this engine: a worker that cannot is unexpected.
    log.error(`uws front end not started on this worker: ${loaded.reason}`);
    return undefined;
  }
  const listeners = new UwsListeners(loaded.uws, current);
  const channel = new BroadcastChannel(channelName(poolId, 'frontend'));
  channel.onmessage = (event) => {
    const msg = (event as { data: FrontEndMessage }).data;
    if (!('close' in msg)) return;
    listeners.closeAll();
    channel.postMessage({ closed: threadId } satisfies FrontEndMessage);
  };
  process.once('uncaughtExceptionMonitor', () => listeners.closeAll());
  return listeners;
}

/** The snapshot without the listeners the uWS front end serves (for the node engine's own binding). */
export function withoutUwsListeners(snapshot: Snapshot): Snapshot {
  return { ...snapshot, listeners: snapshot.listeners.filter((l) => !UwsListeners.serves(l)) };
}

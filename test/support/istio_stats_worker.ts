/** A worker thread that writes Istio and Envoy histogram samples the way a proxy worker does, for the merge test. */
import { parentPort, threadId, workerData } from 'node:worker_threads';
import { StatsWriter, type StatsShared } from '../../src/stats/store.js';
import { serveHistograms } from '../../src/stats/latency.js';

const { shared, poolId, peer, histogramBase, samples } = workerData as { shared: StatsShared; poolId: string; peer: number; histogramBase: number; samples: number[] };
const stats = StatsWriter.claim(shared, threadId);
serveHistograms(poolId, stats.latency);
for (const ms of samples) {
  stats.istio!.recordHttp(peer, 200, 0, ms, 100, 1000);
  stats.record(histogramBase, ms);
}
stats.istio!.tcpOpened(peer, 0);
stats.istio!.tcpClosed(peer, 0, 10, 20);
parentPort!.postMessage('done');
parentPort!.once('message', () => process.exit(0));

import { renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { adminCounter } from './admin_client.js';
import { sleep } from './proc.js';
import type { Sample } from './types.js';

const APPLIED = 'legate.config.update_success';
const REJECTED = 'legate.config.update_rejected';

/**
 * Writes `yaml` next to the watched directory and renames it in as `services.yaml` (what
 * editors and Kubernetes do); the time until the proxy on the admin port counts a new version
 * applied on every worker (polled every 5 ms). A rejection or 120 s without a version throws.
 */
export async function timeRenameToApplied(tmp: string, confDir: string, yaml: string): Promise<Sample> {
  const staging = join(tmp, 'apply-staging.yaml');
  writeFileSync(staging, yaml, { mode: 0o644 });
  const before = await adminCounter(APPLIED);
  const rejected = await adminCounter(REJECTED);
  const t = performance.now();
  renameSync(staging, join(confDir, 'services.yaml'));
  for (;;) {
    if ((await adminCounter(APPLIED)) > before) break;
    if ((await adminCounter(REJECTED)) > rejected) throw new Error('legate rejected the new configuration');
    if (performance.now() - t > 120_000) throw new Error('no new configuration applied after 120 s');
    await sleep(5);
  }
  return { value: performance.now() - t };
}

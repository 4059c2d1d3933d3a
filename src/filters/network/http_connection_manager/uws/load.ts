import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { UwsModule } from './uws_api.js';

/** The optional dependency that ships uWebSockets.js builds for Node's ABIs. */
const PACKAGE = '@trufflesuite/uws-js-unofficial';

export type UwsLoad = { uws: UwsModule; path: string } | { reason: string };

/**
 * Loads the uWebSockets.js addon: `override` (a path, `--uws-module`) or the package's binary
 * for this platform, architecture and ABI. The package's own entry point is not used: on a
 * mismatch it silently falls back to a slow JavaScript imitation, which is not what the flag
 * asks for; here a mismatch is a reason to serve with the node engine.
 */
export function loadUws(override?: string): UwsLoad {
  const require = createRequire(import.meta.url);
  let path = override;
  if (!path) {
    let dir: string;
    try {
      dir = dirname(require.resolve(`${PACKAGE}/package.json`));
    } catch {
      return { reason: `${PACKAGE} is not installed (it is an optional dependency)` };
    }
    path = join(dir, 'binaries', `uws_${process.platform}_${process.arch}_${process.versions.modules}.node`);
  }
  try {
    const mod = require(path) as Partial<UwsModule>;
    if (typeof mod.App !== 'function' || typeof mod.us_listen_socket_close !== 'function') return { reason: `${path} is not a uWebSockets.js build` };
    return { uws: mod as UwsModule, path };
  } catch (err) {
    const msg = (err as Error).message.split('\n')[0];
    return { reason: `no uWebSockets.js build for ${process.platform}-${process.arch} Node ABI ${process.versions.modules} could be loaded (${msg})` };
  }
}

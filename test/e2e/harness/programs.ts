import { fileURLToPath } from 'node:url';

/** Absolute path of a compiled helper program in ./programs (run with `node`). */
export function programPath(name: 'tcp_server' | 'http_server' | 'tcp_client' | 'traffic_client' | 'http_load' | 'slow_clients' | 'xds_server' | 'crash_hook' | 'raw_client' | 'tls_server' | 'h2_server' | 'grpc_server' | 'grpc_client' | 'keepalive_client'): string {
  return fileURLToPath(new URL(`./programs/${name}.js`, import.meta.url));
}

/** The repository root (this file is dist/test/e2e/harness/programs.js once compiled). */
export const REPO_ROOT = fileURLToPath(new URL('../../../../', import.meta.url));

/** The node binary running the tests; used for every Node program in a namespace. */
export const NODE = process.execPath;

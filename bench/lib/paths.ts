import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';

/** The repository root (this file is dist/bench/lib/paths.js once compiled). */
export const REPO = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
export const DIST_BENCH = join(REPO, 'dist', 'bench');
export const RESULTS = join(REPO, 'bench', 'results');
export const server = (name: string) => join(DIST_BENCH, 'servers', `${name}.js`);

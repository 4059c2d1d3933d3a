/**
 * `jose` loaded on first use: a proxy without RequestAuthentication never pays for it (it
 * adds ~100 ms to each worker's start on a busy machine).
 */
type Jose = typeof import('jose');
let loading: Promise<Jose> | undefined;
export const jose = (): Promise<Jose> => (loading ??= import('jose'));

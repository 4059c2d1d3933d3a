export function runIptables(_argv: string[]): number { throw new Error('not yet'); }

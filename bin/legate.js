#!/usr/bin/env node
import { main } from '../dist/src/cli.js';

main(process.argv.slice(2)).then(
  (code) => { if (typeof code === 'number') process.exitCode = code; },
  (err) => {
    process.stderr.write(`legate: ${err?.code ? err.code + ': ' : ''}${err?.message ?? err}\n`);
    process.exitCode = 1;
  },
);

/**
 * Names the functions of a callgrind profile of Node, JIT-compiled JS included, and prints the
 * costliest per request. callgrind leaves JIT code as bare addresses; V8 writes where it put each
 * function to /tmp/perf-<pid>.map when Node runs with --perf-basic-prof, and this looks the
 * addresses up there. Used by `PROFILE=DIR bench/instructions.sh` (bench/README.md).
 *
 *   node dist/bench/callgrind_names.js CALLGRIND_FILE PERF_MAP REQUESTS [TOP=40]
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

interface CodeRange {
  start: number;
  end: number;
  name: string;
}

/** The map's lines are `start size name` in hex; later entries win where code was moved. */
function readPerfMap(path: string): CodeRange[] {
  const ranges: CodeRange[] = [];
  for (const line of readFileSync(path, 'latin1').split('\n')) {
    const m = /^([0-9a-f]+) ([0-9a-f]+) (.*)$/.exec(line);
    if (m) ranges.push({ start: parseInt(m[1]!, 16), end: parseInt(m[1]!, 16) + parseInt(m[2]!, 16), name: m[3]! });
  }
  return ranges.reverse();
}

function nameAt(ranges: readonly CodeRange[], address: number): string | undefined {
  return ranges.find((r) => address >= r.start && address < r.end)?.name;
}

function main(): void {
  const [cgFile, mapFile, requestsText, topText] = process.argv.slice(2);
  const requests = Number(requestsText);
  if (!cgFile || !mapFile || !(requests > 0)) {
    console.error('usage: callgrind_names.js CALLGRIND_FILE PERF_MAP REQUESTS [TOP]');
    process.exit(2);
  }
  const ranges = readPerfMap(mapFile);
  const annotated = execFileSync('callgrind_annotate', ['--inclusive=no', '--threshold=99.9', cgFile], { encoding: 'latin1', maxBuffer: 64 << 20 });
  const byName = new Map<string, number>();
  let total = 0;
  for (const line of annotated.split('\n')) {
    const m = /^\s*([\d,]+) \(\s*[\d.]+%\)\s+(.*)$/.exec(line);
    if (!m) continue;
    const ir = Number(m[1]!.replaceAll(',', ''));
    const fn = m[2]!;
    if (fn.startsWith('PROGRAM TOTALS')) {
      total = ir;
      continue;
    }
    const jit = /^\?\?\?:0x([0-9a-f]+) \[\?\?\?\]$/.exec(fn);
    const name = jit ? (nameAt(ranges, parseInt(jit[1]!, 16)) ?? fn) : fn.replace(/^\?\?\?:/, '').replace(/\s*\[[^\]]*\]$/, '');
    byName.set(name, (byName.get(name) ?? 0) + ir);
  }
  console.log(`${(total / requests).toFixed(0)} instructions per request in all; by function (self):`);
  const top = [...byName].sort((a, b) => b[1] - a[1]).slice(0, Number(topText ?? 40));
  for (const [name, ir] of top) console.log(`${(ir / requests).toFixed(0).padStart(8)}  ${name.slice(0, 150)}`);
}

main();

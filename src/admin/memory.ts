import { getHeapStatistics } from 'node:v8';

/** One thread's V8 heap figures (v8.getHeapStatistics()), as workers report them. */
export interface HeapFigures {
  usedHeapSize: number;
  totalHeapSize: number;
  totalPhysicalSize: number;
}

export function ownHeapFigures(): HeapFigures {
  const h = getHeapStatistics();
  return { usedHeapSize: h.used_heap_size, totalHeapSize: h.total_heap_size, totalPhysicalSize: h.total_physical_size };
}

/**
 * Envoy's /memory (tcmalloc figures, uint64 as JSON strings) mapped onto Node: `allocated` is the
 * live JS heap of every thread (main + workers) plus Buffers outside it, `heap_size` the V8
 * heaps reserved, `pageheap_free` the gap between the two, `total_physical_bytes` the RSS. Node
 * has no thread caches or unmapped page heap, so those read 0.
 */
export function memoryBody(threads: readonly HeapFigures[], usage: NodeJS.MemoryUsage = process.memoryUsage()): Record<string, string> {
  let used = 0;
  let total = 0;
  for (const t of threads) {
    used += t.usedHeapSize;
    total += t.totalHeapSize;
  }
  const allocated = used + usage.arrayBuffers;
  const heapSize = total + usage.arrayBuffers;
  return {
    allocated: String(allocated),
    heap_size: String(heapSize),
    pageheap_unmapped: '0',
    pageheap_free: String(Math.max(0, heapSize - allocated)),
    total_thread_cache: '0',
    total_physical_bytes: String(usage.rss),
  };
}

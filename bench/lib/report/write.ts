import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ScenarioResult } from '../types.js';
import { summaryMarkdown } from './markdown.js';
import { scenarioSvg } from './svg.js';

/** `<date>-<name>` for full runs; quick and smoke runs add `.quick`/`.smoke` so they never overwrite a full run's files. */
export function resultName(date: string, name: string, mode: string, ext: string): string {
  return `${date}-${name}${mode === 'full' ? '' : '.' + mode}.${ext}`;
}

/** Writes each scenario's JSON and SVG as soon as it finishes, and the summary over all of them. */
export function writeScenario(dir: string, r: ScenarioResult): { json: string; svg: string } {
  mkdirSync(dir, { recursive: true });
  const json = resultName(r.date, r.scenario, r.mode, 'json');
  const svg = resultName(r.date, r.scenario, r.mode, 'svg');
  writeFileSync(join(dir, json), JSON.stringify(r, null, 2) + '\n');
  writeFileSync(join(dir, svg), scenarioSvg(r));
  return { json, svg };
}

export function writeSummary(dir: string, results: readonly ScenarioResult[]): string {
  const svgs = Object.fromEntries(results.map((r) => [r.scenario, resultName(r.date, r.scenario, r.mode, 'svg')]));
  const file = resultName(results[0].date, 'summary', results[0].mode, 'md');
  writeFileSync(join(dir, file), summaryMarkdown(results, svgs));
  return file;
}

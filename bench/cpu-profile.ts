import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';

/** The parts of a V8 .cpuprofile (node --cpu-prof) this summary reads. */
interface CpuProfile {
  nodes: { id: number; callFrame: { functionName: string; url: string; lineNumber: number } }[];
  samples: number[];
  timeDeltas: number[];
}

export interface ProfileSummary {
  file: string;
  sampledMs: number;
  /** Self time by where the code lives: a package, node's own internals, the project's folders. */
  byOrigin: { origin: string; ms: number; share: number }[];
  /** The functions that spent the most self time. */
  topFunctions: { fn: string; ms: number; share: number }[];
}

/** "node_modules/@temporalio/worker/lib/x.js" → "@temporalio/worker"; project files by top folder. */
export function originOf(url: string, root: string): string {
  if (!url) return '(native / gc / idle)';
  if (url.startsWith('node:')) return 'node internals';
  const file = url.replace(/^file:\/\//, '');
  const modules = file.lastIndexOf('node_modules/');
  if (modules >= 0) {
    const [first, second] = file.slice(modules + 'node_modules/'.length).split('/');
    return first?.startsWith('@') ? `${first}/${second}` : (first ?? file);
  }
  const relative = path.relative(root, file);
  if (relative.startsWith('..')) return file;
  const [folder, ...rest] = relative.split(path.sep);
  return rest.length > 0 ? `project ${folder}/` : `project ${folder}`;
}

const round = (ms: number) => Math.round(ms * 10) / 10;

export function summarize(profile: CpuProfile, file: string, root: string, top = 15): ProfileSummary {
  const nodes = new Map(profile.nodes.map((node) => [node.id, node.callFrame]));
  const self = new Map<number, number>();
  profile.samples.forEach((id, i) => self.set(id, (self.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0) / 1000));
  const byOrigin = new Map<string, number>();
  const byFunction = new Map<string, number>();
  let total = 0;
  for (const [id, ms] of self) {
    const frame = nodes.get(id)!;
    // Idle time is the event loop waiting: not CPU spent.
    if (frame.functionName === '(idle)') continue;
    total += ms;
    const origin = originOf(frame.url, root);
    byOrigin.set(origin, (byOrigin.get(origin) ?? 0) + ms);
    const name =
      `${frame.functionName || '(anonymous)'} ${frame.url ? `${path.basename(frame.url)}:${frame.lineNumber + 1}` : ''}`.trim();
    byFunction.set(name, (byFunction.get(name) ?? 0) + ms);
  }
  const ranked = (map: Map<string, number>, key: 'origin' | 'fn') =>
    [...map.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([name, ms]) => ({ [key]: name, ms: round(ms), share: total > 0 ? Math.round((ms / total) * 1000) / 1000 : 0 }));
  return {
    file,
    sampledMs: round(total),
    byOrigin: ranked(byOrigin, 'origin') as ProfileSummary['byOrigin'],
    topFunctions: ranked(byFunction, 'fn') as ProfileSummary['topFunctions'],
  };
}

/** Summaries of every profile a process group wrote into `dir` (node writes one per thread). */
export async function summarizeDir(dir: string, root: string): Promise<ProfileSummary[]> {
  const files = (await readdir(dir).catch(() => [] as string[])).filter((name) => name.endsWith('.cpuprofile')).sort();
  const summaries: ProfileSummary[] = [];
  for (const name of files) {
    const profile = JSON.parse(await readFile(path.join(dir, name), 'utf8')) as CpuProfile;
    summaries.push(summarize(profile, path.join(dir, name), root));
  }
  return summaries;
}

export function renderProfiles(process: string, summaries: ProfileSummary[]): string {
  const lines = [`CPU profile of the ${process} (self time, idle excluded):`];
  for (const summary of summaries) {
    lines.push(`  ${path.basename(summary.file)}: ${summary.sampledMs} ms sampled`);
    for (const { origin, ms, share } of summary.byOrigin.slice(0, 10))
      lines.push(`    ${(share * 100).toFixed(1).padStart(5)}%  ${String(ms).padStart(9)} ms  ${origin}`);
    lines.push('    top functions:');
    for (const { fn, ms, share } of summary.topFunctions.slice(0, 10))
      lines.push(`    ${(share * 100).toFixed(1).padStart(5)}%  ${String(ms).padStart(9)} ms  ${fn}`);
  }
  return lines.join('\n');
}

// Shared helpers for the ops tests: repository paths, system tools and YAML loading.
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import YAML from 'yaml';

export const repoRoot = path.resolve(__dirname, '..', '..');

export function repoPath(...parts: string[]): string {
  return path.join(repoRoot, ...parts);
}

export function readRepoFile(...parts: string[]): string {
  return fs.readFileSync(repoPath(...parts), 'utf8');
}

/** Parses YAML the way docker compose does, including `<<` merge keys. */
export function loadYaml<T = unknown>(...parts: string[]): T {
  return YAML.parse(readRepoFile(...parts), { merge: true }) as T;
}

export function listFiles(dir: string, suffix: string): string[] {
  return fs
    .readdirSync(repoPath(dir))
    .filter((f) => f.endsWith(suffix))
    .sort()
    .map((f) => path.join(dir, f));
}

const SEARCH_DIRS = ['/usr/sbin', '/usr/bin', '/usr/local/sbin', '/usr/local/bin', '/sbin', '/bin'];

/**
 * Finds a system tool on PATH or in the usual sbin/bin folders. Fails with the
 * Debian package to install: these tests must not be skipped when a tool is missing.
 */
export function requireTool(name: string, debianPackage: string): string {
  const dirs = [...(process.env.PATH ?? '').split(path.delimiter).filter(Boolean), ...SEARCH_DIRS];
  for (const dir of dirs) {
    const candidate = path.join(dir, name);
    try {
      fs.accessSync(candidate, fs.constants.X_OK);
      return candidate;
    } catch {
      // not in this folder
    }
  }
  throw new Error(
    `${name} not found on PATH or in ${SEARCH_DIRS.join(', ')}: install the Debian package "${debianPackage}" ` +
      '(bash scripts/install-system-deps.sh installs everything the ops tests need)',
  );
}

export function run(tool: string, args: string[], options: { cwd?: string } = {}): SpawnSyncReturns<string> {
  const result = spawnSync(tool, args, { cwd: options.cwd ?? repoRoot, encoding: 'utf8', timeout: 150_000 });
  if (result.error) throw result.error;
  return result;
}

export function describeFailure(result: SpawnSyncReturns<string>): string {
  return `exit ${result.status}\n--- stdout\n${result.stdout}\n--- stderr\n${result.stderr}`;
}

/** GitHub's heading anchors: lower case, punctuation dropped, spaces to dashes. */
export function githubAnchor(heading: string): string {
  return heading
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\s_-]/gu, '')
    .replace(/\s/g, '-');
}

export function markdownAnchors(markdown: string): Set<string> {
  const anchors = new Set<string>();
  let inFence = false;
  for (const line of markdown.split('\n')) {
    if (/^\s*```/.test(line)) inFence = !inFence;
    const match = inFence ? null : /^#{1,6}\s+(.+?)\s*#*\s*$/.exec(line);
    if (match?.[1]) anchors.add(githubAnchor(match[1]));
  }
  return anchors;
}

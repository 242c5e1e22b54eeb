/**
 * Refuses a workflow change that brings no proof it is safe for executions already running
 * (`npm run check:workflows`, part of `npm test`). When anything under workflows/ differs from
 * the base, the change must also bring one of:
 *   - a new `patched('<id>')` or `deprecatePatch('<id>')` in workflows/ (the code branches for
 *     histories recorded before it), or
 *   - a new recorded history under test/replay/histories/ (`npm run record-histories`), which
 *     the replay test then holds every later change to, or
 *   - a commit in the range with a `Workflow-Compatible: <why>` trailer, for changes that
 *     cannot alter a history (comments, types, a new query), stated where a reviewer sees it.
 *
 * The base: --base REV; else the merge-base with origin/main; when that is HEAD itself (CI on
 * a clean clone of main) or there is no remote, HEAD's first parent. The working tree and
 * untracked files count, so a local `npm test` checks uncommitted work too.
 *
 *   tsx scripts/check-workflow-changes.ts [--repo DIR] [--base REV]
 * Exit codes: 0 safe or nothing to check, 1 refused, 2 bad usage.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

const WORKFLOWS = 'workflows/';
const HISTORIES = 'test/replay/histories/';
const TRAILER = /^Workflow-Compatible:\s*\S.*$/m;
const PATCH_CALL = /\b(patched|deprecatePatch)\(\s*(['"`])([^'"`]+)\2/g;

class UsageError extends Error {}

function gitIn(repo: string) {
  return (...args: string[]): string | undefined => {
    const result = spawnSync('git', ['-C', repo, ...args], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
    return result.status === 0 ? result.stdout : undefined;
  };
}
type Git = ReturnType<typeof gitIn>;

function parseArgs(argv: string[]): { repo: string; base?: string } {
  const options: { repo: string; base?: string } = { repo: process.cwd() };
  for (let i = 0; i < argv.length; i += 2) {
    const [flag, value] = [argv[i], argv[i + 1]];
    if ((flag !== '--repo' && flag !== '--base') || !value)
      throw new UsageError(`usage: check-workflow-changes [--repo DIR] [--base REV]`);
    if (flag === '--repo') options.repo = path.resolve(value);
    else options.base = value;
  }
  return options;
}

/** The commit to compare against, or undefined when HEAD has no parent (nothing to compare). */
function findBase(git: Git, explicit?: string): string | undefined {
  if (explicit) {
    const base = git('rev-parse', '--verify', '--quiet', `${explicit}^{commit}`)?.trim();
    if (!base) throw new UsageError(`--base ${explicit}: no such commit`);
    return base;
  }
  const head = git('rev-parse', 'HEAD')?.trim();
  const mergeBase = git('rev-parse', '--verify', '--quiet', 'origin/main')
    ? git('merge-base', 'HEAD', 'origin/main')?.trim()
    : undefined;
  if (mergeBase && mergeBase !== head) return mergeBase;
  const parent = git('rev-parse', '--verify', '--quiet', 'HEAD^1')?.trim();
  // A CI checkout of depth 1 has no parent to compare with: that must not pass as "no change".
  if (!parent && git('rev-parse', '--is-shallow-repository')?.trim() === 'true') {
    throw new UsageError('shallow clone without the base commit: fetch it (git fetch --deepen=1, or fetch-depth: 0 in CI)');
  }
  return parent;
}

const lines = (text: string | undefined) => (text ?? '').split('\n').filter((line) => line.length > 0);

function untracked(git: Git, dir: string): string[] {
  return lines(git('ls-files', '--others', '--exclude-standard', '--', dir));
}

function patchIds(sources: string[]): Set<string> {
  const ids = new Set<string>();
  for (const source of sources) for (const match of source.matchAll(PATCH_CALL)) ids.add(`${match[1]}('${match[3]}')`);
  return ids;
}

function patchesAt(git: Git, repo: string, base: string): { before: Set<string>; now: Set<string> } {
  const baseFiles = lines(git('ls-tree', '-r', '--name-only', base, '--', WORKFLOWS));
  const before = patchIds(baseFiles.map((file) => git('show', `${base}:${file}`) ?? ''));
  const nowFiles = [...lines(git('ls-files', '--', WORKFLOWS)), ...untracked(git, WORKFLOWS)];
  const now = patchIds(
    nowFiles.map((file) => path.join(repo, file)).flatMap((file) => (fs.existsSync(file) ? [fs.readFileSync(file, 'utf8')] : [])),
  );
  return { before, now };
}

export interface Verdict {
  ok: boolean;
  base?: string;
  changed: string[];
  newPatches: string[];
  newHistories: string[];
  trailer: boolean;
}

export function checkWorkflowChanges(repo: string, explicitBase?: string): Verdict {
  const git = gitIn(repo);
  if (!git('rev-parse', '--git-dir')) throw new UsageError(`${repo} is not a git checkout`);
  const base = findBase(git, explicitBase);
  const none = { changed: [], newPatches: [], newHistories: [], trailer: false };
  if (!base) return { ok: true, ...none };
  const changed = [...lines(git('diff', '--name-only', base, '--', WORKFLOWS)), ...untracked(git, WORKFLOWS)].sort();
  if (changed.length === 0) return { ok: true, base, ...none };
  const { before, now } = patchesAt(git, repo, base);
  const newPatches = [...now].filter((id) => !before.has(id)).sort();
  const newHistories = [
    ...lines(git('diff', '--name-only', '--diff-filter=A', base, '--', HISTORIES)),
    ...untracked(git, HISTORIES),
  ].filter((file) => file.endsWith('.json'));
  const trailer = TRAILER.test(git('log', '--format=%B', `${base}..HEAD`) ?? '');
  return { ok: newPatches.length > 0 || newHistories.length > 0 || trailer, base, changed, newPatches, newHistories, trailer };
}

function report(verdict: Verdict): string {
  if (!verdict.base) return 'workflow changes: HEAD has no parent, nothing to compare';
  const base = verdict.base.slice(0, 12);
  if (verdict.changed.length === 0) return `workflow changes: none since ${base}`;
  const files = verdict.changed.map((file) => `  ${file}`).join('\n');
  if (!verdict.ok) {
    return `workflow changes since ${base} with no new patched()/deprecatePatch() id, no new history under ${HISTORIES}
and no "Workflow-Compatible: <why>" commit trailer:
${files}
Orders already running replay this code. Guard the change with patched('<id>'), or record the new
paths with npm run record-histories (docs/architecture.md, "Shipping a workflow change").`;
  }
  const proof = [
    ...verdict.newPatches.map((id) => `new ${id}`),
    ...verdict.newHistories.map((file) => `new history ${file}`),
    ...(verdict.trailer ? ['a Workflow-Compatible trailer'] : []),
  ];
  return `workflow changes since ${base}, covered by ${proof.join(', ')}:\n${files}`;
}

if (require.main === module) {
  try {
    const options = parseArgs(process.argv.slice(2));
    const verdict = checkWorkflowChanges(options.repo, options.base);
    (verdict.ok ? console.log : console.error)(report(verdict));
    process.exit(verdict.ok ? 0 : 1);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    console.error(error.message);
    process.exit(2);
  }
}

// A throwaway git repository with release tags, and the deploy scripts run against it.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { repoPath } from './support';

export const DEPLOY = repoPath('scripts/deploy_production.sh');
export const ROLLBACK = repoPath('scripts/rollback.sh');
export const BASE_URL = 'https://cafe.example';

export interface Repo {
  dir: string;
  git(...args: string[]): string;
}

const made: string[] = [];

export function removeRepos(): void {
  made.splice(0).forEach((dir) => fs.rmSync(dir, { recursive: true, force: true }));
}

/** v1.0.0 (one migration), v1.1.0 and v1.2.0 (one more each), checked out at `at`. */
export function releaseRepo(at = 'v1.0.0'): Repo {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cafe-flow-deploy-'));
  made.push(dir);
  const git = (...args: string[]) => {
    const result = spawnSync('git', ['-C', dir, ...args], { encoding: 'utf8' });
    if (result.status !== 0) throw new Error(`git ${args.join(' ')}: ${result.stderr}`);
    return result.stdout.trim();
  };
  git('init', '--quiet');
  git('config', 'user.email', 'ops@cafe-flow.invalid');
  git('config', 'user.name', 'ops');
  fs.mkdirSync(path.join(dir, 'db', 'migrations'), { recursive: true });
  for (const [tag, migration] of [
    ['v1.0.0', '20260101000001_accounts'],
    ['v1.1.0', '20260201000001_loyalty'],
    ['v1.2.0', '20260301000001_tips'],
  ] as const) {
    fs.writeFileSync(path.join(dir, 'db', 'migrations', `${migration}.ts`), `// ${migration}\n`);
    git('add', '--all');
    git('commit', '--quiet', '--message', tag);
    git('tag', tag);
  }
  git('checkout', '--quiet', '--detach', at);
  return { dir, git };
}

export function script(file: string, repo: Repo | undefined, args: string[], PATH = process.env.PATH) {
  const result = spawnSync('bash', [file, ...(repo ? ['--repo', repo.dir] : []), ...args], {
    encoding: 'utf8',
    timeout: 30_000,
    env: { PATH, HOME: os.tmpdir() },
  });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr, all: `${result.stdout}\n${result.stderr}` };
}

/** The `==> [n] name: what` headings of a run, as `name: what`. */
export const steps = (stdout: string) => [...stdout.matchAll(/^==> \[\d+\] (.+)$/gm)].map((match) => match[1]!);
export const names = (stdout: string) => steps(stdout).map((line) => line.split(':')[0]);

export function writeHistory(repo: Repo, lines: string[][]): string {
  const text = lines.map((fields) => `${fields.join('\t')}\n`).join('');
  fs.mkdirSync(path.join(repo.dir, '.deploy'));
  fs.writeFileSync(path.join(repo.dir, '.deploy', 'history'), text);
  return text;
}

/**
 * A stand-in for docker (and curl) on PATH, to run the scripts for real: it logs each call,
 * keeps the applied migrations in a file, reports every container healthy on the image last
 * started, fails `smoke.js` on release `failSmokeOn`, keeps the parked workers (`run -d`) until
 * they are removed, and answers `describe-version` with the drainage status `drainage`.
 */
export function standInDocker(
  repo: Repo,
  options: { failSmokeOn?: string; applied: string[]; drainage?: 'drained' | 'draining'; env?: string },
) {
  const bin = path.join(repo.dir, '.stand-in');
  const state = path.join(bin, 'state');
  fs.mkdirSync(state, { recursive: true });
  fs.writeFileSync(path.join(state, 'applied'), options.applied.map((name) => `${name}\n`).join(''));
  fs.writeFileSync(path.join(state, 'parked'), '');
  fs.writeFileSync(path.join(state, 'drainage'), options.drainage ?? 'drained');
  const docker = `#!/usr/bin/env bash
S='${state}'; echo "$*" >> "$S/calls"
case "$*" in
  "image inspect"*) exit 0 ;;
  inspect*) echo "healthy cafe-flow-worker:$(cat "$S/version")" ;;
  *describe-version*) printf '{ "drainageInfo": { "drainageStatus": "%s" } }\\n' "$(cat "$S/drainage")" ;;
  *"run -d --no-deps --label"*) echo "parked-$CAFE_FLOW_VERSION $CAFE_FLOW_VERSION" >> "$S/parked" ;;
  "ps -a --no-trunc"*) cat "$S/parked" ;;
  "rm "*) sed -i "/^$2 /d" "$S/parked" ;;
  *backup.js*) echo "archive /var/backups/cafe-flow/before.dump (10 bytes, sha256 ab)" ;;
  *"migrate.js latest"*) echo 20260201000001_loyalty >> "$S/applied" ;;
  *"migrate.js rollback"*) sed -i '$d' "$S/applied" ;;
  *"up -d"*) echo "$CAFE_FLOW_VERSION" > "$S/version" ;;
  *"ps -q"*) printf 'c1\\nc2\\n' ;;
  *to_regclass*) echo t ;;
  *"where batch"*) tail -n 1 "$S/applied" ;;
  *"from knex_migrations"*) cat "$S/applied" ;;
  *smoke.js*) [[ $CAFE_FLOW_VERSION != '${options.failSmokeOn ?? ''}' ]] ;;
esac
`;
  fs.writeFileSync(path.join(bin, 'docker'), docker, { mode: 0o755 });
  fs.writeFileSync(path.join(bin, 'curl'), '#!/usr/bin/env bash\necho ready\n', { mode: 0o755 });
  fs.writeFileSync(path.join(repo.dir, '.env.production'), `SMOKE_BASE_URL=https://cafe.example\n${options.env ?? ''}`);
  return {
    path: `${bin}${path.delimiter}${process.env.PATH}`,
    calls: () => fs.readFileSync(path.join(state, 'calls'), 'utf8').trim().split('\n'),
    applied: () => fs.readFileSync(path.join(state, 'applied'), 'utf8').trim().split('\n'),
    drainage: (status: 'drained' | 'draining') => fs.writeFileSync(path.join(state, 'drainage'), status),
    /** The releases whose parked workers are still there. */
    parked: () =>
      fs
        .readFileSync(path.join(state, 'parked'), 'utf8')
        .trim()
        .split('\n')
        .filter(Boolean)
        .map((line) => line.split(' ')[1]!),
  };
}

/** The recorded history as [tag, status, backup], without times and commits. */
export function recordedHistory(repo: Repo): string[][] {
  const lines = fs
    .readFileSync(path.join(repo.dir, '.deploy', 'history'), 'utf8')
    .trim()
    .split('\n');
  return lines.map((line) => {
    const [, tag, , status, backup] = line.split('\t');
    return [tag!, status!, backup!];
  });
}

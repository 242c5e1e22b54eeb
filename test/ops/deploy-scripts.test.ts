// deploy_production.sh and rollback.sh, run for real against a throwaway git repository with
// release tags: with --dry-run (no docker needed, nothing may change), and once with a stand-in
// docker to follow the real rollback path.
import fs from 'node:fs';
import path from 'node:path';
import { expect } from 'chai';
import {
  DEPLOY,
  ROLLBACK,
  BASE_URL,
  names,
  recordedHistory,
  releaseRepo,
  removeRepos,
  script,
  standInDocker,
  steps,
  writeHistory,
} from './deploy-harness';
import { describeFailure, readRepoFile, requireTool, run } from './support';

/** What the stand-in docker was asked to do, in words: steps, parking, current versions, drain checks. */
const lifecycle = (calls: string[]) =>
  calls.flatMap((call) => {
    const patterns: [RegExp, (m: RegExpExecArray) => string][] = [
      [/(backup|migrate\.js \w+|up -d --no-deps \w+|smoke)\b/, (m) => m[1]!],
      [/run -d --no-deps --label cafe-flow\.parked-release=(\S+)/, (m) => `park ${m[1]}`],
      [/set-current-version --deployment-name cafe-flow --build-id (\S+)/, (m) => `current ${m[1]}`],
      [/describe-version --deployment-name cafe-flow --build-id (\S+)/, (m) => `drainage of ${m[1]}`],
      [/^(stop --time 60|rm) (\S+)$/, (m) => `${m[1]!.split(' ')[0]} ${m[2]}`],
    ];
    for (const [pattern, name] of patterns) {
      const match = pattern.exec(call);
      if (match) return [name(match)];
    }
    return [];
  });

describe('ops: deploy and rollback scripts', function () {
  this.timeout(30_000);
  after(removeRepos);

  it('when shellcheck lints the deploy and rollback scripts with what they source, then it reports nothing', function () {
    const shellcheck = requireTool('shellcheck', 'shellcheck');
    const files = ['deploy_production.sh', 'rollback.sh', 'deploy-common.sh', 'deploy-steps.sh'].map((file) => `scripts/${file}`);
    const result = run(shellcheck, ['-x', ...files]);
    expect(result.status, describeFailure(result)).to.equal(0);
    for (const file of [DEPLOY, ROLLBACK]) {
      expect(fs.statSync(file).mode & 0o111, `${file} executable`).to.not.equal(0);
      expect(fs.readFileSync(file, 'utf8')).to.match(/^#!\/usr\/bin\/env bash\n(#.*\n)*set -euo pipefail$/m);
    }
  });

  it('when asked for --help, then each prints its usage, steps and options and exits 0', function () {
    const deploy = script(DEPLOY, undefined, ['--help']);
    const rollback = script(ROLLBACK, undefined, ['--help']);

    expect(deploy.status).to.equal(0);
    expect(deploy.stdout).to.match(/^usage: deploy_production\.sh \[options\] <tag>/);
    for (const text of ['1. backup', '4. migrate', '6. smoke', '8. drain', '--dry-run', '--drain-timeout', '--first-deploy']) {
      expect(deploy.stdout).to.include(text);
    }
    expect(rollback.status).to.equal(0);
    expect(rollback.stdout).to.match(/^usage: rollback\.sh --list/);
    for (const text of ['1. revert-migrations', '2. restore-database', '8. drain', '--backup FILE', '--dry-run']) {
      expect(rollback.stdout).to.include(text);
    }
  });

  it('when the arguments are wrong, then each says what is wrong and exits 2 without doing anything', function () {
    const repo = releaseRepo();
    const cases: [string, string[], RegExp][] = [
      [DEPLOY, ['--dry-run', '--url', BASE_URL], /which release\? give its tag/],
      [DEPLOY, ['--dry-run', '--url', BASE_URL, 'v9.9.9'], /unknown tag: v9\.9\.9/],
      [DEPLOY, ['--dry-run', '--url', BASE_URL, '--bogus', 'v1.1.0'], /unknown option: --bogus/],
      [DEPLOY, ['--dry-run', '--url', BASE_URL, 'v1.1.0', 'v1.2.0'], /one tag only/],
      [DEPLOY, ['--dry-run', 'v1.1.0'], /a base URL is needed/],
      [DEPLOY, ['--url', BASE_URL, '--simulate-failure', 'smoke', 'v1.1.0'], /--simulate-failure only works with --dry-run/],
      [DEPLOY, ['--dry-run', '--url'], /--url needs a value/],
      [DEPLOY, ['--dry-run', '--url', BASE_URL, '--health-timeout', 'soon', 'v1.1.0'], /--health-timeout needs a number/],
      [DEPLOY, ['--dry-run', '--url', BASE_URL, 'v1.1.0', '--drain-timeout'], /--drain-timeout needs a value/],
      [ROLLBACK, ['--dry-run', '--url', BASE_URL, '--drain-timeout', 'later', 'v1.0.0'], /--drain-timeout needs a number/],
      [ROLLBACK, ['--dry-run', '--url', BASE_URL, '--first-deploy', 'v1.0.0'], /unknown option: --first-deploy/],
      [DEPLOY, ['--dry-run', '--url', BASE_URL, '--list'], /unknown option: --list/],
      [ROLLBACK, ['--dry-run', '--url', BASE_URL], /give its tag, or --list/],
      [ROLLBACK, ['--list', 'v1.0.0'], /--list takes no tag/],
      [ROLLBACK, ['--dry-run', '--url', BASE_URL, '--backup'], /--backup needs a file/],
    ];
    for (const [file, args, message] of cases) {
      const result = script(file, repo, args);
      expect(result.status, `${path.basename(file)} ${args.join(' ')}\n${result.all}`).to.equal(2);
      expect(result.stderr).to.match(message);
      expect(result.stdout, 'no step was started').to.not.include('==>');
    }
    expect(repo.git('describe', '--tags', '--exact-match', 'HEAD')).to.equal('v1.0.0');
  });

  it('when deploying in dry-run, then the plan runs backup (by the running release) before checkout and smoke after restart, and changes nothing', function () {
    const repo = releaseRepo('v1.0.0');
    const head = repo.git('rev-parse', 'HEAD');

    const result = script(DEPLOY, repo, ['--dry-run', '--url', BASE_URL, 'v1.1.0']);

    expect(result.status, result.all).to.equal(0);
    expect(result.stdout).to.match(/^DRY RUN: commands are printed, not run$/m);
    expect(names(result.stdout)).to.deep.equal(['backup', 'checkout', 'build', 'migrate', 'restart', 'smoke', 'record', 'drain']);
    expect(result.stdout).to.match(
      /^\+ env CAFE_FLOW_VERSION=v1\.0\.0 docker compose .* run --rm --no-deps -T worker node dist\/scripts\/backup\.js$/m,
    );
    expect(result.stdout).to.match(/^\+ git -C \S+ checkout --quiet --detach refs\/tags\/v1\.1\.0$/m);
    expect(result.stdout).to.match(
      /^\+ env CAFE_FLOW_VERSION=v1\.1\.0 docker compose .* run --rm --no-deps -T api node dist\/scripts\/migrate\.js latest$/m,
    );
    const worker = result.stdout.indexOf('up -d --no-deps worker');
    const api = result.stdout.indexOf('up -d --no-deps api');
    const ready = result.stdout.indexOf(`curl -fsS --max-time 10 ${BASE_URL}/ready`);
    expect(worker, 'worker first').to.be.within(0, api);
    expect(ready, '/ready after the api restart').to.be.greaterThan(api);
    expect(result.stdout).to.match(new RegExp(`node dist/scripts/smoke\\.js --url ${BASE_URL}$`, 'm'));
    const baseline = result.stdout.search(/^\+ record in \S+: \S+\tv1\.0\.0\t[0-9a-f]+\tbaseline\t-$/m);
    expect(baseline, 'the release found at HEAD is recorded before the backup').to.be.within(
      0,
      result.stdout.indexOf('==> [1] backup'),
    );
    expect(result.stdout).to.match(/^\+ record in \S+\/\.deploy\/history: \S+\tv1\.1\.0\t[0-9a-f]+\tdeployed\t/m);
    expect(repo.git('rev-parse', 'HEAD'), 'still checked out where it was').to.equal(head);
    expect(fs.existsSync(path.join(repo.dir, '.deploy')), 'no state written').to.equal(false);
  });

  it('when deploying with versioning in dry-run, then the old worker is parked before the new one starts, the new version is made current before the api restarts, and the old one drains last', function () {
    const result = script(DEPLOY, releaseRepo('v1.0.0'), ['--dry-run', '--url', BASE_URL, '--drain-timeout', '600', 'v1.1.0']);

    expect(result.status, result.all).to.equal(0);
    const out = result.stdout;
    const park = out.search(
      /^\+ env CAFE_FLOW_VERSION=v1\.0\.0 docker compose .* run -d --no-deps --label cafe-flow\.parked-release=v1\.0\.0 --name cafe-flow-worker-v1\.0\.0 worker$/m,
    );
    const newWorker = out.search(/^\+ env CAFE_FLOW_VERSION=v1\.1\.0 .* up -d --no-deps worker$/m);
    const current = out.search(
      /^\+ env CAFE_FLOW_VERSION=v1\.1\.0 .* run --rm --no-deps -T --entrypoint temporal temporal-namespace-setup worker deployment set-current-version --deployment-name cafe-flow --build-id v1\.1\.0 --yes$/m,
    );
    const api = out.search(/^\+ env CAFE_FLOW_VERSION=v1\.1\.0 .* up -d --no-deps api$/m);
    expect(park, 'the old worker is parked').to.be.greaterThan(0);
    expect(newWorker, 'then the new worker starts').to.be.greaterThan(park);
    expect(current, 'then it becomes current').to.be.greaterThan(newWorker);
    expect(api, 'then the api restarts').to.be.greaterThan(current);
    const drain = out.slice(out.indexOf('==> [8] drain'));
    expect(drain).to.match(/up to 600s, until its drainageStatus is drained/);
    expect(drain).to.match(/describe-version --deployment-name cafe-flow --build-id v1\.0\.0 -o json$/m);
    expect(drain).to.include('docker stop --time 60, then docker rm, each container labelled cafe-flow.parked-release=v1.0.0');
  });

  it('when the env file turns versioning off, then the plan only restarts the services: no parking, no current version, no drain', function () {
    const repo = releaseRepo('v1.0.0');
    fs.writeFileSync(path.join(repo.dir, '.env.production'), 'WORKER_VERSIONING=off\nWORKER_DEPLOYMENT_NAME=elsewhere\n');

    const result = script(DEPLOY, repo, ['--dry-run', '--url', BASE_URL, 'v1.1.0']);

    expect(result.status, result.all).to.equal(0);
    expect(names(result.stdout)).to.deep.equal(['backup', 'checkout', 'build', 'migrate', 'restart', 'smoke', 'record']);
    expect(result.stdout).to.not.match(/parked|set-current-version|describe-version/);
  });

  it('when the env file names the deployment, then that name is the one made current', function () {
    const repo = releaseRepo('v1.0.0');
    fs.writeFileSync(path.join(repo.dir, '.env.production'), 'WORKER_DEPLOYMENT_NAME="cafe-flow-eu"\n');

    const result = script(DEPLOY, repo, ['--dry-run', '--url', BASE_URL, 'v1.1.0']);

    expect(result.status, result.all).to.equal(0);
    expect(result.stdout).to.include('set-current-version --deployment-name cafe-flow-eu --build-id v1.1.0 --yes');
  });

  it('when the smoke check fails, then the plan reverts the new migrations, then checks out, restarts and smoke-checks the previous release', function () {
    const repo = releaseRepo('v1.0.0');

    const result = script(DEPLOY, repo, ['--dry-run', '--url', BASE_URL, '--simulate-failure', 'smoke', 'v1.2.0']);

    expect(result.status, result.all).to.equal(1);
    expect(names(result.stdout)).to.deep.equal([
      'backup',
      'checkout',
      'build',
      'migrate',
      'restart',
      'smoke',
      'revert-migrations',
      'checkout',
      'build',
      'restart',
      'smoke',
      'record',
      'drain',
    ]);
    const rollback = result.stdout.slice(result.stdout.indexOf('==> rolling back to v1.0.0 (v1.2.0 failed at smoke)'));
    expect(rollback, 'orders placed on v1.2.0 keep a worker').to.match(
      /run -d --no-deps --label cafe-flow\.parked-release=v1\.2\.0 /,
    );
    expect(rollback).to.include('set-current-version --deployment-name cafe-flow --build-id v1.0.0 --yes');
    expect(rollback).to.match(/describe-version --deployment-name cafe-flow --build-id v1\.2\.0 -o json$/m);
    expect(rollback).to.match(/^to revert: 20260201000001_loyalty 20260301000001_tips$/m);
    expect(rollback).to.match(/^\+ env CAFE_FLOW_VERSION=v1\.2\.0 .* node dist\/scripts\/migrate\.js rollback$/m);
    expect(rollback).to.match(/^\+ git -C \S+ checkout --quiet --detach refs\/tags\/v1\.0\.0$/m);
    expect(rollback).to.match(/^\+ env CAFE_FLOW_VERSION=v1\.0\.0 .* up -d --no-deps worker$/m);
    expect(rollback).to.match(/\tv1\.2\.0\t[0-9a-f]+\tbroken\t/);
    expect(rollback).to.match(/\tv1\.0\.0\t[0-9a-f]+\trolled-back\t-$/m);
    expect(rollback, 'the database is left alone').to.not.match(/restore/);
    expect(result.stderr).to.match(/smoke failed while deploying v1\.2\.0/);
  });

  it('when the build fails, then only the working tree goes back: no migration, restart or restore', function () {
    const repo = releaseRepo('v1.0.0');

    const result = script(DEPLOY, repo, ['--dry-run', '--url', BASE_URL, '--simulate-failure', 'build', 'v1.1.0']);

    expect(result.status, result.all).to.equal(1);
    expect(names(result.stdout)).to.deep.equal(['backup', 'checkout', 'build', 'checkout']);
    expect(steps(result.stdout).at(-1)).to.equal('checkout: git checkout v1.0.0');
    expect(result.stdout).to.match(/\tv1\.1\.0\t[0-9a-f]+\tfailed\t/);
  });

  it('when the backup fails, then nothing else is planned', function () {
    const result = script(DEPLOY, releaseRepo('v1.0.0'), [
      '--dry-run',
      '--url',
      BASE_URL,
      '--simulate-failure',
      'backup',
      'v1.1.0',
    ]);

    expect(result.status).to.equal(1);
    expect(names(result.stdout)).to.deep.equal(['backup']);
    expect(result.stderr).to.match(/the backup failed: nothing was changed/);
  });

  it('when a migration cannot be reverted, then without --allow-db-restore the plan stops and says how to restore', function () {
    const args = ['--dry-run', '--url', BASE_URL, '--simulate-failure', 'smoke,revert', 'v1.1.0'];
    const result = script(DEPLOY, releaseRepo('v1.0.0'), args);

    expect(result.status).to.equal(1);
    expect(names(result.stdout).slice(-2)).to.deep.equal(['smoke', 'revert-migrations']);
    expect(result.stdout).to.match(/^a migration of v1\.1\.0 cannot be reverted \(irreversible\)$/m);
    expect(result.stderr).to.include('scripts/rollback.sh v1.0.0 --allow-db-restore --backup <archive printed by the backup>');
    expect(result.stdout).to.not.include('restore.js');
  });

  it('when a migration cannot be reverted and --allow-db-restore is given, then the backup is restored before the previous release restarts', function () {
    const args = ['--dry-run', '--allow-db-restore', '--url', BASE_URL, '--simulate-failure', 'smoke,revert', 'v1.1.0'];
    const result = script(DEPLOY, releaseRepo('v1.0.0'), args);

    expect(result.status, result.all).to.equal(1);
    expect(names(result.stdout).slice(6)).to.deep.equal([
      'revert-migrations',
      'restore-database',
      'checkout',
      'build',
      'restart',
      'smoke',
      'record',
      'drain',
    ]);
    const restore = result.stdout.slice(result.stdout.indexOf('restore-database'));
    expect(restore).to.match(/^\+ docker compose .* stop api worker$/m);
    expect(restore).to.match(/restore\.js <archive printed by the backup> --database <POSTGRES_DB> --force$/m);
    expect(restore.indexOf('stop api worker')).to.be.lessThan(restore.indexOf('restore.js'));
  });

  it('when nothing is recorded and HEAD is not at a tag, then deploy asks for --first-deploy, which skips the backup', function () {
    const repo = releaseRepo('v1.2.0');
    repo.git('checkout', '--quiet', 'HEAD~1^0');
    fs.writeFileSync(path.join(repo.dir, 'untagged.txt'), 'x');
    repo.git('add', '--all');
    repo.git('commit', '--quiet', '--message', 'untagged');

    const refused = script(DEPLOY, repo, ['--dry-run', '--url', BASE_URL, 'v1.2.0']);
    const first = script(DEPLOY, repo, ['--dry-run', '--url', BASE_URL, '--first-deploy', 'v1.2.0']);

    expect(refused.status).to.equal(1);
    expect(refused.stderr).to.match(/pass --first-deploy/);
    expect(first.status, first.all).to.equal(0);
    expect(first.stdout).to.match(/^first deploy: no release runs yet, nothing to back up$/m);
    expect(first.stdout).to.not.include('backup.js');
  });

  it('when the checkout has uncommitted changes, then deploy and rollback refuse', function () {
    const repo = releaseRepo('v1.1.0');
    fs.appendFileSync(path.join(repo.dir, 'db', 'migrations', '20260101000001_accounts.ts'), '// edited\n');

    for (const [file, tag] of [
      [DEPLOY, 'v1.2.0'],
      [ROLLBACK, 'v1.0.0'],
    ] as const) {
      const result = script(file, repo, ['--dry-run', '--url', BASE_URL, tag]);
      expect(result.status).to.equal(1);
      expect(result.stderr).to.match(/has uncommitted changes/);
    }
  });

  it('when listing, then rollback shows the tags newest first, marks the running one and its last recorded event', function () {
    const repo = releaseRepo('v1.2.0');
    writeHistory(repo, [
      ['2026-11-01T10:00:00Z', 'v1.0.0', 'aaaaaaa', 'deployed', '-'],
      ['2026-11-10T10:00:00Z', 'v1.1.0', 'bbbbbbb', 'deployed', '/backups/before-1.1.dump'],
      ['2026-11-20T10:00:00Z', 'v1.2.0', 'ccccccc', 'failed', '/backups/before-1.2.dump'],
    ]);

    const result = script(ROLLBACK, repo, ['--list']);

    expect(result.status, result.all).to.equal(0);
    const rows = result.stdout.trim().split('\n').slice(1);
    expect(rows.map((row) => row.replace(/\s+/g, ' ').trim())).to.deep.equal([
      'v1.2.0 failed 2026-11-20T10:00:00Z',
      '* v1.1.0 deployed 2026-11-10T10:00:00Z',
      'v1.0.0 deployed 2026-11-01T10:00:00Z',
    ]);
  });

  it("when rolling back two releases with --allow-db-restore, then both releases' migrations are reverted and the backup taken before the next release is the one offered", function () {
    const repo = releaseRepo('v1.2.0');
    const history = writeHistory(repo, [
      ['2026-11-01T10:00:00Z', 'v1.0.0', 'aaaaaaa', 'deployed', '-'],
      ['2026-11-10T10:00:00Z', 'v1.1.0', 'bbbbbbb', 'deployed', '/backups/before-1.1.dump'],
      ['2026-11-20T10:00:00Z', 'v1.2.0', 'ccccccc', 'deployed', '/backups/before-1.2.dump'],
    ]);

    const args = ['--dry-run', '--allow-db-restore', '--url', BASE_URL, '--simulate-failure', 'revert', 'v1.0.0'];
    const result = script(ROLLBACK, repo, args);

    expect(result.status, result.all).to.equal(0);
    expect(result.stdout).to.match(/^rolling back from v1\.2\.0 to v1\.0\.0; backup if needed: \/backups\/before-1\.1\.dump$/m);
    expect(names(result.stdout)).to.deep.equal([
      'revert-migrations',
      'restore-database',
      'checkout',
      'build',
      'restart',
      'smoke',
      'record',
      'drain',
    ]);
    expect(result.stdout).to.match(/^to revert: 20260201000001_loyalty 20260301000001_tips$/m);
    expect(result.stdout).to.match(/restore\.js \/backups\/before-1\.1\.dump --database/);
    expect(result.stdout).to.match(/\tv1\.0\.0\t[0-9a-f]+\trolled-back\t-$/m);
    expect(fs.readFileSync(path.join(repo.dir, '.deploy', 'history'), 'utf8'), 'dry-run: history untouched').to.equal(history);
  });

  it('when rolling back to the running release, then there is nothing to do', function () {
    const repo = releaseRepo('v1.1.0');

    const result = script(ROLLBACK, repo, ['--dry-run', '--url', BASE_URL, 'v1.1.0']);

    expect(result.status).to.equal(0);
    expect(result.stdout).to.match(/^v1\.1\.0 is the running release: nothing to do$/m);
    expect(steps(result.stdout)).to.deep.equal([]);
  });

  it('when run for real and the smoke check fails, then the new migration is reverted, the previous release restarted and the history says so', function () {
    const repo = releaseRepo('v1.0.0');
    const docker = standInDocker(repo, { failSmokeOn: 'v1.1.0', applied: ['20260101000001_accounts'] });

    const result = script(DEPLOY, repo, ['--health-timeout', '5', 'v1.1.0'], docker.path);

    expect(result.status, result.all).to.equal(1);
    expect(docker.applied()).to.deep.equal(['20260101000001_accounts']);
    expect(repo.git('describe', '--tags', '--exact-match', 'HEAD')).to.equal('v1.0.0');
    expect(lifecycle(docker.calls())).to.deep.equal([
      'backup',
      'migrate.js latest',
      'park v1.0.0',
      'up -d --no-deps worker',
      'current v1.1.0',
      'up -d --no-deps api',
      'smoke',
      'migrate.js rollback',
      'park v1.1.0',
      'up -d --no-deps worker',
      'stop parked-v1.0.0',
      'rm parked-v1.0.0',
      'current v1.0.0',
      'up -d --no-deps api',
      'smoke',
      'drainage of v1.1.0',
      'drainage of v1.1.0',
      'stop parked-v1.1.0',
      'rm parked-v1.1.0',
    ]);
    expect(docker.parked(), 'the drained worker of v1.1.0 is retired').to.deep.equal([]);
    expect(recordedHistory(repo)).to.deep.equal([
      ['v1.0.0', 'baseline', '-'],
      ['v1.1.0', 'broken', '/var/backups/cafe-flow/before.dump'],
      ['v1.0.0', 'rolled-back', '-'],
    ]);
  });

  it('when run for real and orders pinned to the old release still run at the drain deadline, then the deploy succeeds, its worker stays, and the next deploy retires it once drained', function () {
    const repo = releaseRepo('v1.0.0');
    const docker = standInDocker(repo, { applied: ['20260101000001_accounts'], drainage: 'draining' });

    const first = script(DEPLOY, repo, ['--health-timeout', '5', '--drain-timeout', '0', 'v1.1.0'], docker.path);

    expect(first.status, first.all).to.equal(0);
    expect(docker.parked(), 'v1.0.0 still serves its pinned orders').to.deep.equal(['v1.0.0']);
    expect(first.stderr).to.match(/the worker of v1\.0\.0 stays \(draining\)/);
    const calls = docker.calls();
    expect(
      calls.findIndex((call) => call.includes('parked-release=v1.0.0')),
      'parked before the new worker starts',
    ).to.be.lessThan(calls.findIndex((call) => call.endsWith('up -d --no-deps worker')));

    docker.drainage('drained');
    const second = script(DEPLOY, repo, ['--health-timeout', '5', '--drain-timeout', '0', 'v1.2.0'], docker.path);

    expect(second.status, second.all).to.equal(0);
    expect(docker.parked(), 'both drained releases retired').to.deep.equal([]);
    expect(second.stdout).to.match(/^retiring the worker of v1\.0\.0: every workflow pinned to it has finished$/m);
    expect(second.stdout).to.match(/^retiring the worker of v1\.1\.0: every workflow pinned to it has finished$/m);
    expect(recordedHistory(repo).map(([tag, status]) => `${tag} ${status}`)).to.deep.equal([
      'v1.0.0 baseline',
      'v1.1.0 deployed',
      'v1.2.0 deployed',
    ]);
  });

  it('when the scripts parse their arguments, then one loop in deploy-common.sh does it for both', function () {
    const loop = /while \(\(\$#\)\)/g;
    expect(readRepoFile('scripts/deploy-common.sh').match(loop)).to.have.length(1);
    for (const file of ['scripts/deploy_production.sh', 'scripts/rollback.sh']) {
      expect(readRepoFile(file), file).to.not.match(loop);
      expect(readRepoFile(file), file).to.match(/^parse_arguments "\$@"$/m);
    }
  });
});

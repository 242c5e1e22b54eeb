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
import { describeFailure, requireTool, run } from './support';

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
    for (const text of ['1. backup', '4. migrate', '6. smoke', '--dry-run', '--allow-db-restore', '--first-deploy']) {
      expect(deploy.stdout).to.include(text);
    }
    expect(rollback.status).to.equal(0);
    expect(rollback.stdout).to.match(/^usage: rollback\.sh --list/);
    for (const text of ['1. revert-migrations', '2. restore-database', '--backup FILE', '--dry-run']) {
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
    expect(names(result.stdout)).to.deep.equal(['backup', 'checkout', 'build', 'migrate', 'restart', 'smoke', 'record']);
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
    ]);
    const rollback = result.stdout.slice(result.stdout.indexOf('==> rolling back to v1.0.0 (v1.2.0 failed at smoke)'));
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
    const calls = docker.calls().filter((call) => /backup\.js|migrate\.js|up -d|smoke\.js/.test(call));
    expect(calls.map((call) => /(backup|migrate\.js \w+|up -d --no-deps \w+|smoke)/.exec(call)![1])).to.deep.equal([
      'backup',
      'migrate.js latest',
      'up -d --no-deps worker',
      'up -d --no-deps api',
      'smoke',
      'migrate.js rollback',
      'up -d --no-deps worker',
      'up -d --no-deps api',
      'smoke',
    ]);
    expect(recordedHistory(repo)).to.deep.equal([
      ['v1.0.0', 'baseline', '-'],
      ['v1.1.0', 'broken', '/var/backups/cafe-flow/before.dump'],
      ['v1.0.0', 'rolled-back', '-'],
    ]);
  });
});

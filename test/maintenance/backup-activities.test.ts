import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readFile, readdir, utimes, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { ApplicationFailure } from '@temporalio/common';
import { expect } from 'chai';
import { findPgTools } from '../../activities/maintenance/pg-tools';
import { createDb, type Db } from '../../db/knex';
import { BackupFailure } from '../../workflows/maintenance/contracts';
import { testDatabaseUrl } from '../support/env';
import { backupActivities, backupSettings, fakePgTools, removeTempDirs, tempDir } from './support';

const BUENOS_AIRES = 'America/Argentina/Buenos_Aires';

async function writeBackup(dir: string, name: string, options: { checksum?: boolean } = {}): Promise<void> {
  await writeFile(path.join(dir, name), `archive ${name}`);
  if (options.checksum !== false) await writeFile(path.join(dir, `${name}.sha256`), `${'0'.repeat(64)}  ${name}\n`);
}

async function rejection(promise: Promise<unknown>): Promise<ApplicationFailure> {
  const error = await promise.then(
    () => undefined,
    (failure: unknown) => failure,
  );
  expect(error, 'expected a failure').to.be.instanceOf(ApplicationFailure);
  return error as ApplicationFailure;
}

describe('backup activities', () => {
  let db: Db;
  before(() => {
    db = createDb({ url: testDatabaseUrl(), poolMax: 2 });
  });
  after(async () => {
    await db?.destroy();
    await removeTempDirs();
  });

  describe('pruneBackups', () => {
    it('when dated backups pile up, then the newest of the last 3 local days and 2 ISO weeks survive, per database', async () => {
      const dir = await tempDir('prune');
      const keep = [
        'cafe_20261128T060000Z_aaaa0001.dump', // Sat 28 03:00 in Buenos Aires: newest, day 1, week 48
        'cafe_20261127T060000Z_aaaa0002.dump', // Fri 27: day 2
        'cafe_20261127T020000Z_aaaa0003.dump', // Thu 26 23:00 local: the newest of local day 3
        'cafe_20261120T060000Z_aaaa0006.dump', // Fri 20: the newest of week 47
        'temporal_20261001T060000Z.dump', // another database: its only, hence newest, backup
      ];
      const drop = [
        'cafe_20261126T060000Z_aaaa0004.dump', // Thu 26 03:00 local: older than ...0003 on the same local day
        'cafe_20261125T060000Z_aaaa0005.dump',
        'cafe_20261118T060000Z_aaaa0007.dump',
        'cafe_20261110T060000Z_aaaa0008.dump',
      ];
      for (const name of [...keep, ...drop]) await writeBackup(dir, name);
      await writeBackup(dir, 'cafe_20260101T060000Z.dump', { checksum: false });
      await writeFile(path.join(dir, 'notes.txt'), 'not ours');
      await writeFile(path.join(dir, 'cafe_20260201T060000Z.dump.sha256'), `${'0'.repeat(64)}  orphan\n`);
      await writeFile(path.join(dir, 'cafe_20261101T060000Z_dead0001.dump.1.partial'), 'left by a dead worker');
      await writeFile(path.join(dir, 'cafe_20261128T070000Z_live0001.dump.1.partial'), 'being written');
      const twoDaysAgo = new Date(Date.now() - 2 * 86_400_000);
      await utimes(path.join(dir, 'cafe_20261101T060000Z_dead0001.dump.1.partial'), twoDaysAgo, twoDaysAgo);

      const { activities, run } = backupActivities(
        db,
        backupSettings(dir, { keepDaily: 3, keepWeekly: 2, timezone: BUENOS_AIRES }),
      );
      const outcome = await run(() => activities.pruneBackups({ protect: [] }));

      expect([...outcome.kept].sort()).to.deep.equal([...keep].sort());
      const expected = [
        ...keep.flatMap((name) => [name, `${name}.sha256`]),
        'cafe_20260101T060000Z.dump',
        'notes.txt',
        'cafe_20261128T070000Z_live0001.dump.1.partial',
      ];
      expect((await readdir(dir)).sort()).to.deep.equal(expected.sort());
      expect(outcome.deleted).to.include.members([
        ...drop,
        'cafe_20260201T060000Z.dump.sha256',
        'cafe_20261101T060000Z_dead0001.dump.1.partial',
      ]);
    });

    it('when the rules would drop the newest backup recorded as verified, then it is kept', async () => {
      const dir = await tempDir('prune-protect');
      const names = ['cafe_20261128T060000Z.dump', 'cafe_20261120T060000Z.dump', 'cafe_20261110T060000Z.dump'];
      for (const name of names) await writeBackup(dir, name);
      const workflowId = `backup:test:${randomUUID()}`;
      const archive = { database: 'cafe', file: path.join(dir, names[1]!), sizeBytes: 1, sha256: '0'.repeat(64), verified: true };
      await db('backupRuns').insert({
        workflowId,
        startedAt: new Date(Date.now() + 60_000),
        status: 'succeeded',
        verified: true,
        archives: JSON.stringify([archive]),
      });
      try {
        const { activities, run } = backupActivities(db, backupSettings(dir, { keepDaily: 1, keepWeekly: 1, timezone: 'UTC' }));
        const outcome = await run(() => activities.pruneBackups({ protect: [] }));

        expect(outcome.deleted).to.deep.equal([`${names[2]}.sha256`, names[2]]);
        expect(existsSync(path.join(dir, names[1]!))).to.equal(true);
        expect(existsSync(path.join(dir, `${names[1]}.sha256`))).to.equal(true);
      } finally {
        await db('backupRuns').where({ workflowId }).delete();
      }
    });
  });

  describe('dumpDatabase', () => {
    it('when pg_dump is killed mid-dump, then nothing is left behind, the failure is retryable and the password never reached its command line', async () => {
      const dir = await tempDir('dump-killed');
      const fake = await fakePgTools(15);
      const url = new URL(testDatabaseUrl());
      url.password = 's3cr:et';
      const { activities, run } = backupActivities(db, backupSettings(dir, { pgBinDir: fake.dir, databaseUrl: url.toString() }));

      const failure = await rejection(
        run(() => activities.dumpDatabase({ database: 'cafe_flow_extra', takenAt: new Date().toISOString(), tag: 'abcd1234' })),
      );

      expect(failure.type).to.equal(BackupFailure.DumpFailed);
      expect(failure.nonRetryable).to.equal(false);
      expect(failure.message).to.contain('SIGKILL');
      expect(await readdir(dir)).to.deep.equal([]);
      const log = await readFile(fake.log, 'utf8');
      expect(log).to.match(/argv: --format=custom --file=\S+cafe_flow_extra_\d{8}T\d{6}Z_abcd1234\.dump\.1\.partial/);
      expect(log).to.match(/^PGDATABASE=cafe_flow_extra$/m);
      expect(log).to.match(/^PGPASSFILE=/m);
      expect(log).not.to.match(/PGPASSWORD/);
      expect(log.split('\n').find((line) => line.startsWith('argv:'))).not.to.contain('s3cr');
      expect(log, 'the colon in the password is escaped').to.contain('passfile: *:*:*:postgres:s3cr\\:et');
      const passfile = /^PGPASSFILE=(.+)$/m.exec(log)![1]!;
      expect(existsSync(passfile), 'the passfile is removed after the dump').to.equal(false);
    });
  });

  describe('pg_dump discovery', () => {
    it("when the server's major version is installed side by side, then its bin directory is chosen", async () => {
      const tools = await findPgTools({ major: 15, systemRoot: '/usr/lib/postgresql' });
      expect(tools).to.deep.equal({
        pgDump: '/usr/lib/postgresql/15/bin/pg_dump',
        pgRestore: '/usr/lib/postgresql/15/bin/pg_restore',
        major: 15,
      });
    });

    it('when a configured directory has the right version, then it wins over the system ones', async () => {
      const fake = await fakePgTools(15);
      const tools = await findPgTools({ major: 15, configuredDir: fake.dir });
      expect(tools.pgDump).to.equal(path.join(fake.dir, 'pg_dump'));
    });

    it('when no pg_dump of the server version exists, then the failure is non-retryable and names the version needed', async () => {
      const fake = await fakePgTools(15);
      const empty = await tempDir('no-postgres');
      const failure = await rejection(findPgTools({ major: 99, configuredDir: fake.dir, systemRoot: empty }));

      expect(failure.type).to.equal(BackupFailure.PgToolsNotFound);
      expect(failure.nonRetryable).to.equal(true);
      expect(failure.message).to.contain('version 99 are needed');
      expect(failure.message).to.contain('postgresql-client-99');
      expect(failure.message).to.contain(`${path.join(fake.dir, 'pg_dump')} (version 15)`);
    });

    it('when the worker has no backup settings, then every backup activity refuses with BackupNotConfigured', async () => {
      const { activities, run } = backupActivities(db, undefined);
      const failure = await rejection(run(() => activities.pruneBackups({ protect: [] })));
      expect(failure.type).to.equal(BackupFailure.NotConfigured);
      expect(failure.nonRetryable).to.equal(true);
    });
  });
});

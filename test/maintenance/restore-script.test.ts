import { randomBytes } from 'node:crypto';
import { copyFile, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { expect } from 'chai';
import { createDb, dropDatabase, withDatabase, type Db } from '../../db/knex';
import { testAdminUrl } from '../support/database';
import { testDatabaseUrl } from '../support/env';
import { runOperatorScript, writeTestStackFile } from './operator-support';
import { backupActivities, backupSettings, mainTableCounts, runScript, seedCafe, removeTempDirs, tempDir } from './support';

describe('npm run restore', () => {
  let db: Db;
  let archive: string;
  let archivedCounts: Record<string, number>;
  const created: string[] = [];

  before(async function () {
    this.timeout(60_000);
    db = createDb({ url: testDatabaseUrl(), poolMax: 2 });
    await seedCafe(db);
    const { activities, run } = backupActivities(db, backupSettings(await tempDir('restore-source')));
    const dump = await run(() => activities.dumpDatabase({ takenAt: new Date().toISOString(), tag: 'rest0001' }));
    archive = dump.file;
    archivedCounts = dump.rowCounts!;
  });
  after(async () => {
    for (const name of created) await dropDatabase(testAdminUrl(), name);
    await db?.destroy();
    await removeTempDirs();
  });

  const newDatabaseName = () => {
    const name = `cafe_flow_restore_${randomBytes(4).toString('hex')}`;
    created.push(name);
    return name;
  };

  async function withTarget<T>(name: string, fn: (target: Db) => Promise<T>): Promise<T> {
    const target = createDb({ url: withDatabase(testAdminUrl(), name), poolMax: 1 });
    try {
      return await fn(target);
    } finally {
      await target.destroy();
    }
  }

  const databaseExists = async (name: string) =>
    (await db.raw('select 1 from pg_database where datname = ?', [name])).rows.length === 1;

  it('when restoring into a database that does not exist, then it is created and holds the archived rows', async function () {
    this.timeout(60_000);
    const name = newDatabaseName();
    const result = await runScript('restore.ts', [archive, '--database', name]);

    expect(result.code, result.stderr).to.equal(0);
    expect(result.stdout).to.contain('checksum and archive verified');
    expect(await withTarget(name, mainTableCounts)).to.deep.equal(archivedCounts);
  });

  it('when the target database already holds tables, then the restore is refused without --force and the data is untouched', async function () {
    this.timeout(60_000);
    const name = newDatabaseName();
    await db.raw('create database ??', [name]);
    await withTarget(name, (target) => target.raw("create table keep_me (note text); insert into keep_me values ('precious')"));

    const result = await runScript('restore.ts', [archive, '--database', name]);

    expect(result.code).to.equal(1);
    expect(result.stderr).to.contain(`database ${name} already holds 1 relations; pass --force`);
    const rows = await withTarget(name, (target) => target('keep_me').select('note'));
    expect(rows).to.deep.equal([{ note: 'precious' }]);
    expect(await withTarget(name, (target) => target.schema.hasTable('orders'))).to.equal(false);
  });

  it('when --force is given for a non-empty database, then it is replaced by the archive', async function () {
    this.timeout(60_000);
    const name = newDatabaseName();
    await db.raw('create database ??', [name]);
    await withTarget(name, (target) => target.raw('create table keep_me (note text)'));

    const result = await runScript('restore.ts', [archive, '--database', name, '--force']);

    expect(result.code, result.stderr).to.equal(0);
    expect(await withTarget(name, (target) => target.schema.hasTable('keep_me'))).to.equal(false);
    expect(await withTarget(name, mainTableCounts)).to.deep.equal(archivedCounts);
  });

  it('when the archive does not match its checksum, then nothing is restored', async function () {
    this.timeout(60_000);
    const dir = await tempDir('restore-bad');
    const copy = path.join(dir, path.basename(archive));
    await copyFile(archive, copy);
    await copyFile(`${archive}.sha256`, `${copy}.sha256`);
    const content = await readFile(copy);
    content[content.length - 10] = content[content.length - 10]! ^ 0xff;
    await writeFile(copy, content);
    const name = newDatabaseName();

    const result = await runScript('restore.ts', [copy, '--database', name]);

    expect(result.code).to.equal(1);
    expect(result.stderr).to.contain('checksum mismatch');
    expect(await databaseExists(name)).to.equal(false);
  });

  it('when run next to npm start with no DATABASE_URL, then it restores into the Postgres of the stack and prints each step', async function () {
    this.timeout(60_000);
    const name = newDatabaseName();
    const stackFile = await writeTestStackFile({
      temporal: { address: '127.0.0.1:9', namespace: 'default', taskQueue: 'unused', maintenanceTaskQueue: 'unused-maintenance' },
      databaseUrl: testDatabaseUrl(),
      apiUrl: 'http://127.0.0.1:9',
    });

    const result = await runOperatorScript('restore.ts', [archive, '--database', name], stackFile);

    expect(result.code, result.stderr).to.equal(0);
    expect(result.stdout).to.contain(`restoring into the Postgres of npm start (pid ${process.pid})`);
    expect(result.stdout).to.match(new RegExp(`^verifying ${path.basename(archive)}$`, 'm'));
    expect(result.stdout).to.match(new RegExp(`^restoring into ${name}$`, 'm'));
    expect(await withTarget(name, mainTableCounts)).to.deep.equal(archivedCounts);
  });

  it('when neither DATABASE_URL nor a running stack is there, then it says to start npm start or set DATABASE_URL', async function () {
    this.timeout(30_000);
    const name = newDatabaseName();
    const result = await runOperatorScript('restore.ts', [archive, '--database', name], '/nonexistent/stack.json');

    expect(result.code).to.equal(2);
    expect(result.stderr).to.contain('start the stack with npm start or set DATABASE_URL');
    expect(await databaseExists(name)).to.equal(false);
  });

  it('when the database is missing from the command line, then usage is printed with exit code 2', async function () {
    this.timeout(30_000);
    const result = await runScript('restore.ts', [archive]);
    expect(result.code).to.equal(2);
    expect(result.stderr).to.contain('usage: npm run restore');
  });
});

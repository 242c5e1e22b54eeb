import { DefaultLogger, Runtime } from '@temporalio/worker';
import { setUpTestDatabase, tearDownTestDatabase } from './database';
import { tearDownTemporal } from './temporal';
import { setTestDatabaseUrl } from './env';

// The SDK's own worker logs (state changes, Nexus notices) would drown the test report.
Runtime.install({ logger: new DefaultLogger('ERROR') });

/**
 * Mocha root hooks: one fresh database for the run (migrated), and the shared Temporal dev server
 * (started lazily by the first test that needs it) stopped at the end.
 */
export const mochaHooks = {
  async beforeAll(this: Mocha.Context) {
    this.timeout(180_000);
    setTestDatabaseUrl(await setUpTestDatabase(process.env));
  },
  async afterAll(this: Mocha.Context) {
    this.timeout(60_000);
    await tearDownTemporal();
    await tearDownTestDatabase();
  },
};

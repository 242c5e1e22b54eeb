import { expect } from 'chai';
import { startApi } from '../../api/main';
import { ConfigError, loadConfig, requireFor, type Config } from '../../lib/config';
import { createLogger } from '../../lib/logger';
import { startWorker } from '../../workers/main';

const logger = createLogger({ level: 'silent', name: 'config-roles-test' });

function roleError(run: () => unknown): ConfigError {
  try {
    run();
  } catch (error) {
    expect(error).to.be.instanceOf(ConfigError);
    return error as ConfigError;
  }
  expect.fail('the role check accepted a config that lacks what the role needs');
}

async function rejection(promise: Promise<unknown>): Promise<ConfigError> {
  try {
    await promise;
  } catch (error) {
    expect(error).to.be.instanceOf(ConfigError);
    return error as ConfigError;
  }
  expect.fail('the process started without what its role needs');
}

describe('config: what each role needs', () => {
  it('when the API role lacks DATABASE_URL and TEMPORAL_ADDRESS, then both are named at once', () => {
    const error = roleError(() => requireFor(loadConfig({}), 'api'));

    expect(error.issues).to.deep.equal(['DATABASE_URL: required to run the api', 'TEMPORAL_ADDRESS: required to run the api']);
  });

  it('when the worker role lacks everything it needs, then the three variables are named', () => {
    const error = roleError(() => loadConfig({}, { role: 'worker' }));

    expect(error.issues).to.deep.equal([
      'DATABASE_URL: required to run the worker',
      'TEMPORAL_ADDRESS: required to run the worker',
      'MERCADOPAGO_ACCESS_TOKEN: required to run the worker',
    ]);
  });

  it('when the worker has its database and Temporal but no access token, then only the token is named', () => {
    const error = roleError(() =>
      loadConfig({ DATABASE_URL: 'postgres://db/cafe', TEMPORAL_ADDRESS: 'temporal:7233' }, { role: 'worker' }),
    );

    expect(error.issues).to.deep.equal(['MERCADOPAGO_ACCESS_TOKEN: required to run the worker']);
  });

  for (const [role, needs] of [
    ['migrate', 'DATABASE_URL'],
    ['restore', 'DATABASE_URL'],
    ['backup', 'TEMPORAL_ADDRESS'],
    ['schedules', 'TEMPORAL_ADDRESS'],
    ['smoke', 'TEMPORAL_ADDRESS'],
  ] as const) {
    it(`when the ${role} script runs without ${needs}, then only ${needs} is named`, () => {
      const error = roleError(() => loadConfig({}, { role }));

      expect(error.issues).to.deep.equal([`${needs}: required to run the ${role}`]);
    });
  }

  it('when a role has what it needs, then the values come back typed as set', () => {
    const config: Config = loadConfig({
      DATABASE_URL: 'postgres://db/cafe',
      TEMPORAL_ADDRESS: 'temporal:7233',
      MERCADOPAGO_ACCESS_TOKEN: 'APP_USR-1',
    });

    requireFor(config, 'worker');
    // Compiles only because requireFor narrowed the optional fields to strings.
    const set: string[] = [config.database.url, config.temporal.address, config.mercadopago.accessToken];

    expect(set).to.deep.equal(['postgres://db/cafe', 'temporal:7233', 'APP_USR-1']);
  });

  it('when the API process is started without its variables, then it fails before connecting to anything, naming both', async () => {
    const error = await rejection(startApi(loadConfig({ NODE_ENV: 'test' }), logger));

    expect(error.issues).to.deep.equal(['DATABASE_URL: required to run the api', 'TEMPORAL_ADDRESS: required to run the api']);
  });

  it('when the worker process is started without an access token, then it fails at start naming it', async () => {
    const config = loadConfig({ NODE_ENV: 'test', DATABASE_URL: 'postgres://127.0.0.1:1/none', TEMPORAL_ADDRESS: '127.0.0.1:1' });

    const error = await rejection(startWorker(config, logger, { installRuntime: false }));

    expect(error.issues).to.deep.equal(['MERCADOPAGO_ACCESS_TOKEN: required to run the worker']);
  });
});

import { randomUUID } from 'node:crypto';
import { MockActivityEnvironment } from '@temporalio/testing';
import { expect } from 'chai';
import { createSmokeActivities } from '../../activities/maintenance/smoke-activities';
import { SmokeSessions, type SmokeCredentials } from '../../activities/maintenance/smoke-sessions';
import { createDb, type Db } from '../../db/knex';
import { createLogger } from '../../lib/logger';
import { createMetrics } from '../../lib/metrics';
import { EncryptionCodec } from '../../lib/payload-codec';
import { SMOKE_WORKFLOW_TYPE, smokeCafeName, type Probe, type SmokeReport } from '../../workflows/maintenance/smoke-contracts';
import { testDatabaseUrl } from '../support/env';
import { startStack } from '../support/stack';
import { decodedText, rawText } from '../security/payload-codec-history';

/** Keeps every password and token the activities make, for the test to look for in the history. */
class RecordingSessions extends SmokeSessions {
  readonly secrets: string[] = [];

  override open(runTag: string, email: string): SmokeCredentials {
    const credentials = super.open(runTag, email);
    this.secrets.push(credentials.password);
    return credentials;
  }

  override signedIn(runTag: string, token: string): void {
    this.secrets.push(token);
    super.signedIn(runTag, token);
  }
}

const JWT = /eyJ[\w-]+\.eyJ[\w-]+\.[\w-]+/;

describe('smoke check credentials', () => {
  let db: Db;
  const quiet = () => ({
    logger: createLogger({ level: 'silent', name: 'test-smoke-secrets' }),
    metrics: createMetrics({ defaultMetrics: false }),
  });
  before(() => {
    db = createDb({ url: testDatabaseUrl(), poolMax: 2 });
  });
  after(() => db.destroy());

  it("when a smoke run signs up, orders and cleans up, then neither its password nor its token is in the workflow's history", async function () {
    this.timeout(120_000);
    const sessions = new RecordingSessions();
    const stack = await startStack({
      name: 'smoke-secrets',
      wrapActivities: (activities) => ({ ...activities, ...createSmokeActivities({ db, ...quiet(), sessions }) }),
    });
    try {
      const handle = await stack.client.workflow.start(SMOKE_WORKFLOW_TYPE, {
        taskQueue: stack.maintenanceTaskQueue,
        workflowId: `smoke:test:${randomUUID()}`,
        args: [{ baseUrl: stack.baseUrl, emulatorUrl: stack.emulator.url, p95Ms: 5000, rateLimitBurst: 0 }],
      });
      const report = (await handle.result()) as SmokeReport;

      expect(report.checks.filter((check) => check.status !== 'passed' && check.name !== 'rateLimit')).to.deep.equal([]);
      expect(sessions.secrets, 'a password and a token were made').to.have.length(2);
      const history = await stack.env.client.workflow.getHandle(handle.workflowId).fetchHistory();
      // Even decrypted, as the codec server would show it to an operator.
      const decoded = await decodedText(history, new EncryptionCodec(stack.config.temporal.payloadKeys));
      expect(decoded, 'the decoded history is readable').to.include(smokeCafeName(report.runTag));
      for (const secret of sessions.secrets) {
        expect(rawText(history)).not.to.include(secret);
        expect(decoded).not.to.include(secret);
      }
      expect(decoded).not.to.match(JWT);
    } finally {
      await stack.stop();
    }
  });

  it('when a later check runs on a worker that did not register the account, then it fails saying why, without a token', async () => {
    const activities = createSmokeActivities({ db, ...quiet(), sessions: new SmokeSessions() });
    const session = { baseUrl: 'http://127.0.0.1:9', runTag: 'a1b2c3d4e5f6', cafeId: randomUUID() };

    const probe = (await new MockActivityEnvironment().run(() => activities.createSmokeProduct(session))) as Probe<{
      productId: string;
    }>;

    expect(probe.status).to.equal('failed');
    expect(probe.error).to.equal(
      'the smoke account of run a1b2c3d4e5f6 is not known to this worker process (restarted, or another replica registered it)',
    );
  });
});

import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { expect } from 'chai';
import { historyFromJSON } from '@temporalio/common/lib/proto-utils';
import { bundleWorkflowCode, Worker, type ReplayResult } from '@temporalio/worker';
import { DeterminismViolationError } from '@temporalio/workflow';
import { payloadDataConverter } from '../../lib/payload-codec';
import { testConfig } from '../support/env';
import { workflowBundle } from '../support/temporal';

const historiesDir = path.join(__dirname, 'histories');
// As the worker decodes: histories recorded before the codec pass through it, newer ones
// (smoke.v1) were encrypted with the development key (an empty value selects it).
const dataConverter = () => payloadDataConverter(testConfig({ TEMPORAL_PAYLOAD_KEYS: '' }).temporal.payloadKeys);

async function loadHistories() {
  const files = (await readdir(historiesDir)).filter((file) => file.endsWith('.json')).sort();
  return Promise.all(
    files.map(async (file) => ({
      workflowId: file.replace(/\.json$/, ''),
      history: historyFromJSON(JSON.parse(await readFile(path.join(historiesDir, file), 'utf8'))),
    })),
  );
}

async function replayAll(bundle: Awaited<ReturnType<typeof workflowBundle>>): Promise<ReplayResult[]> {
  const results: ReplayResult[] = [];
  const replay = Worker.runReplayHistories({ workflowBundle: bundle, dataConverter: dataConverter() }, await loadHistories());
  for await (const result of replay) results.push(result);
  return results;
}

/**
 * Recorded histories of every workflow path must replay on today's code. When this fails, a
 * change altered what an existing execution would do: guard it with patched() (docs/architecture.md).
 */
describe('workflow replay', () => {
  it('when recorded histories are replayed on the current workflows, then none is non-deterministic', async function () {
    this.timeout(120_000);
    const results = await replayAll(await workflowBundle());
    expect(results.length).to.be.greaterThanOrEqual(5);
    for (const result of results) expect(result.error, `${result.workflowId}: ${result.error}`).to.equal(undefined);
  });

  it('when the order workflow changes what it does without patched(), then replay catches it', async function () {
    this.timeout(120_000);
    const changed = await bundleWorkflowCode({
      workflowsPath: require.resolve('./changed/workflows'),
      logger: { trace() {}, debug() {}, info() {}, warn() {}, error() {}, log() {} },
    });
    const results = await replayAll(changed);
    const orders = results.filter((result) => result.workflowId.startsWith('order-'));
    expect(orders.length).to.be.greaterThan(0);
    for (const result of orders) expect(result.error, result.workflowId).to.be.instanceOf(DeterminismViolationError);
  });
});

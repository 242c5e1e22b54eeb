/**
 * Records the histories replayed by test/replay/replay.test.ts. Run it after a deliberate
 * workflow change (guarded by patched()) to add histories of the new version:
 *   npm run record-histories
 * It runs each scenario against the real stack and writes test/replay/histories/<name>.json.
 * Keep the old files: they prove old executions still replay. (processPaymentNotification is no
 * longer started, so its v1/v2 histories are the last; they keep replaying while it is registered.)
 */
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { historyToJSON } from '@temporalio/common/lib/proto-utils';
import { setUpTestDatabase, tearDownTestDatabase } from '../support/database';
import { setTestDatabaseUrl } from '../support/env';
import { httpClient } from '../support/http';
import { registerUser } from '../support/fixtures';
import { act, openCafe, orderWithStatus, pay, placeOrder } from '../support/orders';
import { startStack } from '../support/stack';
import { tearDownTemporal } from '../support/temporal';

const version = process.argv[2] ?? 'v1';
const out = path.join(__dirname, 'histories');

async function main() {
  setTestDatabaseUrl(await setUpTestDatabase(process.env));
  const stack = await startStack({ name: 'record', env: { PAYMENT_TIMEOUT_SECONDS: '4' } });
  const api = httpClient(stack.baseUrl);
  const cafe = await openCafe(api);
  const customer = await registerUser(api);
  const recorded: Record<string, string> = {};

  const completed = await placeOrder(api, customer, cafe);
  await pay(stack, completed.payment.preferenceId, 'rejected');
  await pay(stack, completed.payment.preferenceId, 'approved');
  await orderWithStatus(api, customer, completed.id, 'paid');
  for (const action of ['accept', 'ready', 'complete']) await act(api, cafe.owner, completed.id, action);
  recorded['order-completed'] = `order:${cafe.id}:${completed.id}`;

  const refunded = await placeOrder(api, customer, cafe);
  await pay(stack, refunded.payment.preferenceId);
  await orderWithStatus(api, customer, refunded.id, 'paid');
  await act(api, cafe.owner, refunded.id, 'cancel', { reason: 'machine broken' });
  await orderWithStatus(api, customer, refunded.id, 'refunded');
  recorded['order-cancelled-after-payment'] = `order:${cafe.id}:${refunded.id}`;

  const unpaid = await placeOrder(api, customer, cafe);
  await act(api, customer, unpaid.id, 'cancel', { reason: 'changed my mind' });
  recorded['order-cancelled-unpaid'] = `order:${cafe.id}:${unpaid.id}`;

  const expired = await placeOrder(api, customer, cafe);
  await orderWithStatus(api, customer, expired.id, 'expired', 30_000);
  recorded['order-expired'] = `order:${cafe.id}:${expired.id}`;

  await mkdir(out, { recursive: true });
  for (const [name, workflowId] of Object.entries(recorded)) {
    const handle = stack.client.workflow.getHandle(workflowId);
    await handle.result();
    const history = await handle.fetchHistory();
    await writeFile(path.join(out, `${name}.${version}.json`), `${historyToJSON(history)}\n`);
    console.log(`recorded ${name}.${version}.json (${history.events?.length} events)`);
  }
  const backup = await stack.client.workflow.start('backupDatabase', {
    taskQueue: stack.maintenanceTaskQueue,
    workflowId: `backup:record:${Date.now()}`,
    args: [{}],
  });
  await backup.result();
  const backupHistory = await backup.fetchHistory();
  await writeFile(path.join(out, `backup.${version}.json`), `${historyToJSON(backupHistory)}\n`);
  console.log(`recorded backup.${version}.json (${backupHistory.events?.length} events)`);

  await stack.stop();
  await tearDownTemporal();
  await tearDownTestDatabase();
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});

/**
 * `npm start`: the whole stack on one machine with nothing installed but Node and Python —
 * Temporal dev server (with its UI), Postgres (embedded unless DATABASE_URL is set), migrations,
 * the MercadoPago emulator (unless real credentials are set), the worker and the API, and a
 * seeded demo café. Data lives under .data/, so a second start picks up where the first left off.
 */
import path from 'node:path';
import pino from 'pino';
import { startApi } from '../api/main';
import { createDb, ensureDatabase, migrateLatest, withDatabase } from '../db/knex';
import { loadConfig } from '../lib/config';
import { createLogger } from '../lib/logger';
import { temporalBinaries } from '../lib/temporal';
import { startWorker } from '../workers/main';
import { EncryptionCodec } from '../lib/payload-codec';
import { startCodecServer } from './codec-server';
import { startMercadoPagoEmulator } from './mercadopago-emulator';
import { removeStackFile, stackFilePath, writeStackFile } from './stack/discover';
import { freePort, startEmbeddedPostgres } from './stack/embedded-postgres';
import { startMailCatcher } from './stack/mail-catcher';
import { DEMO_CUSTOMER, DEMO_OWNER, seedDemo } from './stack/seed';
import { ensureTemporalInstalled, startTemporalDevServer } from './stack/temporal-dev-server';

const root = path.resolve(__dirname, '..');
const dataDir = path.join(root, '.data');
const stops: { name: string; stop: () => Promise<void> }[] = [];
/** .data/stack.json once written, removed again on a clean stop. */
let stackFile: string | undefined;
const step = (message: string) => console.log(`• ${message}`);

async function main() {
  const base = loadConfig();
  const overrides: Record<string, string> = {};

  // Before the dev server: its UI is told where to decrypt payloads.
  step('starting the codec server');
  const codecServer = await startCodecServer({
    ...base.codecServer,
    port: await freePort(base.codecServer.port),
    codec: new EncryptionCodec(base.temporal.payloadKeys),
  });
  stops.push({ name: 'codec server', stop: codecServer.close });

  if (!base.temporal.address) {
    const { cli } = temporalBinaries(base.temporal);
    ensureTemporalInstalled(cli);
    step('starting Temporal dev server');
    const server = await startTemporalDevServer({
      cli,
      dataDir: path.join(dataDir, 'temporal'),
      port: base.temporal.devPort,
      uiPort: base.temporal.uiPort,
      codecEndpoint: codecServer.url,
    });
    stops.push({ name: 'temporal', stop: server.stop });
    overrides.TEMPORAL_ADDRESS = server.address;
  }

  if (!base.database.url) {
    step('starting embedded Postgres');
    const postgres = await startEmbeddedPostgres({ dataDir: path.join(dataDir, 'postgres'), port: 54329 });
    stops.push({ name: 'postgres', stop: postgres.stop });
    await ensureDatabase(postgres.adminUrl, 'cafe_flow');
    overrides.DATABASE_URL = withDatabase(postgres.adminUrl, 'cafe_flow');
  }

  if (!base.mercadopago.accessToken) {
    step('starting the MercadoPago emulator (no MERCADOPAGO_ACCESS_TOKEN set)');
    const emulator = await startMercadoPagoEmulator({ port: await freePort(8090) });
    stops.push({ name: 'mercadopago emulator', stop: emulator.stop });
    overrides.MERCADOPAGO_ACCESS_TOKEN = emulator.accessTokens[0] as string;
    overrides.MERCADOPAGO_WEBHOOK_SECRET = emulator.webhookSecret;
    overrides.MERCADOPAGO_API_URL = emulator.url;
  }

  // Customer mail goes to a local catcher with a web inbox unless SMTP_URL names a real server.
  let mailInbox: string | undefined;
  if (!base.mail.smtpUrl) {
    step('starting the mail catcher (no SMTP_URL set)');
    const catcher = await startMailCatcher({ mailDirectory: path.join(dataDir, 'mail') });
    stops.push({ name: 'mail catcher', stop: catcher.stop });
    overrides.SMTP_URL = catcher.smtpUrl;
    mailInbox = catcher.inboxUrl;
  }

  const config = loadConfig({ ...process.env, ...overrides });
  const logFile = config.log.file ?? path.join(dataDir, 'logs', 'cafe-flow.log');
  const logger = createLogger({
    level: config.log.level,
    name: 'cafe-flow',
    destination: pino.destination({ dest: logFile, mkdir: true, sync: false }),
  });

  step('running migrations');
  const db = createDb({ url: config.database.url as string, poolMax: 1 });
  await migrateLatest(db).finally(() => db.destroy());

  step('starting the worker');
  const worker = await startWorker(config, logger.child({ component: 'worker' }));
  stops.unshift({ name: 'worker', stop: worker.close });
  step('starting the API');
  const api = await startApi(config, logger.child({ component: 'api' }));
  stops.unshift({ name: 'api', stop: api.close });

  // Through the services and the database, not the public login: no throttle can stop a start.
  const seedDb = createDb({ url: config.database.url as string, poolMax: 1 });
  const demo = await seedDemo({ db: seedDb, config, logger: logger.child({ component: 'seed' }) }).finally(() =>
    seedDb.destroy(),
  );
  // What the operator scripts (npm run backup, restore, smoke, schedules) connect to.
  stackFile = stackFilePath(config);
  await writeStackFile(stackFile, {
    pid: process.pid,
    startedAt: new Date().toISOString(),
    temporal: {
      address: config.temporal.address as string,
      namespace: config.temporal.namespace,
      taskQueue: config.temporal.taskQueue,
      maintenanceTaskQueue: config.temporal.maintenanceTaskQueue,
    },
    databaseUrl: config.database.url as string,
    apiUrl: api.url,
    ...(overrides.MERCADOPAGO_API_URL ? { mercadopagoEmulatorUrl: overrides.MERCADOPAGO_API_URL } : {}),
  });
  const apiUrl = `http://localhost:${config.http.port}`;
  console.log(`
cafe-flow is running
  API             ${apiUrl}   (ready: ${apiUrl}/ready)
  API docs        ${apiUrl}/docs
  Staff board     ${apiUrl}/board   (sign in as the demo owner)
  Temporal UI     http://localhost:${config.temporal.uiPort}   (orders: BusinessId = "${demo.cafeId}")
  Codec server    ${codecServer.url}   (the Temporal UI decrypts payloads through it)
  Metrics         http://localhost:${config.http.metricsPort}/metrics (API), :${config.worker.metricsPort} and :${config.worker.temporalMetricsPort} (worker)
  Mail inbox      ${mailInbox ?? `none: mail goes to ${new URL(config.mail.smtpUrl as string).host}`}${mailInbox ? '   (receipts and order notices)' : ''}
  MercadoPago     ${config.mercadopago.apiUrl}${overrides.MERCADOPAGO_API_URL ? " (emulator: open an order's checkoutUrl to pay it)" : ''}
  Logs            ${logFile}

Demo café "Café Demo" (${demo.cafeId})
  owner     ${DEMO_OWNER.email} / ${DEMO_OWNER.password}
  customer  ${DEMO_CUSTOMER.email} / ${DEMO_CUSTOMER.password}

Place an order as the demo customer:
  curl -s -X POST ${apiUrl}/v1/businesses/${demo.cafeId}/orders \\
    -H "Authorization: Bearer $(curl -s -X POST ${apiUrl}/v1/auth/login -H 'Content-Type: application/json' \\
         -d '{"email":"${DEMO_CUSTOMER.email}","password":"${DEMO_CUSTOMER.password}"}' | sed -E 's/.*"accessToken":"([^"]+)".*/\\1/')" \\
    -H "Content-Type: application/json" -H "Idempotency-Key: demo-$(date +%s)" \\
    -d '{"items":[{"productId":"${demo.menu[0]?.id}","quantity":2}]}'

Ctrl-C stops everything.`);
}

let stopping = false;
async function shutdown(code: number) {
  if (stopping) process.exit(1);
  stopping = true;
  if (stackFile) await removeStackFile(stackFile, process.pid).catch(() => undefined);
  console.log('\nstopping...');
  for (const { name, stop } of stops) {
    await stop().catch((error) => console.error(`could not stop ${name}:`, error));
  }
  process.exit(code);
}

process.once('SIGINT', () => void shutdown(0));
process.once('SIGTERM', () => void shutdown(0));
main().catch(async (error) => {
  console.error(`\ncafe-flow could not start: ${error instanceof Error ? error.message : String(error)}`);
  await shutdown(1);
});

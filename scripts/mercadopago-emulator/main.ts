import { DEFAULT_ACCESS_TOKEN, DEFAULT_WEBHOOK_SECRET, startMercadoPagoEmulator } from './server';

/**
 * CLI: `npx tsx scripts/mercadopago-emulator/main.ts [port]`.
 * Env: MP_EMULATOR_PORT (8090), MP_EMULATOR_HOST (127.0.0.1), MP_EMULATOR_ACCESS_TOKEN,
 * MP_EMULATOR_WEBHOOK_SECRET, MP_EMULATOR_PUBLIC_URL, MP_EMULATOR_NOTIFICATION_URL,
 * MP_EMULATOR_DELIVER_NOTIFICATIONS (true/false).
 * A standalone dev tool, so it reads its own environment rather than the app's config.
 */
async function main(): Promise<void> {
  const env = process.env;
  const port = Number(process.argv[2] ?? env.MP_EMULATOR_PORT ?? 8090);
  if (!Number.isInteger(port) || port < 0 || port > 65535)
    throw new Error(`invalid port: ${process.argv[2] ?? env.MP_EMULATOR_PORT}`);
  const emulator = await startMercadoPagoEmulator({
    port,
    host: env.MP_EMULATOR_HOST ?? '127.0.0.1',
    accessToken: (env.MP_EMULATOR_ACCESS_TOKEN ?? DEFAULT_ACCESS_TOKEN).split(',').map((t) => t.trim()),
    webhookSecret: env.MP_EMULATOR_WEBHOOK_SECRET ?? DEFAULT_WEBHOOK_SECRET,
    publicUrl: env.MP_EMULATOR_PUBLIC_URL,
    notificationUrl: env.MP_EMULATOR_NOTIFICATION_URL,
    deliverNotifications: env.MP_EMULATOR_DELIVER_NOTIFICATIONS !== 'false',
    log: (event, details) => console.log(JSON.stringify({ time: new Date().toISOString(), event, ...details })),
  });
  console.log(`MercadoPago emulator listening on ${emulator.url} (control endpoints under /__emulator/)`);
  const shutdown = (): void => void emulator.stop().then(() => process.exit(0));
  process.once('SIGINT', shutdown);
  process.once('SIGTERM', shutdown);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});

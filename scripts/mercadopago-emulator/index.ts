export { startMercadoPagoEmulator, DEFAULT_ACCESS_TOKEN, DEFAULT_WEBHOOK_SECRET } from './server';
export type { MercadoPagoEmulator, MercadoPagoEmulatorOptions } from './server';
export { signMercadoPagoWebhook, buildWebhookManifest } from './signing';
export type { NotificationRecord } from './notifier';
export type { RequestLogEntry } from './state';

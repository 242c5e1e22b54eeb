// Every workflow the worker registers. Imported only by the worker's bundler, never by the API.
export { processOrder } from './orders/order-workflow';
// No new notification starts it (the webhook relay signals orders); kept so earlier executions finish.
export { processPaymentNotification } from './payments/notification-workflow';
export { backupDatabase } from './maintenance/backup-workflow';
export { deploySmokeCheck } from './maintenance/smoke-workflow';
export { pruneWebhookNotifications } from './maintenance/prune-notifications';

import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/**
 * Every metric the API and the worker export, on a registry of their own (no global state, so
 * tests can build several). Names and labels are the contract monitoring/ alerts and dashboards
 * are written against; keep label values bounded (no ids). The gauges read from Postgres and the
 * connection pool at scrape time are registered by lib/db-metrics.ts.
 */
export function createMetrics(options: { defaultMetrics?: boolean; prefix?: string } = {}) {
  const registry = new Registry();
  if (options.defaultMetrics !== false) collectDefaultMetrics({ register: registry });
  const registers = [registry];

  return {
    registry,
    httpRequests: new Counter({
      name: 'http_requests_total',
      help: 'HTTP requests handled, by method, route template and status',
      labelNames: ['method', 'route', 'status'] as const,
      registers,
    }),
    httpDuration: new Histogram({
      name: 'http_request_duration_seconds',
      help: 'HTTP request duration in seconds',
      labelNames: ['method', 'route', 'status'] as const,
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers,
    }),
    httpInFlight: new Gauge({ name: 'http_requests_in_flight', help: 'HTTP requests being handled', registers }),
    rateLimitRejections: new Counter({
      name: 'rate_limit_rejections_total',
      help: 'Requests refused by a rate limit',
      labelNames: ['scope'] as const,
      registers,
    }),
    webhookNotifications: new Counter({
      name: 'webhook_notifications_total',
      help: 'Payment provider notifications received, by verification result',
      labelNames: ['provider', 'result'] as const,
      registers,
    }),
    webhookRelay: new Counter({
      name: 'webhook_relay_notifications_total',
      help: 'Stored notifications the relay handed over, by outcome (signalled, unchanged, settled_closed_order, retry, ...)',
      labelNames: ['outcome'] as const,
      registers,
    }),
    webhookRelayBacklog: new Gauge({
      name: 'webhook_relay_pending',
      help: 'Stored notifications not yet handed over to their order',
      registers,
    }),
    webhookRelayOldestSeconds: new Gauge({
      name: 'webhook_relay_oldest_pending_seconds',
      help: 'Age of the oldest stored notification not yet handed over',
      registers,
    }),
    mailMessages: new Counter({
      name: 'mail_messages_total',
      help: 'Customer mail send attempts, by kind and result (sent, rejected: a permanent 5xx, retry)',
      labelNames: ['kind', 'result'] as const,
      registers,
    }),
    mailPending: new Gauge({ name: 'mail_outbox_pending', help: 'Customer mails queued and not yet sent', registers }),
    mailOldestPendingSeconds: new Gauge({
      name: 'mail_outbox_oldest_pending_seconds',
      help: 'Age of the oldest customer mail not yet sent (0 when none)',
      registers,
    }),
    loginFailures: new Counter({
      name: 'auth_login_failures_total',
      help: 'Failed logins by reason',
      labelNames: ['reason'] as const,
      registers,
    }),
    ordersPlaced: new Counter({
      name: 'orders_placed_total',
      help: 'Orders placed',
      labelNames: ['currency'] as const,
      registers,
    }),
    orderValue: new Counter({
      name: 'order_value_minor_units_total',
      help: 'Value of paid orders in minor units (cents)',
      labelNames: ['currency'] as const,
      registers,
    }),
    orderTransitions: new Counter({
      name: 'order_transitions_total',
      help: 'Order state transitions recorded, by target status',
      labelNames: ['to'] as const,
      registers,
    }),
    payments: new Counter({
      name: 'payments_total',
      help: 'Payment outcomes',
      labelNames: ['result'] as const,
      registers,
    }),
    paymentConfirmation: new Histogram({
      name: 'payment_confirmation_seconds',
      help: 'Time from order placed to paid',
      buckets: [5, 15, 30, 60, 120, 300, 600, 900, 1800],
      registers,
    }),
    activityExecutions: new Counter({
      name: 'activity_executions_total',
      help: 'Activity executions by result',
      labelNames: ['activity', 'result'] as const,
      registers,
    }),
    activityDuration: new Histogram({
      name: 'activity_duration_seconds',
      help: 'Activity execution time',
      labelNames: ['activity'] as const,
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 5, 30, 120, 600],
      registers,
    }),
    backupLastSuccess: new Gauge({
      name: 'backup_last_success_timestamp_seconds',
      help: 'Unix time at which the last verified backup finished',
      registers,
    }),
    backupDuration: new Gauge({
      name: 'backup_duration_seconds',
      help: 'Duration of the last finished backup run, successful or not',
      registers,
    }),
    backupSize: new Gauge({
      name: 'backup_size_bytes',
      help: "Size of the last verified archive of the application's database",
      registers,
    }),
    backupFailures: new Counter({ name: 'backup_failures_total', help: 'Backup runs that failed', registers }),
    backupRuns: new Counter({
      name: 'backup_runs_total',
      help: 'Finished backup runs, by result (success, failure)',
      labelNames: ['result'] as const,
      registers,
    }),
    scheduleLastRun: new Gauge({
      name: 'schedule_last_run_timestamp_seconds',
      help: 'Unix time at which a Temporal schedule last started its workflow, by schedule id',
      labelNames: ['schedule'] as const,
      registers,
    }),
    smokeRuns: new Counter({
      name: 'smoke_check_runs_total',
      help: 'Finished production smoke check runs, by result (pass, fail)',
      labelNames: ['result'] as const,
      registers,
    }),
    smokeLastSuccess: new Gauge({
      name: 'smoke_check_last_success_timestamp_seconds',
      help: 'Unix time at which the last fully passing smoke check run finished',
      registers,
    }),
    smokeFailures: new Counter({
      name: 'smoke_check_failures_total',
      help: 'Failed smoke checks, by check name (a fixed list, never an id)',
      labelNames: ['check'] as const,
      registers,
    }),
  };
}

export type Metrics = ReturnType<typeof createMetrics>;

// Every metric name the dashboards and alerts may use, with where it comes from.
// A name outside this catalog is a typo or an undocumented metric.

/** Emitted by the application through prom-client (the metrics contract). */
export const APP_METRICS = [
  'http_requests_total',
  'http_request_duration_seconds',
  'http_requests_in_flight',
  'rate_limit_rejections_total',
  'webhook_notifications_total',
  'auth_login_failures_total',
  'orders_placed_total',
  'order_value_minor_units_total',
  'order_transitions_total',
  'orders_by_status',
  'orders_oldest_pending_age_seconds',
  'payments_total',
  'payment_confirmation_seconds',
  'backup_last_success_timestamp_seconds',
  'backup_duration_seconds',
  'backup_size_bytes',
  'backup_failures_total',
  'backup_runs_total',
  'smoke_check_runs_total',
  'smoke_check_last_success_timestamp_seconds',
  'smoke_check_failures_total',
  'schedule_last_run_timestamp_seconds',
  'activity_executions_total',
  'activity_duration_seconds',
  'db_pool_connections',
  'mail_messages_total',
  'mail_outbox_pending',
  'mail_outbox_oldest_pending_seconds',
  'webhook_relay_notifications_total',
  'webhook_relay_pending',
  'webhook_relay_oldest_pending_seconds',
] as const;

/** Histograms among the above and the SDK metrics: _bucket, _sum and _count are theirs. */
export const HISTOGRAMS = [
  'http_request_duration_seconds',
  'payment_confirmation_seconds',
  'activity_duration_seconds',
  'temporal_workflow_task_schedule_to_start_latency',
  'temporal_activity_schedule_to_start_latency',
] as const;

/** prom-client collectDefaultMetrics(). */
export const NODE_DEFAULT_METRICS = [
  'process_resident_memory_bytes',
  'process_cpu_seconds_total',
  'nodejs_heap_size_used_bytes',
  'nodejs_eventloop_lag_p99_seconds',
] as const;

/** Temporal TypeScript SDK core runtime (Prometheus exporter on the worker). */
export const TEMPORAL_SDK_METRICS = [
  'temporal_workflow_completed',
  'temporal_workflow_failed',
  'temporal_workflow_task_schedule_to_start_latency',
  'temporal_activity_schedule_to_start_latency',
  'temporal_activity_execution_failed',
  'temporal_worker_task_slots_available',
  'temporal_num_pollers',
  'temporal_request_failure',
] as const;

/** Prometheus itself, postgres-exporter, node-exporter and blackbox-exporter. */
export const EXPORTER_METRICS = [
  'up',
  'pg_up',
  'pg_stat_database_numbackends',
  'pg_settings_max_connections',
  'pg_database_size_bytes',
  'node_filesystem_avail_bytes',
  'node_filesystem_size_bytes',
  'node_memory_MemAvailable_bytes',
  'node_memory_MemTotal_bytes',
  'probe_success',
  'probe_duration_seconds',
  'probe_ssl_earliest_cert_expiry',
] as const;

const KNOWN = new Set<string>([...APP_METRICS, ...NODE_DEFAULT_METRICS, ...TEMPORAL_SDK_METRICS, ...EXPORTER_METRICS]);
for (const h of HISTOGRAMS) for (const suffix of ['_bucket', '_sum', '_count']) KNOWN.add(h + suffix);

export function isKnownMetric(name: string): boolean {
  return KNOWN.has(name);
}

/** The catalog name a series belongs to: `foo_bucket` of histogram `foo` maps to `foo`. */
export function baseMetric(name: string): string {
  for (const h of HISTOGRAMS) if (name.startsWith(h) && name !== h) return h;
  return name;
}

const KEYWORDS = new Set(['and', 'or', 'unless', 'bool', 'offset', 'inf', 'nan', 'Inf', 'NaN', 'atan2']);

/**
 * Metric names referenced by a PromQL expression. A tokenizer, not a parser:
 * strings, label matchers, ranges and grouping clauses are blanked first, then
 * every identifier that is not a function call or keyword is a metric.
 */
export function metricNamesIn(expr: string): string[] {
  const blanked = expr
    .replace(/"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|`[^`]*`/g, '""')
    .replace(/\{[^}]*\}/g, ' ')
    .replace(/\[[^\]]*\]/g, ' ')
    .replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, ' ')
    .replace(/\b(group_left|group_right)\b/g, ' ');
  const names = new Set<string>();
  for (const match of blanked.matchAll(/[A-Za-z_:][A-Za-z0-9_:]*/g)) {
    const start = match.index ?? 0;
    const previous = blanked[start - 1] ?? ' ';
    if (/[0-9.]/.test(previous)) continue; // exponent or unit of a number: 1e9, 5m
    if (KEYWORDS.has(match[0])) continue;
    if (/^\s*\(/.test(blanked.slice(start + match[0].length))) continue; // function call
    names.add(match[0]);
  }
  return [...names];
}

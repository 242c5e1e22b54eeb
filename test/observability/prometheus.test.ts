import { expect } from 'chai';
import { baseMetric, metricNamesIn } from '../ops/metric-catalog';
import { registerUser, type TestUser } from '../support/fixtures';
import { httpClient, uniqueClientIp, type HttpClient } from '../support/http';
import { act, eventually, openCafe, orderWithStatus, placeOrder, type Cafe } from '../support/orders';
import { startDeployedStack, type DeployedStack } from './processes';
import {
  ALERT_FILES,
  alertExpressions,
  dashboardExpressions,
  findPrometheus,
  startPrometheus,
  toPromQl,
  type QueryResult,
  type RunningPrometheus,
} from './prometheus-harness';

/**
 * Dashboard queries that must show data once a few orders went through, exactly as written in
 * monitoring/grafana/dashboards (Grafana variables filled in).
 */
const KEY_QUERIES = {
  'request rate': 'sum(rate(http_requests_total{job="cafe-flow-api",instance=~"$instance"}[$__rate_interval]))',
  'p95 latency':
    'histogram_quantile(0.95, sum by (le) (rate(http_request_duration_seconds_bucket{job="cafe-flow-api",instance=~"$instance",route!~"/health|/ready"}[$__rate_interval])))',
  'orders placed': 'sum(increase(orders_placed_total[$__range]))',
  'payments approved': 'sum(increase(payments_total{result="approved"}[$__range]))',
  'workflows completed':
    'sum by (workflow_type) (rate(temporal_workflow_completed{job="cafe-flow-worker-sdk"}[$__rate_interval])) * 60',
  'task slots':
    'min(temporal_worker_task_slots_available{job="cafe-flow-worker-sdk",worker_type=~"WorkflowWorker|ActivityWorker"})',
  'orders by status': 'max by (status) (orders_by_status)',
  'pool connections': 'sum by (job, state) (db_pool_connections)',
};

/**
 * Metrics the alerts and dashboards name that only exist once something goes wrong (a failed
 * workflow, a rate-limited client) or once a schedule has run; the others must all be present.
 */
const EVENT_ONLY = new Set([
  'temporal_workflow_failed',
  'temporal_request_failure',
  'temporal_activity_execution_failed',
  'rate_limit_rejections_total',
  'backup_runs_total',
  'schedule_last_run_timestamp_seconds',
  'smoke_check_runs_total',
  'smoke_check_failures_total',
  // Labelled by result: exported from the first mail the relay tries (this stack runs no SMTP).
  'mail_messages_total',
  // Regular activities now run only for refunds and reconciliation; a happy-path order has none.
  'temporal_activity_schedule_to_start_latency',
]);
// Prometheus itself and the exporters of the production stack (postgres, node, blackbox).
const NOT_OURS = /^(up|pg_.*|node_.*|probe_.*)$/;

const values = (result: QueryResult) => (result.data?.result ?? []).map((series) => Number(series.value[1]));
const hasPositive = (result: QueryResult) => values(result).some((value) => Number.isFinite(value) && value > 0);

async function payAtEmulator(stack: DeployedStack, preferenceId: string) {
  const response = await fetch(`${stack.emulator.url}/__emulator/preferences/${preferenceId}/pay`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ status: 'approved' }),
  });
  expect(response.status).to.equal(201);
}

/** One order placed, paid and completed (a workflow that finishes), and one left waiting for payment. */
async function orderRound(stack: DeployedStack, api: HttpClient, cafe: Cafe, customer: TestUser) {
  const paid = await placeOrder(api, customer, cafe);
  await placeOrder(api, customer, cafe);
  await payAtEmulator(stack, paid.payment.preferenceId);
  await orderWithStatus(api, customer, paid.id, 'paid', 30_000);
  for (const action of ['accept', 'ready', 'complete'])
    expect((await act(api, cafe.owner, paid.id, action)).status).to.equal(200);
  return paid;
}

describe('observability: a real Prometheus scraping the API and the worker', function () {
  this.timeout(180_000);
  let stack: DeployedStack;
  let prometheus: RunningPrometheus;
  const results = new Map<string, QueryResult>();

  before(async function () {
    findPrometheus();
    stack = await startDeployedStack('prometheus');
    prometheus = await startPrometheus({
      targets: {
        'cafe-flow-api': `127.0.0.1:${stack.ports.apiMetrics}`,
        'cafe-flow-worker': `127.0.0.1:${stack.ports.workerMetrics}`,
        'cafe-flow-worker-sdk': `127.0.0.1:${stack.ports.sdkMetrics}`,
      },
      ruleFiles: ALERT_FILES,
    });
    const api = httpClient(stack.apiUrl, { 'x-forwarded-for': uniqueClientIp() });
    const cafe = await openCafe(api);
    const customer = await registerUser(api, 'Customer');
    const wrongLogin = await api.post('/v1/auth/login', { email: customer.email, password: 'not-the-password' });
    expect(wrongLogin.status).to.equal(401);
    // Two rounds with a scrape between them: rate() and increase() need a counter to move
    // after Prometheus first saw it.
    await orderRound(stack, api, cafe, customer);
    await eventually(
      () => prometheus.query('payments_total{result="approved"} and on () temporal_workflow_completed'),
      (result) => values(result).length > 0,
      30_000,
    );
    await orderRound(stack, api, cafe, customer);
    for (const [name, expr] of Object.entries(KEY_QUERIES)) {
      results.set(
        name,
        await eventually(() => prometheus.query(toPromQl(expr)), hasPositive, 30_000).catch(() =>
          prometheus.query(toPromQl(expr)),
        ),
      );
    }
  });

  after(async function () {
    await prometheus?.stop();
    await stack?.stop();
  });

  it('when the three targets are scraped, then all are up', async function () {
    const up = await prometheus.query('up');

    const byJob = Object.fromEntries((up.data?.result ?? []).map((series) => [series.metric.job, series.value[1]]));
    expect(byJob).to.deep.equal({ 'cafe-flow-api': '1', 'cafe-flow-worker': '1', 'cafe-flow-worker-sdk': '1' });
  });

  it('when every alert expression is queried, then Prometheus parses and evaluates each', async function () {
    const failures: string[] = [];
    for (const { where, expr } of alertExpressions()) {
      const result = await prometheus.query(expr);
      if (result.status !== 'success') failures.push(`${where}: ${result.error}`);
    }

    expect(failures).to.deep.equal([]);
  });

  it('when every dashboard panel expression is queried, then Prometheus parses and evaluates each', async function () {
    const failures: string[] = [];
    const expressions = dashboardExpressions();
    for (const { where, expr } of expressions) {
      const result = await prometheus.query(expr);
      if (result.status !== 'success') failures.push(`${where}: ${result.error}`);
    }

    expect(expressions.length).to.be.greaterThan(50);
    expect(failures).to.deep.equal([]);
  });

  for (const name of Object.keys(KEY_QUERIES)) {
    it(`when orders went through, then the "${name}" query returns data`, function () {
      const result = results.get(name) as QueryResult;

      expect(result.status, result.error).to.equal('success');
      expect(hasPositive(result), `${name}: ${JSON.stringify(result.data?.result)}`).to.equal(true);
    });
  }

  it('when the metric names used by alerts and dashboards are looked up, then the API and worker export each', async function () {
    const names = [...alertExpressions(), ...dashboardExpressions()].flatMap(({ expr }) => metricNamesIn(expr));
    const ours = [...new Set(names)].filter((name) => !NOT_OURS.test(name) && !EVENT_ONLY.has(baseMetric(name)));
    const known = new Set(await prometheus.metricNames());

    expect(ours.length).to.be.greaterThan(20);
    expect(ours.filter((name) => !known.has(name)).sort()).to.deep.equal([]);
  });

  it('when the p95 latency is read, then it is a duration in seconds, not milliseconds', function () {
    const [p95] = values(results.get('p95 latency') as QueryResult);

    expect(p95).to.be.greaterThan(0).and.lessThan(10);
  });

  it('when the pool gauge is read, then both the API and the worker report their pools', function () {
    const jobs = new Set((results.get('pool connections') as QueryResult).data?.result.map((series) => series.metric.job));

    expect([...jobs].sort()).to.deep.equal(['cafe-flow-api', 'cafe-flow-worker']);
  });

  it('when the alert rule files are loaded, then every rule is evaluated with health ok', async function () {
    const expected = alertExpressions().length;
    const groups = await eventually(
      () => prometheus.rules(),
      (loaded) => loaded.flatMap((g) => g.rules).filter((rule) => rule.health !== 'unknown').length === expected,
      20_000,
    );

    const rules = groups.flatMap((group) => group.rules);
    expect(rules).to.have.length(expected);
    expect(rules.filter((rule) => rule.health !== 'ok').map((rule) => `${rule.name}: ${rule.lastError}`)).to.deep.equal([]);
  });
});

// Prometheus configuration, alert rules and their promtool unit tests, checked with
// the real promtool (Debian package "prometheus") plus the conventions on top of it.
import { expect } from 'chai';
import fs from 'node:fs';
import { describeFailure, listFiles, loadYaml, markdownAnchors, readRepoFile, repoPath, requireTool, run } from './support';

interface AlertRule {
  alert: string;
  expr: string;
  for?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}
interface RuleFile {
  groups: { name: string; rules: AlertRule[] }[];
}
interface AlertRuleTest {
  eval_time: string;
  alertname: string;
  exp_alerts?: unknown[];
}
interface PromtoolTestFile {
  rule_files: string[];
  tests: { name?: string; alert_rule_test?: AlertRuleTest[] }[];
}

const RUNBOOK_BASE = 'https://github.com/cafe-flow/cafe-flow/blob/main/docs/runbook.md#';

const REQUIRED_ALERTS: Record<string, 'critical' | 'warning' | 'info'> = {
  ApiDown: 'critical',
  HighErrorRate: 'critical',
  DatabaseDown: 'critical',
  DatabaseConnectionsNearMax: 'critical',
  DiskSpaceLow: 'critical',
  TlsCertificateExpiring: 'critical',
  BackupFailed: 'critical',
  BackupTooOld: 'critical',
  PaymentWebhookFailures: 'critical',
  WorkflowFailures: 'critical',
  TaskSlotsExhausted: 'critical',
  ScheduleMissed: 'critical',
  SmokeCheckFailing: 'critical',
  SlowResponses: 'warning',
  HighMemory: 'warning',
  EventLoopLag: 'warning',
  ScheduleToStartLatencyHigh: 'warning',
  OrderBacklog: 'warning',
  RefundFailures: 'warning',
  HighRateLimitRejections: 'warning',
  LoginFailuresSpike: 'warning',
  DatabaseSizeGrowing: 'warning',
  DiskFillingFast: 'warning',
  ActivityFailuresHigh: 'warning',
  WorkerDown: 'warning',
  TemporalServerDown: 'warning',
  NoOrdersPlaced: 'info',
};

const alertFiles = listFiles('monitoring/alerts', '.yml');
const testFiles = listFiles('monitoring/tests', '.test.yml');

function loadAlerts(): AlertRule[] {
  return alertFiles.flatMap((file) => loadYaml<RuleFile>(file).groups.flatMap((g) => g.rules)).filter((r) => r.alert);
}

describe('ops: Prometheus and alert rules', function () {
  let promtool: string;

  before(function () {
    promtool = requireTool('promtool', 'prometheus');
  });

  describe('promtool', function () {
    // promtool test rules runs every alert's cases: slow on a loaded 2-core machine.
    this.timeout(180_000);
    it('when promtool checks prometheus.yml, then the config and its rule files are valid', function () {
      const result = run(promtool, ['check', 'config', repoPath('monitoring/prometheus.yml')]);
      expect(result.status, describeFailure(result)).to.equal(0);
    });

    it('when promtool checks the alert rule files, then all are valid', function () {
      expect(alertFiles).to.have.length.greaterThanOrEqual(6);
      const result = run(promtool, ['check', 'rules', ...alertFiles.map((f) => repoPath(f))]);
      expect(result.status, describeFailure(result)).to.equal(0);
    });

    it('when promtool runs the rule unit tests, then every test passes', function () {
      expect(testFiles).to.have.length.greaterThanOrEqual(6);
      const result = run(promtool, ['test', 'rules', ...testFiles.map((f) => repoPath(f))]);
      expect(result.status, describeFailure(result)).to.equal(0);
    });
  });

  describe('alert conventions', function () {
    const alerts = loadAlerts();

    it('when counting alerts, then there are at least 28 with unique names', function () {
      expect(alerts.length).to.be.at.least(28);
      const names = alerts.map((a) => a.alert);
      expect(new Set(names).size, 'duplicate alert names').to.equal(names.length);
    });

    it('when reading the required alerts, then each exists with its agreed severity', function () {
      const byName = new Map(alerts.map((a) => [a.alert, a]));
      for (const [name, severity] of Object.entries(REQUIRED_ALERTS)) {
        expect(byName.get(name), `missing alert ${name}`).to.not.equal(undefined);
        expect(byName.get(name)?.labels?.severity, `${name} severity`).to.equal(severity);
      }
    });

    it('when reading any alert, then it has a severity and summary, description, runbook_url and action', function () {
      for (const alert of alerts) {
        expect(['critical', 'warning', 'info'], `${alert.alert} severity`).to.include(alert.labels?.severity);
        for (const key of ['summary', 'description', 'runbook_url', 'action']) {
          expect(alert.annotations?.[key], `${alert.alert} annotation ${key}`).to.be.a('string').and.not.equal('');
        }
        expect(alert.annotations?.runbook_url, `${alert.alert} runbook_url`).to.equal(RUNBOOK_BASE + alert.alert.toLowerCase());
      }
    });

    it('when following a runbook_url, then docs/runbook.md has a heading with that anchor', function () {
      const anchors = markdownAnchors(readRepoFile('docs/runbook.md'));
      for (const alert of alerts) {
        const anchor = alert.annotations?.runbook_url?.split('#')[1] ?? '';
        expect(anchors.has(anchor), `docs/runbook.md has no heading for #${anchor} (${alert.alert})`).to.equal(true);
      }
    });

    it('when reading the promtool tests, then every alert has a firing and a silent case', function () {
      const firing = new Set<string>();
      const silent = new Set<string>();
      const testedRuleFiles = new Set<string>();
      for (const file of testFiles) {
        const doc = loadYaml<PromtoolTestFile>(file);
        for (const ruleFile of doc.rule_files) {
          const resolved = repoPath('monitoring/tests', ruleFile);
          expect(fs.existsSync(resolved), `${file} refers to missing ${ruleFile}`).to.equal(true);
          testedRuleFiles.add(resolved);
        }
        for (const group of doc.tests) {
          for (const t of group.alert_rule_test ?? []) {
            ((t.exp_alerts ?? []).length > 0 ? firing : silent).add(t.alertname);
          }
        }
      }
      for (const file of alertFiles) expect(testedRuleFiles.has(repoPath(file)), `${file} has no test file`).to.equal(true);
      for (const { alert } of alerts) {
        expect(firing.has(alert), `${alert} has no firing test case`).to.equal(true);
        expect(silent.has(alert), `${alert} has no non-firing test case`).to.equal(true);
      }
    });
  });

  describe('scrape and alerting configuration', function () {
    interface PrometheusConfig {
      rule_files: string[];
      alerting: { alertmanagers: { static_configs: { targets: string[] }[] }[] };
      scrape_configs: { job_name: string; params?: { module?: string[] } }[];
    }
    const config = loadYaml<PrometheusConfig>('monitoring/prometheus.yml');

    it('when listing scrape jobs, then every job of the metrics contract is scraped', function () {
      const jobs = config.scrape_configs.map((s) => s.job_name);
      for (const job of [
        'cafe-flow-api',
        'cafe-flow-worker',
        'cafe-flow-worker-sdk',
        'temporal',
        'postgres-exporter',
        'node-exporter',
        'blackbox',
      ]) {
        expect(jobs, `scrape job ${job}`).to.include(job);
      }
      expect(config.rule_files).to.deep.equal(['alerts/*.yml']);
      expect(config.alerting.alertmanagers[0]?.static_configs[0]?.targets).to.deep.equal(['alertmanager:9093']);
    });

    it('when the blackbox job names a module, then blackbox.yml defines it', function () {
      const modules = Object.keys(loadYaml<{ modules: Record<string, unknown> }>('monitoring/blackbox.yml').modules);
      const job = config.scrape_configs.find((s) => s.job_name === 'blackbox');
      for (const module of job?.params?.module ?? []) expect(modules).to.include(module);
    });

    it('when Alertmanager routes by severity, then each severity reaches a defined receiver and no secret is inline', function () {
      interface Route {
        receiver: string;
        matchers?: string[];
        routes?: Route[];
      }
      interface InhibitRule {
        source_matchers: string[];
        target_matchers: string[];
      }
      const am = loadYaml<{ route: Route; receivers: { name: string }[]; inhibit_rules: InhibitRule[] }>(
        'monitoring/alertmanager.yml',
      );
      const receivers = new Set(am.receivers.map((r) => r.name));
      const routes = [am.route, ...(am.route.routes ?? [])];
      for (const route of routes) expect(receivers, `receiver ${route.receiver}`).to.include(route.receiver);
      for (const severity of ['critical', 'warning', 'info']) {
        expect(
          routes.some((r) => r.matchers?.includes(`severity="${severity}"`)),
          `route for ${severity}`,
        ).to.equal(true);
      }

      const alertNames = new Set(loadAlerts().map((a) => a.alert));
      for (const rule of am.inhibit_rules) {
        for (const matcher of [...rule.source_matchers, ...rule.target_matchers]) {
          const names = /^alertname=~?"(.+)"$/.exec(matcher)?.[1]?.split('|') ?? [];
          for (const name of names) expect(alertNames.has(name), `inhibit rule names unknown alert ${name}`).to.equal(true);
        }
      }

      const raw = readRepoFile('monitoring/alertmanager.yml');
      expect(raw).to.not.match(/^\s*(slack_api_url|api_url|routing_key|service_key|url):/m);
      expect(raw).to.not.match(/hooks\.slack\.com\/services\/[A-Z0-9]/);
    });
  });
});

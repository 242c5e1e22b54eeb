// Grafana dashboards: valid JSON wired to the Prometheus data source, every query
// parseable by promtool, and every metric either in the contract or a known exporter.
import { expect } from 'chai';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import YAML from 'yaml';
import { APP_METRICS, baseMetric, isKnownMetric, metricNamesIn } from './metric-catalog';
import { describeFailure, listFiles, loadYaml, readRepoFile, requireTool, run } from './support';

interface Target {
  expr?: string;
  datasource?: { type?: string; uid?: string };
}
interface Panel {
  id: number;
  type: string;
  title: string;
  gridPos: { x: number; y: number; w: number; h: number };
  datasource?: { type?: string; uid?: string };
  targets?: Target[];
  panels?: Panel[];
}
interface Dashboard {
  uid: string;
  title: string;
  schemaVersion: number;
  panels: Panel[];
  templating: { list: { name: string; type: string; query?: unknown; current?: { value?: unknown } }[] };
}

const DASHBOARD_DIR = 'monitoring/grafana/dashboards';
const REQUIRED_DASHBOARDS = ['api-health.json', 'database.json', 'business.json', 'temporal.json'];

function flattenPanels(panels: Panel[]): Panel[] {
  return panels.flatMap((p) => [p, ...flattenPanels(p.panels ?? [])]);
}

/** Grafana variables are not PromQL: replace them with values promtool accepts. */
function toPromQl(expr: string): string {
  return expr
    .replace(/\$__(rate_interval|interval|range)\b|\$\{__(rate_interval|interval|range)\}/g, '5m')
    .replace(/\$\{(\w+)(:\w+)?\}|\$(\w+)/g, '.*');
}

function loadDashboards(): { file: string; dashboard: Dashboard }[] {
  return listFiles(DASHBOARD_DIR, '.json').map((file) => ({ file, dashboard: JSON.parse(readRepoFile(file)) as Dashboard }));
}

function alertExpressions(): string[] {
  return listFiles('monitoring/alerts', '.yml').flatMap((file) =>
    loadYaml<{ groups: { rules: { expr: string }[] }[] }>(file).groups.flatMap((g) => g.rules.map((r) => r.expr)),
  );
}

describe('ops: Grafana dashboards', function () {
  const dashboards = loadDashboards();
  const queryPanels = dashboards.flatMap(({ file, dashboard }) =>
    flattenPanels(dashboard.panels)
      .filter((p) => p.type !== 'row')
      .map((panel) => ({ file, panel })),
  );

  it('when listing dashboards, then api-health, database, business and temporal exist with unique uids', function () {
    const files = dashboards.map((d) => path.basename(d.file));
    for (const name of REQUIRED_DASHBOARDS) expect(files, name).to.include(name);
    const uids = dashboards.map((d) => d.dashboard.uid);
    expect(new Set(uids).size).to.equal(uids.length);
  });

  it('when reading a dashboard, then it has a recent schema and a DS_PROMETHEUS data source variable', function () {
    for (const { file, dashboard } of dashboards) {
      expect(dashboard.title, file).to.be.a('string').and.not.equal('');
      expect(dashboard.schemaVersion, file).to.be.within(36, 41);
      const ds = dashboard.templating.list.find((v) => v.name === 'DS_PROMETHEUS');
      expect(ds?.type, `${file} DS_PROMETHEUS`).to.equal('datasource');
      expect(ds?.query, `${file} DS_PROMETHEUS`).to.equal('prometheus');
    }
  });

  it('when reading a panel, then it has a unique id, fits the grid and queries Prometheus', function () {
    for (const { file, dashboard } of dashboards) {
      const ids = flattenPanels(dashboard.panels).map((p) => p.id);
      expect(new Set(ids).size, `${file} panel ids`).to.equal(ids.length);
    }
    for (const { file, panel } of queryPanels) {
      const where = `${file} "${panel.title}"`;
      expect(panel.gridPos.x + panel.gridPos.w, where).to.be.at.most(24);
      expect(panel.datasource, where).to.deep.equal({ type: 'prometheus', uid: '${DS_PROMETHEUS}' });
      expect(panel.targets, where).to.be.an('array').that.is.not.empty;
      for (const target of panel.targets ?? []) {
        expect(target.expr, where).to.be.a('string').and.not.equal('');
        expect(target.datasource?.uid, where).to.equal('${DS_PROMETHEUS}');
      }
    }
  });

  it('when promtool parses every panel query as a recording rule, then all are valid PromQL', function () {
    const promtool = requireTool('promtool', 'prometheus');
    const rules = queryPanels.flatMap(({ panel }) => (panel.targets ?? []).map((t) => toPromQl(t.expr ?? '')));
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cafe-flow-dashboards-'));
    try {
      const file = path.join(dir, 'dashboard-queries.yml');
      const doc = {
        groups: [{ name: 'dashboard-queries', rules: rules.map((expr, i) => ({ record: `dashboard:query_${i}:check`, expr })) }],
      };
      fs.writeFileSync(file, YAML.stringify(doc));
      const result = run(promtool, ['check', 'rules', file]);
      expect(result.status, describeFailure(result)).to.equal(0);
      expect(result.stdout).to.include(`SUCCESS: ${rules.length} rules found`);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('when a dashboard or alert names a metric, then it is in the contract or a known exporter metric', function () {
    const exprs = [
      ...queryPanels.flatMap(({ panel }) => (panel.targets ?? []).map((t) => toPromQl(t.expr ?? ''))),
      ...alertExpressions(),
    ];
    const unknown = new Set<string>();
    for (const expr of exprs) for (const name of metricNamesIn(expr)) if (!isKnownMetric(name)) unknown.add(name);
    expect([...unknown], 'metrics missing from test/ops/metric-catalog.ts').to.deep.equal([]);
  });

  it('when reading the dashboards, then every application metric of the contract is charted', function () {
    const used = new Set(
      queryPanels.flatMap(({ panel }) =>
        (panel.targets ?? []).flatMap((t) => metricNamesIn(toPromQl(t.expr ?? '')).map(baseMetric)),
      ),
    );
    const missing = APP_METRICS.filter((m) => !used.has(m));
    expect(missing, 'contract metrics without a panel').to.deep.equal([]);
  });

  it('when Grafana is provisioned, then the data source uid and dashboard path match the dashboards and compose mounts', function () {
    const datasources = loadYaml<{ datasources: { uid: string; type: string; url: string }[] }>(
      'monitoring/grafana/provisioning/datasources/prometheus.yml',
    ).datasources;
    expect(datasources).to.have.length(1);
    expect(datasources[0]).to.include({ uid: 'prometheus', type: 'prometheus', url: 'http://prometheus:9090' });
    for (const { file, dashboard } of dashboards) {
      const ds = dashboard.templating.list.find((v) => v.name === 'DS_PROMETHEUS');
      expect(ds?.current?.value, `${file} default data source`).to.equal('prometheus');
    }

    const providers = loadYaml<{ providers: { type: string; options: { path: string } }[] }>(
      'monitoring/grafana/provisioning/dashboards/cafe-flow.yml',
    ).providers;
    const grafanaVolumes = loadYaml<{ services: { grafana: { volumes: string[] } } }>('docker-compose.production.yml').services
      .grafana.volumes;
    expect(grafanaVolumes).to.include(`./${DASHBOARD_DIR}:${providers[0]?.options.path}:ro`);
    expect(grafanaVolumes).to.include('./monitoring/grafana/provisioning:/etc/grafana/provisioning:ro');
  });
});

describe('ops: metric name extraction', function () {
  it('when an expression has functions, matchers, groupings and numbers, then only metric names are returned', function () {
    const expr =
      'histogram_quantile(0.95, sum by (le, route) (rate(http_request_duration_seconds_bucket{route!~"/health"}[5m]))) > 5e-1 ' +
      'and on () (time() - max(backup_last_success_timestamp_seconds offset 1d)) > 26 * 3600 ' +
      'or label_replace(up{job="x"}, "task_kind", "workflow", "", "")';
    expect(metricNamesIn(expr).sort()).to.deep.equal([
      'backup_last_success_timestamp_seconds',
      'http_request_duration_seconds_bucket',
      'up',
    ]);
  });

  it('when a metric is misspelled, then the catalog rejects it', function () {
    expect(isKnownMetric('http_request_total')).to.equal(false);
    expect(isKnownMetric('http_requests_total')).to.equal(true);
    expect(isKnownMetric('payment_confirmation_seconds_bucket')).to.equal(true);
  });
});

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import YAML from 'yaml';
import { freePort, repoRoot, startProcess, type RunningProcess } from './support';

/** The Debian package `prometheus` (scripts/install-system-deps.sh), found in PATH or /usr/bin. */
export function findPrometheus(): string {
  const dirs = [...(process.env.PATH ?? '').split(path.delimiter), '/usr/bin'];
  const found = dirs.map((dir) => path.join(dir, 'prometheus')).find((file) => fs.existsSync(file));
  if (!found) {
    throw new Error(
      'prometheus not found in PATH or /usr/bin: install the Debian package "prometheus" (bash scripts/install-system-deps.sh)',
    );
  }
  return found;
}

export interface QueryResult {
  status: 'success' | 'error';
  error?: string;
  data?: { resultType: string; result: { metric: Record<string, string>; value: [number, string] }[] };
}

export interface RuleHealth {
  name: string;
  health: string;
  lastError?: string;
}

export interface RunningPrometheus {
  url: string;
  process: RunningProcess;
  query(expr: string): Promise<QueryResult>;
  rules(): Promise<{ group: string; rules: RuleHealth[] }[]>;
  /** Every metric name Prometheus holds series for. */
  metricNames(): Promise<string[]>;
  stop(): Promise<void>;
}

/**
 * A real Prometheus on a loopback port, scraping `targets` (job name to host:port) every second
 * and evaluating `ruleFiles` every second, with its data in a temporary directory.
 */
export async function startPrometheus(options: {
  targets: Record<string, string>;
  ruleFiles: string[];
}): Promise<RunningPrometheus> {
  const binary = findPrometheus();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cafe-flow-prometheus-'));
  const config = {
    global: { scrape_interval: '1s', scrape_timeout: '900ms', evaluation_interval: '1s' },
    rule_files: options.ruleFiles.map((file) => path.resolve(repoRoot, file)),
    scrape_configs: Object.entries(options.targets).map(([job, target]) => ({
      job_name: job,
      static_configs: [{ targets: [target] }],
    })),
  };
  fs.writeFileSync(path.join(dir, 'prometheus.yml'), YAML.stringify(config));
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const child = startProcess(
    binary,
    [
      `--config.file=${path.join(dir, 'prometheus.yml')}`,
      `--storage.tsdb.path=${path.join(dir, 'data')}`,
      `--web.listen-address=127.0.0.1:${port}`,
      '--log.level=warn',
    ],
    { PATH: process.env.PATH },
  );
  const stop = async () => {
    await child.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  };
  try {
    await waitUntilReady(url, child);
  } catch (error) {
    await stop();
    throw error;
  }
  return {
    url,
    process: child,
    async query(expr) {
      const response = await fetch(`${url}/api/v1/query`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ query: expr }),
      });
      return (await response.json()) as QueryResult;
    },
    async rules() {
      const body = (await (await fetch(`${url}/api/v1/rules`)).json()) as {
        data: { groups: { name: string; rules: RuleHealth[] }[] };
      };
      return body.data.groups.map((group) => ({ group: group.name, rules: group.rules }));
    },
    async metricNames() {
      return ((await (await fetch(`${url}/api/v1/label/__name__/values`)).json()) as { data: string[] }).data;
    },
    stop,
  };
}

async function waitUntilReady(url: string, child: RunningProcess): Promise<void> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (child.child.exitCode !== null) throw new Error(`prometheus exited:\n${child.output.join('\n')}`);
    const ready = await fetch(`${url}/-/ready`).then(
      (response) => response.status === 200,
      () => false,
    );
    if (ready) return;
    if (Date.now() > deadline) throw new Error(`prometheus not ready in 30 s:\n${child.output.join('\n')}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

/** Grafana's variables are not PromQL: the values a dashboard would send with a 1 s scrape interval. */
export function toPromQl(expr: string): string {
  return expr
    .replace(/\$__rate_interval\b|\$\{__rate_interval\}|\$__interval\b|\$\{__interval\}/g, '20s')
    .replace(/\$__range\b|\$\{__range\}/g, '10m')
    .replace(/\$\{(\w+)(:\w+)?\}|\$(\w+)/g, '.*');
}

interface Panel {
  title?: string;
  panels?: Panel[];
  targets?: { expr?: string }[];
}

export function dashboardExpressions(): { where: string; expr: string }[] {
  const dir = path.join(repoRoot, 'monitoring/grafana/dashboards');
  const flatten = (panels: Panel[]): Panel[] => panels.flatMap((p) => [p, ...flatten(p.panels ?? [])]);
  return fs
    .readdirSync(dir)
    .filter((file) => file.endsWith('.json'))
    .flatMap((file) => {
      const dashboard = JSON.parse(fs.readFileSync(path.join(dir, file), 'utf8')) as { panels: Panel[] };
      return flatten(dashboard.panels).flatMap((panel) =>
        (panel.targets ?? [])
          .filter((target) => target.expr)
          .map((target) => ({ where: `${file} "${panel.title}"`, expr: toPromQl(target.expr as string) })),
      );
    });
}

export const ALERT_FILES = fs
  .readdirSync(path.join(repoRoot, 'monitoring/alerts'))
  .filter((file) => file.endsWith('.yml'))
  .map((file) => `monitoring/alerts/${file}`);

export function alertExpressions(): { where: string; expr: string }[] {
  return ALERT_FILES.flatMap((file) => {
    const doc = YAML.parse(fs.readFileSync(path.join(repoRoot, file), 'utf8')) as {
      groups: { rules: { alert?: string; record?: string; expr: string }[] }[];
    };
    return doc.groups.flatMap((group) =>
      group.rules.map((rule) => ({ where: `${file} ${rule.alert ?? rule.record}`, expr: rule.expr })),
    );
  });
}

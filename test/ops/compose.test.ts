// docker-compose.production.yml, Dockerfile and .env.production.example. No Docker
// engine runs here, so the compose file is parsed and its invariants asserted.
import { expect } from 'chai';
import fs from 'node:fs';
import { loadYaml, readRepoFile, repoPath } from './support';

interface Service {
  image?: string;
  build?: { context: string; target: string };
  ports?: unknown[];
  restart?: string;
  healthcheck?: { test: string[] | string; disable?: boolean };
  deploy?: { replicas?: number; resources?: { limits?: { cpus?: string; memory?: string } } };
  env_file?: string | string[];
  environment?: Record<string, string | number | boolean | null>;
  volumes?: string[];
  networks?: string[];
  depends_on?: Record<string, { condition: string }>;
}
interface ComposeFile {
  services: Record<string, Service>;
  volumes: Record<string, unknown>;
  networks: Record<string, { internal?: boolean } | null>;
}

const REQUIRED_SERVICES = [
  'postgres',
  'temporal',
  'temporal-admin-tools',
  'temporal-ui',
  'api',
  'worker',
  'nginx',
  'prometheus',
  'alertmanager',
  'grafana',
  'postgres-exporter',
  'node-exporter',
  'blackbox-exporter',
];
/** Run once to completion; every other service runs for good. */
const ONE_SHOT_JOBS = ['temporal-admin-tools', 'temporal-namespace-setup'];

/** Everything the application's config reads (the brief's list), plus compose-only ones. */
const APP_VARIABLES = [
  'NODE_ENV',
  'PORT',
  'METRICS_PORT',
  'WORKER_METRICS_PORT',
  'TEMPORAL_METRICS_PORT',
  'LOG_LEVEL',
  'LOG_FILE',
  'DATABASE_URL',
  'DATABASE_POOL_MAX',
  'TEMPORAL_ADDRESS',
  'TEMPORAL_NAMESPACE',
  'TEMPORAL_TLS_CERT_PATH',
  'TEMPORAL_TLS_KEY_PATH',
  'TEMPORAL_TLS_CA_PATH',
  'TEMPORAL_TASK_QUEUE',
  'TEMPORAL_MAINTENANCE_TASK_QUEUE',
  'WORKER_TASK_QUEUES',
  'JWT_SECRET',
  'ACCESS_TOKEN_TTL_SECONDS',
  'REFRESH_TOKEN_TTL_SECONDS',
  'ALLOWED_ORIGINS',
  'RATE_LIMIT_PER_MINUTE',
  'TRUST_PROXY',
  'PUBLIC_BASE_URL',
  'MERCADOPAGO_ACCESS_TOKEN',
  'MERCADOPAGO_WEBHOOK_SECRET',
  'MERCADOPAGO_API_URL',
  'MERCADOPAGO_WEBHOOK_TOLERANCE_SECONDS',
  'PAYMENT_TIMEOUT_SECONDS',
  'ACCEPT_TIMEOUT_SECONDS',
  'SENTRY_DSN',
  'SENTRY_ENVIRONMENT',
  'BACKUP_DIR',
  'BACKUP_TIMEZONE',
  'BACKUP_KEEP_DAILY',
  'BACKUP_KEEP_WEEKLY',
  'SMOKE_BASE_URL',
  'SMOKE_P95_MS',
  'POSTGRES_USER',
  'POSTGRES_PASSWORD',
  'POSTGRES_DB',
  'GRAFANA_ADMIN_PASSWORD',
  'DOMAIN',
];
const SECRET_NAME = /(PASSWORD|PWD|SECRET|TOKEN|_KEY|_PASS|DSN|WEBHOOK_URL|DATABASE_URL)$/;

const compose = loadYaml<ComposeFile>('docker-compose.production.yml');
const services = compose.services;
const longRunning = Object.keys(services).filter((name) => !ONE_SHOT_JOBS.includes(name));

function parseEnvExample(): Map<string, string> {
  const vars = new Map<string, string>();
  for (const line of readRepoFile('.env.production.example').split('\n')) {
    const match = /^([A-Z][A-Z0-9_]*)=(.*)$/.exec(line);
    if (match?.[1]) vars.set(match[1], match[2] ?? '');
  }
  return vars;
}

/** Dockerfile split into stages by `FROM ... AS name`. */
function dockerStages(): Map<string, string> {
  const stages = new Map<string, string>();
  let current = '';
  for (const line of readRepoFile('Dockerfile').split('\n')) {
    const from = /^FROM\s+\S+\s+AS\s+(\S+)/i.exec(line);
    if (from?.[1]) current = from[1];
    if (current) stages.set(current, (stages.get(current) ?? '') + line + '\n');
  }
  return stages;
}

describe('ops: docker-compose.production.yml', function () {
  it('when listing services, then every required service exists', function () {
    for (const name of REQUIRED_SERVICES) expect(services, `service ${name}`).to.have.property(name);
  });

  it('when looking for published ports, then only nginx publishes, on 80 and 443', function () {
    for (const [name, service] of Object.entries(services)) {
      if (name === 'nginx') continue;
      expect(service.ports, `${name} must not publish ports`).to.equal(undefined);
    }
    expect(services.nginx?.ports).to.deep.equal(['80:80', '443:443']);
  });

  it('when reading any service, then it has cpu and memory limits', function () {
    for (const [name, service] of Object.entries(services)) {
      expect(service.deploy?.resources?.limits?.cpus, `${name} cpus limit`).to.match(/^\d+(\.\d+)?$/);
      expect(service.deploy?.resources?.limits?.memory, `${name} memory limit`).to.match(/^\d+[kmg]$/i);
    }
  });

  it('when reading a long-running service, then it restarts unless stopped and has a healthcheck', function () {
    for (const name of longRunning) {
      const service = services[name];
      expect(service?.restart, `${name} restart`).to.equal('unless-stopped');
      expect(service?.healthcheck?.test, `${name} healthcheck`).to.not.equal(undefined);
      expect(service?.healthcheck?.disable, `${name} healthcheck disabled`).to.not.equal(true);
    }
  });

  it('when reading a one-shot job, then it never restarts in a loop and its dependants wait for it to succeed', function () {
    for (const job of ONE_SHOT_JOBS) {
      expect(services[job]?.restart, `${job} restart`).to.be.oneOf(['no', 'on-failure']);
    }
    expect(services.temporal?.depends_on?.['temporal-admin-tools']?.condition).to.equal('service_completed_successfully');
    expect(services['temporal-admin-tools']?.environment?.SQL_PLUGIN).to.equal('postgres12');
    expect(services.temporal?.environment?.DB).to.equal('postgres12');
  });

  it('when reading api and worker, then both build from the Dockerfile targets and read .env.production', function () {
    expect(services.api?.build).to.deep.equal({ context: '.', target: 'api' });
    expect(services.worker?.build).to.deep.equal({ context: '.', target: 'worker' });
    expect(services.api?.deploy?.replicas).to.equal(2);
    for (const name of ['api', 'worker']) expect(services[name]?.env_file, name).to.equal('.env.production');
  });

  it('when the worker starts, then it serves both task queues, each with a Worker of its own', function () {
    expect(services.worker?.environment?.WORKER_TASK_QUEUES).to.equal('orders,maintenance');
  });

  it('when a service sets a secret-looking variable, then its value comes from the env file, never a literal', function () {
    for (const [name, service] of Object.entries(services)) {
      for (const [key, value] of Object.entries(service.environment ?? {})) {
        if (!SECRET_NAME.test(key)) continue;
        expect(String(value), `${name}.${key}`).to.match(/^\$\{[A-Z0-9_]+(:\?[^}]*)?\}$/);
      }
    }
  });

  it('when compose interpolates a variable, then .env.production.example documents it', function () {
    const documented = parseEnvExample();
    const referenced = new Set(
      [...readRepoFile('docker-compose.production.yml').matchAll(/(?<!\$)\$\{([A-Z0-9_]+)/g)].map((m) => m[1] ?? ''),
    );
    for (const name of referenced) expect(documented.has(name), `${name} missing from .env.production.example`).to.equal(true);
  });

  it('when grafana, prometheus, alertmanager, blackbox and nginx mount repo files, then those files exist', function () {
    for (const [name, service] of Object.entries(services)) {
      for (const volume of service.volumes ?? []) {
        const source = volume.split(':')[0] ?? '';
        if (source.startsWith('./')) expect(fs.existsSync(repoPath(source)), `${name} mounts missing ${source}`).to.equal(true);
        else if (!source.startsWith('/') && !source.startsWith('$'))
          expect(compose.volumes, `${name} volume ${source}`).to.have.property(source);
      }
    }
    expect(services.grafana?.volumes).to.include('./monitoring/grafana/dashboards:/var/lib/grafana/dashboards:ro');
    expect(services.nginx?.volumes).to.include('./nginx/nginx.prod.conf:/etc/nginx/nginx.conf:ro');
    expect(services.prometheus?.volumes).to.include('./monitoring/alerts:/etc/prometheus/alerts:ro');
  });

  it('when reading networks, then the shared network is internal and postgres is reachable only on it', function () {
    expect(compose.networks.internal?.internal).to.equal(true);
    expect(services.postgres?.networks).to.deep.equal(['internal']);
    for (const name of Object.keys(services)) expect(services[name]?.networks, `${name} networks`).to.include('internal');
  });

  it('when the worker runs pg_dump, then the postgres server major version matches postgresql-client-15', function () {
    expect(services.postgres?.image).to.match(/^postgres:15([.-]|$)/);
    expect(dockerStages().get('worker')).to.include('postgresql-client-15');
  });
});

describe('ops: Dockerfile', function () {
  const stages = dockerStages();
  const dockerfile = readRepoFile('Dockerfile');

  it('when building, then stages start from node:20-bookworm-slim and compile with npm ci, build and the workflow bundle', function () {
    expect(dockerfile).to.match(/^FROM node:20-bookworm-slim AS base$/m);
    const build = stages.get('build') ?? '';
    expect(build).to.include('RUN npm ci');
    expect(build).to.include('npm run build');
    expect(build).to.include('npm run build:workflows');
    expect(build).to.include('dist/workflow-bundle.js');
    expect(stages.get('prod-deps')).to.include('npm ci --omit=dev');
  });

  it('when reading the api and worker targets, then each runs as a non-root user with a healthcheck and its command', function () {
    const expected: Record<string, string> = {
      api: 'CMD ["node", "dist/api/main.js"]',
      worker: 'CMD ["node", "dist/workers/main.js"]',
    };
    for (const [target, cmd] of Object.entries(expected)) {
      const stage = stages.get(target) ?? '';
      expect(stage, target).to.match(/^USER node$/m);
      expect(stage, target).to.include('HEALTHCHECK');
      expect(stage, target).to.include(cmd);
    }
    expect(stages.get('runtime')).to.include('NODE_ENV=production');
    expect(stages.get('runtime')).to.not.include('--from=build /app/node_modules');
    expect(stages.get('api')).to.not.include('postgresql-client');
  });

  it('when sending the build context, then .dockerignore keeps out env files, node_modules and git', function () {
    const ignored = readRepoFile('.dockerignore')
      .split('\n')
      .map((l) => l.trim());
    for (const entry of ['.env', '.env.*', 'node_modules', '.git', 'dist']) expect(ignored, entry).to.include(entry);
  });
});

describe('ops: .env.production.example', function () {
  const vars = parseEnvExample();

  it('when listing variables, then every variable the app and compose read is present', function () {
    for (const name of APP_VARIABLES) expect(vars.has(name), `${name} missing`).to.equal(true);
  });

  it('when a variable holds a secret, then the example has an empty value or a <placeholder>', function () {
    for (const [name, value] of vars) {
      if (!SECRET_NAME.test(name)) continue;
      expect(value === '' || /<[^>]+>/.test(value), `${name}=${value} looks like a real secret`).to.equal(true);
    }
  });

  it('when naming the task queues, then maintenance has its own, ending in -maintenance as the alerts expect', function () {
    const orders = vars.get('TEMPORAL_TASK_QUEUE');
    const maintenance = vars.get('TEMPORAL_MAINTENANCE_TASK_QUEUE') ?? '';
    expect(maintenance).to.match(/.+-maintenance$/);
    expect(orders).to.not.match(/-maintenance$/);
    expect(maintenance).to.not.equal(orders);
    const alerts = readRepoFile('monitoring/alerts/temporal.yml');
    expect(alerts).to.include('task_queue!~".+-maintenance"');
    expect(alerts).to.include('task_queue=~".+-maintenance"');
  });

  it('when reading the ports, then they match what Prometheus scrapes and the Dockerfile exposes', function () {
    expect(vars.get('PORT')).to.equal('3000');
    expect(vars.get('METRICS_PORT')).to.equal('9464');
    expect(vars.get('TEMPORAL_METRICS_PORT')).to.equal('9465');
    expect(vars.get('WORKER_METRICS_PORT')).to.equal('9466');
  });
});

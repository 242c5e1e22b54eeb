import type { AddressInfo } from 'node:net';
import { createDb, pingDb } from '../db/knex';
import { loadConfig, requireFor, type Config } from '../lib/config';
import { createLogger, type Logger } from '../lib/logger';
import { registerDbMetrics } from '../lib/db-metrics';
import { createMetrics } from '../lib/metrics';
import { startMetricsServer } from '../lib/metrics-server';
import { initSentry, flushSentry } from '../lib/sentry';
import { onShutdown } from '../lib/shutdown';
import { connectClient, pingTemporal } from '../lib/temporal';
import { createApp } from './app';
import { createHttpServer } from './http/allowed-methods';
import { routeTemplate } from './http/request-context';

export interface RunningApi {
  url: string;
  close(): Promise<void>;
}

/** The API's composition root: builds every dependency from the config and listens. */
export async function startApi(config: Config, logger: Logger): Promise<RunningApi> {
  requireFor(config, 'api');
  const db = createDb({ url: config.database.url, poolMax: config.database.poolMax, applicationName: 'cafe-flow-api' });
  const temporal = await connectClient({ ...config.temporal, address: config.temporal.address });
  const metrics = createMetrics();
  registerDbMetrics({ registry: metrics.registry, db, logger });
  const report = initSentry(config, 'cafe-flow-api');
  const { app, close: closeApp } = createApp({
    config,
    db,
    logger,
    metrics,
    temporal,
    readiness: { postgres: () => pingDb(db), temporal: () => pingTemporal(temporal) },
    reportError:
      report &&
      ((error, ctx) =>
        report(error, {
          requestId: ctx.state.requestId,
          method: ctx.method,
          route: routeTemplate(ctx),
          userId: ctx.state.user?.userId,
          businessId: ctx.state.businessId,
        })),
  });
  const server = createHttpServer(app.callback());
  // Longer than nginx's upstream keepalive, so the proxy never reuses a socket we just closed.
  server.keepAliveTimeout = 65_000;
  await new Promise<void>((resolve) => server.listen(config.http.port, config.http.host, resolve));
  const metricsServer = await startMetricsServer(metrics.registry, config.http.metricsPort);
  const { port } = server.address() as AddressInfo;
  logger.info({ port, metricsPort: metricsServer.port }, 'api listening');

  return {
    url: `http://127.0.0.1:${port}`,
    async close() {
      // Stop accepting, end live streams, let in-flight requests finish, then close pools.
      const drained = new Promise<void>((resolve) => server.close(() => resolve()));
      await closeApp();
      server.closeIdleConnections();
      await drained;
      await metricsServer.close();
      await temporal.connection.close();
      await db.destroy();
      await flushSentry();
    },
  };
}

if (require.main === module) {
  const config = loadConfig();
  const logger = createLogger({ level: config.log.level, name: 'cafe-flow-api', file: config.log.file });
  startApi(config, logger).then(
    (api) => onShutdown(logger, () => api.close()),
    (error) => {
      logger.fatal({ err: error }, 'api failed to start');
      process.exit(1);
    },
  );
}

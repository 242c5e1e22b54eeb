import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { NativeConnection } from '@temporalio/worker';
import type { SearchAttributeType } from '@temporalio/common';
import { temporal as proto } from '@temporalio/proto';
import { SEARCH_ATTRIBUTE_KEYS } from '../workflows/orders/search-attributes';
import type { Config } from './config';
import { payloadDataConverter } from './payload-codec';

/**
 * Custom search attributes the product writes, name to type; operators filter orders by them in the
 * Temporal UI. Derived from the workflow's keys (workflows/orders/search-attributes.ts), the one definition.
 */
export const SEARCH_ATTRIBUTES: Readonly<Record<string, SearchAttributeType>> = Object.fromEntries(
  SEARCH_ATTRIBUTE_KEYS.map((key) => [key.name, key.type]),
);

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
  return new Client({ connection, namespace: temporal.namespace, dataConverter: payloadDataConverter(temporal.payloadKeys) });
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

/**
 * Registers the product's search attributes on a namespace (dev server, test server, or a
 * self-hosted cluster); already registered ones are left as they are. On Temporal Cloud, add them
 * in the namespace settings instead.
 */
export async function ensureSearchAttributes(connection: Connection, namespace: string): Promise<void> {
  // The time-skipping test server cannot list them; there, add all and let it keep what it has.
  const existing = await connection.operatorService.listSearchAttributes({ namespace }).catch(() => undefined);
  const missing = Object.keys(SEARCH_ATTRIBUTES).filter((name) => !(name in (existing?.customAttributes ?? {})));
  if (missing.length === 0) return;
  await connection.operatorService.addSearchAttributes({
    namespace,
    searchAttributes: Object.fromEntries(
      missing.map((name) => [name, proto.api.enums.v1.IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD]),
    ),
  });
}

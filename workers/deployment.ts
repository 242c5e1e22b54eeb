import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { bundleWorkflowCode, type WorkerOptions } from '@temporalio/worker';
import type { Config } from '../lib/config';
import { workflowsPath } from './worker';

type VersioningSettings = Config['worker']['versioning'];
type DeploymentOptions = NonNullable<WorkerOptions['workerDeploymentOptions']>;

/**
 * Every workflow this worker starts is pinned to its build: an order (minutes to an hour) and a
 * backup (up to hours) finish on the code that started them, however many deploys happen
 * meanwhile. The price is that an old build's workers stay up until its workflows drain
 * (scripts/deploy_production.sh waits for that, then retires them).
 */
export const VERSIONING_BEHAVIOR = 'PINNED' as const;

/** The same workflow code always gets the same build id, whichever machine bundled it. */
export const buildIdOf = (code: string) => `wf-${createHash('sha256').update(code).digest('hex').slice(0, 16)}`;

export function deploymentOptions(settings: VersioningSettings, buildId: string): DeploymentOptions {
  return {
    version: { deploymentName: settings.deploymentName, buildId },
    useWorkerVersioning: true,
    defaultVersioningBehavior: VERSIONING_BEHAVIOR,
  };
}

export interface WorkflowCode {
  workflowBundle?: WorkerOptions['workflowBundle'];
  deployment?: DeploymentOptions;
}

/**
 * The workflow code the worker runs and, with WORKER_VERSIONING=on, the deployment version it
 * polls as: WORKER_BUILD_ID (the release tag in production), else a hash of the bundle, which
 * is then bundled here so the hash is of exactly the code that runs.
 */
export async function workflowCode(settings: VersioningSettings, prebuiltBundlePath?: string): Promise<WorkflowCode> {
  const prebuilt = prebuiltBundlePath ? { codePath: prebuiltBundlePath } : undefined;
  if (!settings.enabled) return { workflowBundle: prebuilt };
  if (settings.buildId) return { workflowBundle: prebuilt, deployment: deploymentOptions(settings, settings.buildId) };
  const code = prebuiltBundlePath
    ? await readFile(prebuiltBundlePath, 'utf8')
    : (await bundleWorkflowCode({ workflowsPath: require.resolve(workflowsPath) })).code;
  return { workflowBundle: { code }, deployment: deploymentOptions(settings, buildIdOf(code)) };
}

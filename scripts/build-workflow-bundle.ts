/**
 * Prebuilds the workflow bundle for production workers (`npm run build:workflows`), so they start
 * without webpack and every replica runs byte-identical workflow code.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { bundleWorkflowCode } from '@temporalio/worker';

const root = path.resolve(__dirname, '..');

/** Bundles workflows/ into `out`; the worker runs it with WORKFLOW_BUNDLE_PATH=<out>. */
export async function buildWorkflowBundle(out: string): Promise<number> {
  const { code } = await bundleWorkflowCode({ workflowsPath: require.resolve(path.join(root, 'workflows')) });
  await mkdir(path.dirname(out), { recursive: true });
  await writeFile(out, code);
  return code.length;
}

async function main() {
  const { values } = parseArgs({ options: { out: { type: 'string' } } });
  const out = path.resolve(values.out ?? path.join(root, 'dist', 'workflow-bundle.js'));
  const size = await buildWorkflowBundle(out);
  console.log(`wrote ${out} (${(size / 1024 / 1024).toFixed(2)} MiB)`);
}

if (require.main === module)
  main().catch((error) => {
    console.error(error);
    process.exit(1);
  });

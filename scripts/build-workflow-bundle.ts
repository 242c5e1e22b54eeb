/**
 * Prebuilds the workflow bundle for production workers (`npm run build:workflows`), so they start
 * without webpack and every replica runs byte-identical workflow code.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { bundleWorkflowCode } from '@temporalio/worker';

async function main() {
  const root = path.resolve(__dirname, '..');
  const { code } = await bundleWorkflowCode({ workflowsPath: require.resolve(path.join(root, 'workflows')) });
  const out = path.join(root, 'dist', 'workflow-bundle.js');
  await mkdir(path.dirname(out), { recursive: true });
  await writeFile(out, code);
  console.log(`wrote ${out} (${(code.length / 1024 / 1024).toFixed(2)} MiB)`);
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});

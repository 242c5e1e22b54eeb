/**
 * `npm run bench:pragmas`: the engine's ceiling (bench/scenarios/ceiling.ts) on a fresh dev server
 * with SQLite `synchronous=normal`, then `synchronous=off`, then in memory, one after the other on
 * the same machine. Picks what `npm start` runs: scripts/stack/temporal-dev-server.ts.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { Cleanup } from './processes';
import { measureCeiling } from './scenarios/ceiling';
import { startTemporal } from './temporal';

const log = (message: string) => console.log(`• ${message}`);

async function main() {
  const { values } = parseArgs({ options: { duration: { type: 'string', default: '15' } } });
  const seconds = Number(values.duration);
  const rows: string[] = [];
  let cleanup = new Cleanup();
  try {
    for (const setting of ['normal', 'off', 'memory'] as const) {
      cleanup = new Cleanup();
      cleanup.installSignalHandlers();
      const dataDir = await mkdtemp(path.join(os.tmpdir(), 'cafe-flow-pragmas-'));
      const server = await startTemporal(
        cleanup,
        dataDir,
        setting === 'memory' ? 'memory' : 'sqlite',
        setting === 'memory' ? undefined : setting,
      );
      log(`dev server with ${setting === 'memory' ? 'in-memory store' : `synchronous=${setting}`}`);
      const report = await measureCeiling(server.address, {
        seconds,
        concurrency: 32,
        runId: randomBytes(3).toString('hex'),
        log,
      });
      rows.push(
        `${setting.padEnd(8)} bare ${report.bare.perSecond}/s (p95 ${report.bare.latencyMs.p95} ms)   Update-with-Start + 2 local ${report.updateWithStartTwoLocal.perSecond}/s (p95 ${report.updateWithStartTwoLocal.latencyMs.p95} ms)`,
      );
      await cleanup.run();
      await rm(dataDir, { recursive: true, force: true });
    }
    console.log(`\nsqlite synchronous   engine ceiling (${seconds} s each, 32 in flight)\n${rows.join('\n')}`);
    process.exit(0);
  } catch (error) {
    console.error(error);
    await cleanup.run();
    process.exit(1);
  }
}

void main();

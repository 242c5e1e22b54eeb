import { execFileSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { originOf, renderProfiles, summarizeDir } from '../../bench/cpu-profile';

describe('bench CPU profiles', () => {
  it('when a process burns CPU in one function under node --cpu-prof, then the summary puts that function and its file on top', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'cafe-flow-cpu-profile-'));
    try {
      const script = path.join(dir, 'burn.js');
      await writeFile(
        script,
        'function burnCpu() { let x = 0; const end = Date.now() + 400; while (Date.now() < end) x += Math.sqrt(x + 1); return x; }\n' +
          'burnCpu();\n',
      );
      execFileSync(process.execPath, ['--cpu-prof', `--cpu-prof-dir=${path.join(dir, 'profiles')}`, script]);

      const [summary] = await summarizeDir(path.join(dir, 'profiles'), dir);

      expect(summary, 'one profile written').to.not.equal(undefined);
      expect(summary!.sampledMs).to.be.greaterThan(200);
      expect(summary!.topFunctions[0]!.fn).to.match(/^burnCpu burn\.js:1$/);
      expect(summary!.byOrigin[0]).to.include({ origin: 'project burn.js' });
      expect(renderProfiles('burner', [summary!])).to.contain('burnCpu burn.js:1');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('when code lives in a scoped package, node itself or the project, then it is grouped there', () => {
    const root = '/app';
    expect(originOf('file:///app/node_modules/@temporalio/worker/lib/worker.js', root)).to.equal('@temporalio/worker');
    expect(originOf('/app/node_modules/knex/lib/client.js', root)).to.equal('knex');
    expect(originOf('node:internal/streams/writable', root)).to.equal('node internals');
    expect(originOf('/app/activities/orders/index.ts', root)).to.equal('project activities/');
    expect(originOf('', root)).to.equal('(native / gc / idle)');
  });
});

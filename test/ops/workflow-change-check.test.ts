// scripts/check-workflow-changes.ts run for real against throwaway git repositories.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { repoPath } from './support';

const CHECK = repoPath('scripts/check-workflow-changes.ts');
const ORDER = 'workflows/orders/order-workflow.ts';
const ORIGINAL = `import { patched } from '@temporalio/workflow';
export async function processOrder() {
  if (patched('reconcile-at-deadline')) return 'v2';
  return 'v1';
}
`;

interface Repo {
  dir: string;
  git(...args: string[]): string;
  write(file: string, text: string): void;
  commit(message: string): void;
  check(...args: string[]): { status: number | null; stdout: string; stderr: string };
}

const made: string[] = [];

function repo(): Repo {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cafe-flow-wfcheck-'));
  made.push(dir);
  const git = (...args: string[]) => {
    const result = spawnSync('git', ['-C', dir, ...args], { encoding: 'utf8' });
    if (result.status !== 0) throw new Error(`git ${args.join(' ')}: ${result.stderr}`);
    return result.stdout.trim();
  };
  const write = (file: string, text: string) => {
    fs.mkdirSync(path.dirname(path.join(dir, file)), { recursive: true });
    fs.writeFileSync(path.join(dir, file), text);
  };
  const commit = (message: string) => {
    git('add', '--all');
    git('commit', '--quiet', '--message', message);
  };
  const check = (...args: string[]) => {
    const result = spawnSync(process.execPath, ['-r', 'tsx/cjs', CHECK, '--repo', dir, ...args], {
      encoding: 'utf8',
      cwd: repoPath(),
      timeout: 30_000,
    });
    return { status: result.status, stdout: result.stdout, stderr: result.stderr };
  };
  git('init', '--quiet');
  git('config', 'user.email', 'ci@cafe-flow.invalid');
  git('config', 'user.name', 'ci');
  write(ORDER, ORIGINAL);
  write('test/replay/histories/order-completed.v2.json', '{}\n');
  write('README.md', 'cafe-flow\n');
  commit('base');
  return { dir, git, write, commit, check };
}

const changedOrder = ORIGINAL.replace("return 'v1';", "await sleep('1 second');\n  return 'v1';");

describe('ops: the workflow change check', function () {
  this.timeout(60_000);
  after(() => made.splice(0).forEach((dir) => fs.rmSync(dir, { recursive: true, force: true })));

  it('when a commit leaves workflows/ alone, then the check passes and says so', () => {
    const r = repo();
    r.write('README.md', 'cafe-flow, now with docs\n');
    r.commit('docs');

    const result = r.check();

    expect(result.status, result.stderr).to.equal(0);
    expect(result.stdout).to.match(/^workflow changes: none since [0-9a-f]{12}$/m);
  });

  it('when a workflow changes with no new patch, history or trailer, then the check refuses it and names the file', () => {
    const r = repo();
    r.write(ORDER, changedOrder);
    r.commit('order: wait a second');

    const result = r.check();

    expect(result.status).to.equal(1);
    expect(result.stderr).to.include('no new patched()/deprecatePatch() id');
    expect(result.stderr).to.match(new RegExp(`^  ${ORDER}$`, 'm'));
  });

  it('when the change is only in the working tree, then it is checked too', () => {
    const r = repo();
    r.write('README.md', 'x\n');
    r.commit('docs');
    r.write(ORDER, changedOrder);
    r.write('workflows/orders/steps.ts', 'export const step = 1;\n');

    const result = r.check();

    expect(result.status).to.equal(1);
    expect(result.stderr).to.include(ORDER);
    expect(result.stderr).to.include('workflows/orders/steps.ts');
  });

  it('when the change brings a new patched() id, then the check passes and names it', () => {
    const r = repo();
    r.write(ORDER, changedOrder.replace("await sleep('1 second');", "if (patched('wait-a-second')) await sleep('1 second');"));
    r.commit('order: wait a second, behind a patch');

    const result = r.check();

    expect(result.status, result.stderr).to.equal(0);
    expect(result.stdout).to.include("covered by new patched('wait-a-second')");
  });

  it('when the change only moves an existing patched() id, then that is no proof and the check refuses it', () => {
    const r = repo();
    r.write(
      ORDER,
      `${changedOrder}// reconcile-at-deadline moved\nexport const again = () => patched('reconcile-at-deadline');\n`,
    );
    r.commit('order: reuse the old patch');

    expect(r.check().status).to.equal(1);
  });

  it('when an old patch is deprecated, then deprecatePatch() of that id counts as new', () => {
    const r = repo();
    r.write(
      ORDER,
      ORIGINAL.replace(
        "if (patched('reconcile-at-deadline')) return 'v2';\n  return 'v1';",
        "deprecatePatch('reconcile-at-deadline');\n  return 'v2';",
      ),
    );
    r.commit('order: every v1 order is gone');

    const result = r.check();

    expect(result.status, result.stderr).to.equal(0);
    expect(result.stdout).to.include("new deprecatePatch('reconcile-at-deadline')");
  });

  it('when the change adds a recorded history, then the check passes; editing an existing history does not count', () => {
    const edited = repo();
    edited.write(ORDER, changedOrder);
    edited.write('test/replay/histories/order-completed.v2.json', '{"events":[]}\n');
    edited.commit('order: re-recorded over the old history');
    expect(edited.check().status, 'an overwritten history').to.equal(1);

    const added = repo();
    added.write(ORDER, changedOrder);
    added.write('test/replay/histories/order-completed.v3.json', '{}\n');
    added.commit('order: wait a second; v3 histories');
    const result = added.check();
    expect(result.status, result.stderr).to.equal(0);
    expect(result.stdout).to.include('new history test/replay/histories/order-completed.v3.json');
  });

  it('when a commit in the range carries a Workflow-Compatible trailer, then the check passes', () => {
    const r = repo();
    r.write(ORDER, `// Why the deadline reconciles: MercadoPago webhooks can be lost.\n${ORIGINAL}`);
    r.commit('order: a comment\n\nWorkflow-Compatible: comment only, no command changes');

    const result = r.check();

    expect(result.status, result.stderr).to.equal(0);
    expect(result.stdout).to.include('covered by a Workflow-Compatible trailer');
  });

  it('when origin/main exists, then the whole branch since the merge-base is checked, not just the last commit', () => {
    const r = repo();
    r.git('update-ref', 'refs/remotes/origin/main', 'HEAD');
    r.write(ORDER, changedOrder);
    r.commit('order: wait a second');
    r.write('README.md', 'later\n');
    r.commit('docs');

    const branch = r.check();
    const lastCommitOnly = r.check('--base', 'HEAD~1');

    expect(branch.status, 'merge-base with origin/main').to.equal(1);
    expect(lastCommitOnly.status, lastCommitOnly.stderr).to.equal(0);
  });

  it('when HEAD is origin/main itself (CI on a clean clone), then HEAD is compared with its first parent', () => {
    const r = repo();
    r.write(ORDER, changedOrder);
    r.commit('order: wait a second');
    r.git('update-ref', 'refs/remotes/origin/main', 'HEAD');

    expect(r.check().status).to.equal(1);
  });

  it('when CI cloned only the last commit, then the check refuses to guess and asks for the base', () => {
    const r = repo();
    r.write(ORDER, changedOrder);
    r.commit('order: wait a second');
    const shallow = fs.mkdtempSync(path.join(os.tmpdir(), 'cafe-flow-wfcheck-shallow-'));
    made.push(shallow);
    const clone = spawnSync('git', ['clone', '--quiet', '--depth', '1', `file://${r.dir}`, shallow], { encoding: 'utf8' });
    expect(clone.status, clone.stderr).to.equal(0);

    const result = spawnSync(process.execPath, ['-r', 'tsx/cjs', CHECK, '--repo', shallow], {
      encoding: 'utf8',
      cwd: repoPath(),
    });

    expect(result.status).to.equal(2);
    expect(result.stderr).to.include('shallow clone without the base commit');
  });

  it('when HEAD has no parent, then there is nothing to compare; a bad --base is a usage error', () => {
    const r = repo();

    const first = r.check();
    const bad = r.check('--base', 'no-such-commit');

    expect(first.status, first.stderr).to.equal(0);
    expect(first.stdout).to.include('HEAD has no parent, nothing to compare');
    expect(bad.status).to.equal(2);
    expect(bad.stderr).to.include('--base no-such-commit: no such commit');
  });
});

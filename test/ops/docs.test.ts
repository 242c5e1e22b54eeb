// Operations docs and scripts: links between the docs resolve, the runbook covers
// the Temporal operations on-call needs, and the install script passes shellcheck.
import { expect } from 'chai';
import fs from 'node:fs';
import path from 'node:path';
import { describeFailure, markdownAnchors, readRepoFile, repoPath, requireTool, run } from './support';

const DOCS = ['docs/runbook.md', 'docs/incident-response.md', 'docs/contingency.md', 'docs/pre-deploy-checklist.md'];

/** Markdown links outside fenced code: [text](target). */
function links(markdown: string): string[] {
  const found: string[] = [];
  let inFence = false;
  for (const line of markdown.split('\n')) {
    if (/^\s*```/.test(line)) inFence = !inFence;
    if (inFence) continue;
    for (const match of line.replace(/`[^`]*`/g, '').matchAll(/\]\(([^)\s]+)\)/g)) found.push(match[1] ?? '');
  }
  return found;
}

describe('ops: runbook and operations docs', function () {
  it('when a doc links to another doc or a heading, then the file and the anchor exist', function () {
    for (const doc of DOCS) {
      for (const link of links(readRepoFile(doc))) {
        if (/^https?:/.test(link)) continue;
        const [file, anchor] = link.split('#');
        const target = file ? path.join(path.dirname(doc), file) : doc;
        expect(fs.existsSync(repoPath(target)), `${doc}: broken link ${link}`).to.equal(true);
        if (anchor) expect(markdownAnchors(readRepoFile(target)).has(anchor), `${doc}: no heading for ${link}`).to.equal(true);
      }
    }
  });

  it('when on-call needs a Temporal operation, then the runbook shows the real CLI command', function () {
    const runbook = readRepoFile('docs/runbook.md');
    const expected = [
      /temporal workflow list --query 'BusinessId="<businessId>" AND ExecutionStatus="Running"'/,
      /temporal workflow list --query 'OrderStatus="paid" AND ExecutionStatus="Running"'/,
      /temporal workflow signal \\\n\s+--workflow-id 'order:<businessId>:<orderId>' \\\n\s+--name paymentUpdate/,
      /temporal workflow reset --workflow-id '[^']+' --type LastWorkflowTask --reason/,
      /temporal schedule toggle --schedule-id backup-daily --pause --reason/,
      /temporal schedule trigger --schedule-id backup-daily/,
      /temporal task-queue describe --task-queue cafe-flow/,
    ];
    for (const pattern of expected) expect(runbook).to.match(pattern);
  });
});

describe('ops: scripts', function () {
  it('when shellcheck lints install-system-deps.sh, then it reports nothing', function () {
    const shellcheck = requireTool('shellcheck', 'shellcheck');
    const result = run(shellcheck, [repoPath('scripts/install-system-deps.sh')]);
    expect(result.status, describeFailure(result)).to.equal(0);
  });

  it('when reading install-system-deps.sh, then it installs every package the ops tests, backups and the board browser test need', function () {
    const script = readRepoFile('scripts/install-system-deps.sh');
    expect(script).to.include('readonly PACKAGES=(nginx prometheus openssl shellcheck postgresql-client-15 chromium)');
    expect(fs.statSync(repoPath('scripts/install-system-deps.sh')).mode & 0o111, 'executable').to.not.equal(0);
  });
});

import { expect } from 'chai';
import { QueueTimeoutError, Semaphore } from '../../api/auth/semaphore';

/** A task that runs until `release()` is called, recording when it started. */
function heldTask(name: string, log: string[]) {
  let release!: () => void;
  const done = new Promise<void>((resolve) => (release = resolve));
  return {
    task: async () => {
      log.push(name);
      await done;
      return name;
    },
    release: () => release(),
  };
}

const tick = () => new Promise((resolve) => setImmediate(resolve));

describe('auth semaphore', () => {
  it('when a heavy task waits at the head of the queue, then a light one behind it does not jump ahead', async () => {
    const semaphore = new Semaphore(2);
    const log: string[] = [];
    const first = heldTask('first', log);
    const heavy = heldTask('heavy', log);
    const light = heldTask('light', log);

    const running = [
      semaphore.run(1, 10_000, first.task),
      semaphore.run(2, 10_000, heavy.task),
      semaphore.run(1, 10_000, light.task),
    ];
    await tick();
    expect(log, 'one permit is free, but the heavy task needs two').to.deep.equal(['first']);

    first.release();
    await running[0];
    await tick();
    expect(log).to.deep.equal(['first', 'heavy']);
    heavy.release();
    await running[1];
    await tick();
    light.release();

    expect(await running[2]).to.equal('light');
    expect(log).to.deep.equal(['first', 'heavy', 'light']);
    expect([semaphore.inUse, semaphore.queued]).to.deep.equal([0, 0]);
  });

  it('when the waiter at the head times out, then the ones behind it get the permits it was blocking', async () => {
    const semaphore = new Semaphore(2);
    const log: string[] = [];
    const holder = heldTask('holder', log);
    const light = heldTask('light', log);

    const held = semaphore.run(1, 10_000, holder.task);
    const impatient = semaphore.run(2, 20, async () => 'never');
    const behind = semaphore.run(1, 10_000, light.task);

    const refused = await impatient.then(
      () => undefined,
      (error: unknown) => error,
    );
    await tick();

    expect(refused).to.be.instanceOf(QueueTimeoutError);
    expect(log).to.deep.equal(['holder', 'light']);
    holder.release();
    light.release();
    expect(await Promise.all([held, behind])).to.deep.equal(['holder', 'light']);
  });

  it('when a task is heavier than the whole budget, then it still runs, alone', async () => {
    const semaphore = new Semaphore(2);

    expect(await semaphore.run(5, 100, async () => semaphore.inUse)).to.equal(2);
  });
});

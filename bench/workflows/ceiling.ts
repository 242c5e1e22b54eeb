import { allHandlersFinished, condition, defineUpdate, proxyLocalActivities, setHandler } from '@temporalio/workflow';

/**
 * The engine's own ceiling, without any of the product's work: what the same dev server does per
 * second for the smallest workflows shaped like a placement. Bundled by bench/scenarios/ceiling.ts.
 */
const steps = proxyLocalActivities<{ noop(): Promise<void> }>({ startToCloseTimeout: '5 seconds' });

export const placeLike = defineUpdate<string>('placeLike');

/** Start, then one workflow task that returns. */
export async function bareWorkflow(): Promise<void> {}

/** Update-with-Start whose first workflow task runs two no-op local activities and answers the update. */
export async function updateWithStartTwoLocal(): Promise<void> {
  let done = false;
  setHandler(placeLike, async () => {
    await steps.noop();
    await steps.noop();
    done = true;
    return 'placed';
  });
  await condition(() => done);
  await condition(allHandlersFinished);
}

import { Client, Connection } from '@temporalio/client';
import { localActivityName } from './engine-cost';

export interface PlacementPath {
  workflowId: string;
  /** History events written before the placement was answered. */
  historyEvents: number;
  /** Workflow tasks (worker round trips) before the answer. */
  workflowTasks: number;
  /** Activities run before the answer, in order: local ones inside a workflow task, regular ones as tasks of their own. */
  activities: string[];
  localActivities: number;
}

/**
 * What one placement costs structurally, read from a placed order's history: the round trips
 * between the API, the server and the worker before the customer gets an answer. Unlike the
 * latencies, this does not depend on how busy the machine is.
 */
export async function placementPath(address: string, workflowId: string): Promise<PlacementPath> {
  const connection = await Connection.connect({ address });
  try {
    const history = await new Client({ connection }).workflow.getHandle(workflowId).fetchHistory();
    const events = history.events ?? [];
    const answered = events.findIndex((event) => event.workflowExecutionUpdateCompletedEventAttributes);
    const beforeAnswer = answered < 0 ? events : events.slice(0, answered + 1);
    return {
      workflowId,
      historyEvents: beforeAnswer.length,
      workflowTasks: beforeAnswer.filter((event) => event.workflowTaskCompletedEventAttributes).length,
      activities: beforeAnswer.flatMap(
        (event) => event.activityTaskScheduledEventAttributes?.activityType?.name ?? localActivityName(event) ?? [],
      ),
      localActivities: beforeAnswer.filter((event) => localActivityName(event)).length,
    };
  } finally {
    await connection.close();
  }
}

import type { temporal } from '@temporalio/proto';

type History = temporal.api.history.v1.IHistory;
type HistoryEvent = temporal.api.history.v1.IHistoryEvent;

/** Local activities are recorded as markers of this name (the Core SDK's). */
const LOCAL_ACTIVITY_MARKER = 'core_local_activity';

export const localActivityName = (event: HistoryEvent): string | undefined => {
  const marker = event.markerRecordedEventAttributes;
  if (marker?.markerName !== LOCAL_ACTIVITY_MARKER) return undefined;
  const data = marker.details?.data?.payloads?.[0]?.data;
  if (!data) return 'local';
  try {
    return (JSON.parse(Buffer.from(data).toString('utf8')) as { activity_type?: string }).activity_type ?? 'local';
  } catch {
    return 'local';
  }
};

export interface EngineCost {
  historyEvents: number;
  /** Trips through a worker: every workflow task started, whether it completed, failed or timed out. */
  workflowTasks: number;
  /** Regular activity tasks scheduled (each a separate trip through the server's task queue). */
  activityTasks: number;
  localActivities: string[];
  timers: number;
  signals: number;
  updates: number;
}

/** What one execution cost the engine, counted from its real history. */
export function engineCost(history: History): EngineCost {
  const events = history.events ?? [];
  return {
    historyEvents: events.length,
    workflowTasks: events.filter((event) => event.workflowTaskStartedEventAttributes).length,
    activityTasks: events.filter((event) => event.activityTaskScheduledEventAttributes).length,
    localActivities: events.flatMap((event) => localActivityName(event) ?? []),
    timers: events.filter((event) => event.timerStartedEventAttributes).length,
    signals: events.filter((event) => event.workflowExecutionSignaledEventAttributes).length,
    updates: events.filter((event) => event.workflowExecutionUpdateAcceptedEventAttributes).length,
  };
}

export interface FirstTask {
  /** The events the first workflow task's completion wrote (markers, commands' events). */
  localActivities: string[];
  activityTasks: number;
  /** The place update was answered by the first workflow task. */
  answeredPlacement: boolean;
}

/** What the first workflow task did: early return puts placement's local activities and its answer here. */
export function firstWorkflowTask(history: History): FirstTask {
  const events = history.events ?? [];
  const completed = events.findIndex((event) => event.workflowTaskCompletedEventAttributes);
  const next = events.findIndex((event, i) => i > completed && event.workflowTaskScheduledEventAttributes);
  const written = events.slice(completed + 1, next < 0 ? undefined : next);
  return {
    localActivities: written.flatMap((event) => localActivityName(event) ?? []),
    activityTasks: written.filter((event) => event.activityTaskScheduledEventAttributes).length,
    answeredPlacement: written.some((event) => event.workflowExecutionUpdateCompletedEventAttributes),
  };
}

export interface UpdateTask {
  /** Local activities recorded by the workflow task that accepted the update. */
  localActivities: string[];
  activityTasks: number;
  /** The same workflow task also completed the update (the caller got its answer from it). */
  answered: boolean;
}

/** What the workflow task that accepted the named update wrote; undefined when no task accepted it. */
export function taskAcceptingUpdate(history: History, updateName: string): UpdateTask | undefined {
  const events = history.events ?? [];
  const accepted = events.findIndex(
    (event) => event.workflowExecutionUpdateAcceptedEventAttributes?.acceptedRequest?.input?.name === updateName,
  );
  if (accepted < 0) return undefined;
  const updateId = events[accepted]?.workflowExecutionUpdateAcceptedEventAttributes?.protocolInstanceId;
  const next = events.findIndex((event, i) => i > accepted && event.workflowTaskScheduledEventAttributes);
  const written = events.slice(accepted, next < 0 ? undefined : next);
  return {
    localActivities: written.flatMap((event) => localActivityName(event) ?? []),
    activityTasks: written.filter((event) => event.activityTaskScheduledEventAttributes).length,
    answered: written.some((event) => event.workflowExecutionUpdateCompletedEventAttributes?.meta?.updateId === updateId),
  };
}

/** Sums per-execution costs and divides by the number of completed orders. */
export function perOrder(costs: EngineCost[], orders: number) {
  const sum = (pick: (cost: EngineCost) => number) => costs.reduce((total, cost) => total + pick(cost), 0);
  const each = (value: number) => (orders > 0 ? Math.round((value / orders) * 100) / 100 : 0);
  return {
    orders,
    executions: each(costs.length),
    workflowTasks: each(sum((cost) => cost.workflowTasks)),
    activityTasks: each(sum((cost) => cost.activityTasks)),
    localActivities: each(sum((cost) => cost.localActivities.length)),
    historyEvents: each(sum((cost) => cost.historyEvents)),
  };
}

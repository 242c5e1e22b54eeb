import { listenTo } from '../db/listen';
import type { Logger } from '../lib/logger';

export interface RelayLoop {
  /** Resolves when the loop has finished its last round after `halt()`. */
  finished: Promise<void>;
  /** Stops taking new rounds; the round in flight goes on. */
  halt(): void;
  /** Closes the LISTEN connection (after `finished`). */
  close(): Promise<void>;
}

/**
 * The loop the outbox relays share (webhook notifications, customer mail): LISTEN on `channel`
 * wakes it, a poll catches what LISTEN missed and rows whose retry came due, a full round goes
 * again at once, and the backlog is reported every `reportEveryMs`.
 */
export function startRelayLoop(options: {
  name: string;
  databaseUrl: string;
  channel: string;
  pollIntervalMs: number;
  reportEveryMs: number;
  /** Claims and handles one batch; returns whether it was full (more may be waiting). */
  round: () => Promise<boolean>;
  reportBacklog: () => Promise<void>;
  logger: Logger;
}): RelayLoop {
  const { logger } = options;
  let stopped = false;
  let woken = false;
  let wake: (() => void) | undefined;
  const nudge = () => {
    woken = true;
    wake?.();
  };
  const listener = listenTo({
    databaseUrl: options.databaseUrl,
    channel: options.channel,
    applicationName: `cafe-flow-${options.name}`,
    onNotify: nudge,
    onError: (error) => logger.warn({ err: error }, `${options.name} LISTEN connection failed; the poll covers the gap`),
  });

  const idle = () =>
    new Promise<void>((resolve) => {
      if (woken || stopped) return resolve();
      const timer = setTimeout(resolve, options.pollIntervalMs);
      wake = () => {
        clearTimeout(timer);
        resolve();
      };
    });

  const finished = (async () => {
    let lastReport = 0;
    while (!stopped) {
      woken = false;
      try {
        const full = await options.round();
        if (Date.now() - lastReport > options.reportEveryMs) {
          lastReport = Date.now();
          await options.reportBacklog();
        }
        if (full && !stopped) continue;
      } catch (error) {
        logger.warn({ err: error }, `${options.name} round failed`);
      }
      await idle();
      wake = undefined;
    }
  })();

  return {
    finished,
    halt() {
      stopped = true;
      wake?.();
    },
    close: () => listener.close(),
  };
}

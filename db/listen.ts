import pg from 'pg';

export interface Listener {
  close(): Promise<void>;
}

/**
 * One LISTEN connection on `channel`, reconnecting with backoff when Postgres goes away. Every
 * caller also polls (or refetches) on its own: a notification sent while the connection was down
 * is lost, by Postgres' design.
 */
export function listenTo(options: {
  databaseUrl: string;
  channel: string;
  applicationName: string;
  onNotify: (payload: string | undefined) => void;
  onError: (error: unknown) => void;
}): Listener {
  let client: pg.Client | undefined;
  let closed = false;
  let timer: NodeJS.Timeout | undefined;
  const connect = async (attempt: number) => {
    if (closed) return;
    const next = new pg.Client({ connectionString: options.databaseUrl, application_name: options.applicationName });
    next.on('notification', (message) => options.onNotify(message.payload));
    next.on('error', (error) => {
      options.onError(error);
      retry(next, attempt + 1);
    });
    try {
      await next.connect();
      await next.query(`LISTEN ${options.channel}`);
      if (closed) await next.end();
      else client = next;
    } catch (error) {
      options.onError(error);
      retry(next, attempt + 1);
    }
  };
  const retry = (failed: pg.Client, attempt: number) => {
    if (client === failed) client = undefined;
    void failed.end().catch(() => undefined);
    if (closed || timer) return;
    timer = setTimeout(
      () => {
        timer = undefined;
        void connect(attempt);
      },
      Math.min(30_000, 500 * 2 ** attempt),
    );
    timer.unref();
  };
  void connect(0);
  return {
    async close() {
      closed = true;
      clearTimeout(timer);
      await client?.end().catch(() => undefined);
    },
  };
}

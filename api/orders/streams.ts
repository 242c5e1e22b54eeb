import { PassThrough } from 'node:stream';
import { AppError, tooManyRequests } from '../../lib/errors';
import type { AppContext } from '../http/context';
import type { Reply } from '../http/routes';

export interface StreamSettings {
  roleCheckSeconds: number;
  maxPerUser: number;
  heartbeatSeconds: number;
}

/**
 * Open live streams per user in this process. Each stream holds a socket and a listener for as
 * long as the viewer stays, so one account (or one stolen token) cannot pile them up.
 */
export class StreamLimiter {
  private readonly open = new Map<string, number>();

  constructor(private readonly maxPerUser: number) {}

  /** Takes a slot or answers 429; the returned function gives it back, once. */
  acquire(userId: string): () => void {
    const count = this.open.get(userId) ?? 0;
    if (count >= this.maxPerUser) {
      throw tooManyRequests(
        'TOO_MANY_STREAMS',
        `At most ${this.maxPerUser} live streams per user; close one before opening another`,
        undefined,
        { limit: this.maxPerUser },
      );
    }
    this.open.set(userId, count + 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const left = (this.open.get(userId) ?? 1) - 1;
      if (left <= 0) this.open.delete(userId);
      else this.open.set(userId, left);
    };
  }
}

export interface EventStream {
  send(event: string, data: unknown, id?: string): void;
  /** Sends a last `end` event with the reason, then closes the stream. */
  end(reason: string): void;
  reply: Reply;
}

export interface EventStreamOptions {
  settings: StreamSettings;
  /** Still allowed to watch? Checked every `roleCheckSeconds`; false ends the stream with ACCESS_REVOKED. */
  stillAllowed: () => Promise<boolean>;
  /** Runs once when the stream ends, whoever ends it (client, server, revocation). */
  onEnd: () => void;
}

/**
 * A Server-Sent Events response: heartbeats so proxies keep an idle stream open, a periodic
 * role check, and one clean-up path however the stream ends.
 */
export function openEventStream(ctx: AppContext, options: EventStreamOptions): EventStream {
  const stream = new PassThrough();
  let ended = false;
  const write = (text: string) => {
    if (!ended) stream.write(text);
  };
  const heartbeat = setInterval(() => write(': keep-alive\n\n'), options.settings.heartbeatSeconds * 1000);
  const roleCheck = setInterval(() => void checkRole(), options.settings.roleCheckSeconds * 1000);

  async function checkRole() {
    try {
      if (!(await options.stillAllowed())) end('ACCESS_REVOKED');
    } catch (error) {
      // A database hiccup is not a revocation: the next check decides.
      ctx.state.log.warn({ err: error }, 'live stream role check failed');
    }
  }

  function close() {
    if (ended) return;
    ended = true;
    clearInterval(heartbeat);
    clearInterval(roleCheck);
    options.onEnd();
    stream.end();
  }

  function end(reason: string) {
    write(`event: end\ndata: ${JSON.stringify({ reason })}\n\n`);
    close();
  }

  ctx.req.on('close', close);
  ctx.req.socket.setTimeout(0);
  write('retry: 3000\n\n');
  return {
    send: (event, data, id) =>
      write(`${id === undefined ? '' : `id: ${id}\n`}event: ${event}\ndata: ${JSON.stringify(data)}\n\n`),
    end,
    reply: {
      status: 200,
      body: stream,
      headers: {
        'Content-Type': 'text/event-stream',
        'Cache-Control': 'no-cache',
        Connection: 'keep-alive',
        'X-Accel-Buffering': 'no',
      },
    },
  };
}

/** Whether `check` still lets the viewer in: a 404/403 means the role is gone, anything else is an error. */
export async function stillPasses(check: () => Promise<unknown>): Promise<boolean> {
  try {
    await check();
    return true;
  } catch (error) {
    if (error instanceof AppError && (error.status === 404 || error.status === 403)) return false;
    throw error;
  }
}

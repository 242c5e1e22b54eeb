import { spawn, type ChildProcess } from 'node:child_process';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { simpleParser } from 'mailparser';
import { SMTPServer, type SMTPServerSession } from 'smtp-server';
import { freePort } from '../../scripts/stack/embedded-postgres';
import type { TestStack } from './stack';

const root = path.resolve(__dirname, '..', '..');

export interface ReceivedMail {
  messageId: string;
  to: string;
  from: string;
  subject: string;
  text: string;
  html: string;
  headers: Map<string, unknown>;
}

export interface SmtpTestServer {
  port: number;
  url: string;
  /** Every message the server answered 250 to, in order. */
  received: ReceivedMail[];
  /** Addresses answered `550 5.1.1` at RCPT TO. */
  rejected: Set<string>;
  /** Sessions that reached DATA. */
  dataCommands(): number;
  /**
   * Holds the answer to the next DATA until `release()`: the message is in but the client has no
   * 250 yet. A client that goes away meanwhile gets none, and the message is dropped, as a real
   * server must drop a transaction it never acknowledged; `gone` tells when the server saw that.
   */
  holdNextData(): { reached: Promise<void>; gone: Promise<void>; release: () => void };
  /** Stops listening (the SMTP server is down) and drops open connections. */
  stop(): Promise<void>;
  /** Listens again on the same port. */
  start(): Promise<void>;
}

/** A real SMTP server (the `smtp-server` package) in this process, on a port of its own. */
export async function startSmtpServer(options: { port?: number } = {}): Promise<SmtpTestServer> {
  const received: ReceivedMail[] = [];
  const rejected = new Set<string>();
  let data = 0;
  const closers = new Map<string, () => void>();
  let hold: { reached: () => void; gone: () => void; released: Promise<void> } | undefined;
  let server: SMTPServer | undefined;
  let port = options.port ?? 0;

  const build = () =>
    new SMTPServer({
      authOptional: true,
      disabledCommands: ['STARTTLS'],
      logger: false,
      onClose(session) {
        closers.get(session.id)?.();
        closers.delete(session.id);
      },
      onRcptTo(address, _session, callback) {
        if (rejected.has(address.address.toLowerCase())) {
          const error = new Error('5.1.1 mailbox unavailable') as Error & { responseCode: number };
          error.responseCode = 550;
          return callback(error);
        }
        callback();
      },
      onData(stream, session: SMTPServerSession, callback) {
        data += 1;
        const held = hold;
        hold = undefined;
        const socketGone = new Promise<void>((resolve) => closers.set(session.id, resolve));
        void (async () => {
          const parsed = await simpleParser(stream);
          if (held) {
            held.reached();
            const outcome = await Promise.race([held.released.then(() => 'released'), socketGone.then(() => 'gone')]);
            if (outcome === 'gone') return held.gone();
          }
          received.push({
            messageId: parsed.messageId ?? '',
            to: Array.isArray(parsed.to) ? parsed.to.map((to) => to.text).join(', ') : (parsed.to?.text ?? ''),
            from: parsed.from?.text ?? '',
            subject: parsed.subject ?? '',
            text: parsed.text ?? '',
            html: typeof parsed.html === 'string' ? parsed.html : '',
            headers: parsed.headers as Map<string, unknown>,
          });
          callback();
        })().catch((error: Error) => callback(error));
      },
    });

  const listen = async () => {
    server = build();
    await new Promise<void>((resolve, reject) => {
      server!.once('error', reject);
      server!.listen(port, '127.0.0.1', () => resolve());
    });
    port = (server.server.address() as AddressInfo).port;
  };
  await listen();

  return {
    get port() {
      return port;
    },
    get url() {
      return `smtp://127.0.0.1:${port}`;
    },
    received,
    rejected,
    dataCommands: () => data,
    holdNextData() {
      let reached!: () => void;
      let gone!: () => void;
      let release!: () => void;
      const reachedPromise = new Promise<void>((resolve) => (reached = resolve));
      const gonePromise = new Promise<void>((resolve) => (gone = resolve));
      const released = new Promise<void>((resolve) => (release = resolve));
      hold = { reached, gone, released };
      return { reached: reachedPromise, gone: gonePromise, release };
    },
    async stop() {
      const current = server;
      server = undefined;
      if (!current) return;
      // smtp-server waits for open sessions; closing their sockets is what "down" means here.
      for (const connection of (current as unknown as { connections: Set<{ _socket?: { destroy(): void } }> }).connections) {
        connection._socket?.destroy();
      }
      await new Promise<void>((resolve) => current.close(() => resolve()));
    },
    async start() {
      if (!server) await listen();
    },
  };
}

/** Waits until `read()` satisfies `predicate`, polling. */
export async function until<T>(read: () => T | Promise<T>, predicate: (value: T) => boolean, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (predicate(value)) return value;
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms; last value: ${JSON.stringify(value)}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** Mail settings for a stack whose relay should react within a test's patience. */
export const fastMailEnv = (smtp: SmtpTestServer, overrides: Record<string, string> = {}) => ({
  SMTP_URL: smtp.url,
  MAIL_FROM: 'Café Test <pedidos@cafe.test>',
  MAIL_POLL_SECONDS: '1',
  MAIL_RETRY_INITIAL_SECONDS: '1',
  MAIL_RETRY_MAX_SECONDS: '2',
  MAIL_LEASE_SECONDS: '5',
  SMTP_TIMEOUT_MS: '3000',
  ...overrides,
});

export interface MailWorkerProcess {
  child: ChildProcess;
  kill(): Promise<void>;
}

/** workers/main.ts in a process of its own, with its mail relay on `smtp`; ready once it logs "worker running". */
export async function startMailWorkerProcess(stack: TestStack, smtp: SmtpTestServer): Promise<MailWorkerProcess> {
  const child = spawn(process.execPath, ['-r', 'tsx/cjs', 'workers/main.ts'], {
    cwd: root,
    env: {
      ...process.env,
      NODE_ENV: 'test',
      LOG_LEVEL: 'info',
      DATABASE_URL: stack.config.database.url,
      TEMPORAL_ADDRESS: stack.env.address,
      TEMPORAL_TASK_QUEUE: stack.taskQueue,
      MERCADOPAGO_ACCESS_TOKEN: stack.config.mercadopago.accessToken,
      MERCADOPAGO_API_URL: stack.emulator.url,
      PUBLIC_BASE_URL: stack.baseUrl,
      WORKER_METRICS_PORT: String(await freePort()),
      TEMPORAL_METRICS_PORT: String(await freePort()),
      ...fastMailEnv(smtp),
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines: string[] = [];
  child.stderr!.on('data', (chunk: Buffer) => lines.push(chunk.toString()));
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`worker did not start in 120 s\n${lines.join('')}`)), 120_000);
    child.stdout!.on('data', (chunk: Buffer) => {
      if (!chunk.toString().includes('worker running')) return;
      clearTimeout(timer);
      resolve();
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`worker exited with ${code}\n${lines.join('')}`));
    });
  });
  return {
    child,
    async kill() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      child.kill('SIGKILL');
      await exited;
    },
  };
}

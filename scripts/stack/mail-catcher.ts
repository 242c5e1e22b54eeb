import { freePort } from './embedded-postgres';
import { withoutTheirProcessHooks } from './process-hooks';

export interface MailCatcher {
  /** Where the relay sends: nothing that reaches it leaves this machine. */
  smtpUrl: string;
  inboxUrl: string;
  stop(): Promise<void>;
}

/**
 * MailDev (npm `maildev`) for `npm start`: an SMTP server that keeps every message, and a web
 * inbox to read them. Bound to 127.0.0.1 and never relaying, so the embedded stack cannot mail a
 * real address. MailDev is an ES module, hence the dynamic import.
 */
export async function startMailCatcher(options: { mailDirectory: string }): Promise<MailCatcher> {
  const { MailDev } = await import('maildev');
  const smtp = await freePort(1025);
  const web = await freePort(1080);
  const maildev = new MailDev({
    smtp,
    web,
    ip: '127.0.0.1',
    webIp: '127.0.0.1',
    mailDirectory: options.mailDirectory,
    silent: true,
  });
  // MailDev exits the process on SIGINT; npm start stops it in its own order instead.
  await withoutTheirProcessHooks(() => maildev.start());
  return {
    smtpUrl: `smtp://127.0.0.1:${smtp}`,
    inboxUrl: `http://localhost:${web}`,
    stop: () => maildev.stop(),
  };
}

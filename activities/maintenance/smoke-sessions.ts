import { randomBytes } from 'node:crypto';

/** A smoke run's throwaway account: made, used and forgotten on the worker side. */
export interface SmokeCredentials {
  email: string;
  password: string;
  token?: string;
}

// Longer than a smoke run's 15-minute execution timeout: what is older belongs to a run that died.
const DEFAULT_TTL_MS = 60 * 60_000;

/**
 * The credentials of the smoke runs in progress, keyed by run tag, in the memory of the worker
 * that registered the account. They never enter a payload: anything in a workflow's history is
 * readable by whoever can read the history (and decrypted by the codec server for operators).
 * A run whose later steps land on another worker process (a restart mid-run, or several
 * replicas) finds no credentials there and reports that check failed, naming the reason.
 */
export class SmokeSessions {
  private readonly runs = new Map<string, SmokeCredentials & { openedAt: number }>();

  constructor(private readonly ttlMs = DEFAULT_TTL_MS) {}

  /** The run's credentials, made with a fresh random password on first use. */
  open(runTag: string, email: string): SmokeCredentials {
    this.prune();
    const existing = this.runs.get(runTag);
    if (existing) return existing;
    const created = { email, password: randomBytes(24).toString('base64url'), openedAt: Date.now() };
    this.runs.set(runTag, created);
    return created;
  }

  /** The run's credentials; a run this process does not know fails its check with the reason. */
  get(runTag: string): SmokeCredentials {
    const found = this.runs.get(runTag);
    if (found) return found;
    throw new Error(
      `the smoke account of run ${runTag} is not known to this worker process (restarted, or another replica registered it)`,
    );
  }

  signedIn(runTag: string, token: string): void {
    this.get(runTag).token = token;
  }

  /** The run's bearer token, once its login check passed. */
  token(runTag: string): string | undefined {
    return this.get(runTag).token;
  }

  close(runTag: string): void {
    this.runs.delete(runTag);
  }

  private prune(): void {
    const cutoff = Date.now() - this.ttlMs;
    for (const [runTag, run] of this.runs) if (run.openedAt < cutoff) this.runs.delete(runTag);
  }
}

import { randomBytes, scrypt as scryptCallback, timingSafeEqual } from 'node:crypto';
import { AppError } from '../../lib/errors';
import { QueueTimeoutError, Semaphore } from './semaphore';

export interface ScryptParams {
  N: number;
  r: number;
  p: number;
}

/**
 * scrypt from Node's own crypto: memory-hard, no native addon to compile. `cost` is log2 of N;
 * r is 8 and p comes from OWASP's scrypt table, which trades memory for passes at equal strength:
 * N=2^17,p=1 (128 MiB), N=2^16,p=2 (64 MiB), N=2^15,p=3 (32 MiB). The default is N=2^16,p=2:
 * the production API container has 512 MiB, and 64 MiB per hash leaves room for two hashes at
 * once beside a ~200 MiB process, where 128 MiB ones would fit only one. OpenSSL runs the p
 * passes one after another over the same buffer, so p costs time, not memory.
 * Below 15 is outside the table: only tests use it, to stay fast.
 */
export const DEFAULT_HASH_COST = 16;
const OWASP_PASSES: Record<number, number> = { 15: 3, 16: 2 };
export const scryptParams = (cost: number): ScryptParams => ({ N: 2 ** cost, r: 8, p: OWASP_PASSES[cost] ?? 1 });

const KEY_LENGTH = 32;
// 2^20 needs 1 GiB; a stored hash asking for more is not one of ours.
const MAX_N = 2 ** 20;

/** What one hash holds in memory: scrypt's V array of N blocks plus p blocks of 128·r bytes. */
export const hashMemoryBytes = ({ N, r, p }: ScryptParams) => 128 * r * (N + 2 + p);

function scrypt(password: string, salt: Buffer, keyLength: number, params: ScryptParams): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const maxmem = hashMemoryBytes(params) + 2 ** 20;
    scryptCallback(password, salt, keyLength, { ...params, maxmem }, (error, key) => (error ? reject(error) : resolve(key)));
  });
}

export async function hashPassword(password: string, params = scryptParams(DEFAULT_HASH_COST)): Promise<string> {
  const salt = randomBytes(16);
  const key = await scrypt(password, salt, KEY_LENGTH, params);
  return ['scrypt', params.N, params.r, params.p, salt.toString('base64url'), key.toString('base64url')].join('$');
}

/** The parameters a stored hash was made with; undefined when it is not a scrypt hash of ours. */
export function storedParams(stored: string): ScryptParams | undefined {
  const [scheme, n, r, p, salt, key] = stored.split('$');
  if (scheme !== 'scrypt' || !n || !r || !p || !salt || !key) return undefined;
  const params = { N: Number(n), r: Number(r), p: Number(p) };
  const valid = Object.values(params).every((value) => Number.isSafeInteger(value) && value > 0);
  return valid && params.N <= MAX_N ? params : undefined;
}

export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const params = storedParams(stored);
  if (!params) return false;
  const [, , , , salt, key] = stored.split('$') as string[];
  const expected = Buffer.from(key as string, 'base64url');
  // scrypt's shorter outputs are prefixes of its longer ones: a clipped stored key would match more passwords.
  if (expected.length < KEY_LENGTH) return false;
  const actual = await scrypt(password, Buffer.from(salt as string, 'base64url'), expected.length, params);
  return actual.length === expected.length && timingSafeEqual(actual, expected);
}

export interface HasherSettings {
  passwordHashCost: number;
  /** Hashes of the current parameters that may run at once: the memory budget in units of one hash. */
  passwordHashConcurrency: number;
  /** How long a request waits for its turn before it is answered 503 BUSY. */
  passwordHashQueueTimeoutMs: number;
}

/**
 * Every scrypt call of the process goes through one semaphore sized to the memory budget, so a
 * burst of logins queues instead of allocating 64 MiB per request at once. A hash made with
 * other parameters (an older, larger N) takes as many permits as its memory needs.
 */
export function createPasswordHasher(settings: HasherSettings) {
  const params = scryptParams(settings.passwordHashCost);
  const unit = hashMemoryBytes(params);
  const semaphore = new Semaphore(settings.passwordHashConcurrency);
  const retryAfter = String(Math.max(1, Math.ceil(settings.passwordHashQueueTimeoutMs / 1000)));
  let dummyHash: Promise<string> | undefined;

  async function bounded<T>(memoryBytes: number, task: () => Promise<T>): Promise<T> {
    try {
      return await semaphore.run(memoryBytes / unit, settings.passwordHashQueueTimeoutMs, task);
    } catch (error) {
      if (!(error instanceof QueueTimeoutError)) throw error;
      throw new AppError(503, 'BUSY', 'Too many sign-ins at once; try again in a moment', undefined, {
        'Retry-After': retryAfter,
      });
    }
  }

  const hash = (password: string) => bounded(unit, () => hashPassword(password, params));

  async function verify(password: string, stored: string): Promise<boolean> {
    const storedWith = storedParams(stored);
    if (!storedWith) return false;
    return bounded(hashMemoryBytes(storedWith), () => verifyPassword(password, stored));
  }

  return {
    params,
    hash,
    verify,

    /**
     * Verifying against a fixed hash when the account does not exist keeps response times (and
     * the queue) alike, so neither tells an attacker which emails are registered.
     */
    async verifyUnknownAccount(password: string): Promise<false> {
      dummyHash ??= hash('not-a-real-password').catch((error) => {
        dummyHash = undefined;
        throw error;
      });
      await verify(password, await dummyHash);
      return false;
    },

    /** A hash made with other parameters than the current ones, to be replaced at the next login. */
    isOutdated(stored: string): boolean {
      const storedWith = storedParams(stored);
      return !storedWith || storedWith.N !== params.N || storedWith.r !== params.r || storedWith.p !== params.p;
    },

    load: () => ({ inUse: semaphore.inUse, queued: semaphore.queued }),
  };
}

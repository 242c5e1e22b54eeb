/**
 * A weighted FIFO semaphore: a task waits until `weight` permits are free, or gives up after
 * `timeoutMs`. First come, first served: a heavy task at the head is not starved by light ones
 * slipping past it.
 */
export class QueueTimeoutError extends Error {
  constructor(readonly waitedMs: number) {
    super(`no permit within ${waitedMs} ms`);
    this.name = 'QueueTimeoutError';
  }
}

interface Waiter {
  weight: number;
  grant: () => void;
}

export class Semaphore {
  private available: number;
  private readonly waiters: Waiter[] = [];

  constructor(readonly capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new Error('a semaphore needs at least one permit');
    this.available = capacity;
  }

  /** Tasks waiting for permits now. */
  get queued(): number {
    return this.waiters.length;
  }

  /** Permits in use now. */
  get inUse(): number {
    return this.capacity - this.available;
  }

  async run<T>(weight: number, timeoutMs: number, task: () => Promise<T>): Promise<T> {
    // A task heavier than the whole budget still runs, alone.
    const permits = Math.min(Math.max(1, Math.ceil(weight)), this.capacity);
    await this.acquire(permits, timeoutMs);
    try {
      return await task();
    } finally {
      this.available += permits;
      this.wake();
    }
  }

  private acquire(permits: number, timeoutMs: number): Promise<void> {
    if (this.waiters.length === 0 && this.available >= permits) {
      this.available -= permits;
      return Promise.resolve();
    }
    return new Promise<void>((resolve, reject) => {
      const waiter: Waiter = {
        weight: permits,
        grant: () => {
          clearTimeout(timer);
          resolve();
        },
      };
      const timer = setTimeout(() => {
        this.waiters.splice(this.waiters.indexOf(waiter), 1);
        reject(new QueueTimeoutError(timeoutMs));
        // The head may have been the one blocking lighter waiters behind it.
        this.wake();
      }, timeoutMs);
      this.waiters.push(waiter);
    });
  }

  private wake(): void {
    while (this.waiters.length > 0 && this.available >= this.waiters[0]!.weight) {
      const next = this.waiters.shift()!;
      this.available -= next.weight;
      next.grant();
    }
  }
}

import type { Db } from '../db/knex';

interface Waiter {
  status: string;
  deadline: number;
  resolve: () => void;
  reject: (error: Error) => void;
}

/** One query for every order being waited on, instead of one poll per order. */
export class StatusWatcher {
  private readonly waiting = new Map<string, Waiter>();
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly db: Db) {}

  /** Resolves when the read model shows `status`; rejects once `deadline` (epoch ms) has passed. */
  until(orderId: string, status: string, deadline: number): Promise<void> {
    return new Promise((resolve, reject) => {
      this.waiting.set(orderId, { status, deadline, resolve, reject });
      this.timer ??= setTimeout(() => void this.poll(), 100);
    });
  }

  private async poll(): Promise<void> {
    const rows: { id: string; status: string }[] = await this.db('orders')
      .whereIn('id', [...this.waiting.keys()])
      .select('id', 'status')
      .catch(() => []);
    const now = Date.now();
    for (const row of rows) {
      const waiter = this.waiting.get(row.id);
      if (waiter?.status === row.status) {
        this.waiting.delete(row.id);
        waiter.resolve();
      }
    }
    for (const [orderId, waiter] of this.waiting) {
      if (now <= waiter.deadline) continue;
      this.waiting.delete(orderId);
      waiter.reject(new Error(`order ${orderId} did not become ${waiter.status} in time`));
    }
    this.timer = this.waiting.size > 0 ? setTimeout(() => void this.poll(), 100) : undefined;
  }
}

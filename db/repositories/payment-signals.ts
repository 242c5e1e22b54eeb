import type { Executor } from '../knex';

/** The fingerprint of what the order workflow was last signalled about this payment, if any. */
export async function lastSignalled(db: Executor, paymentId: string): Promise<string | undefined> {
  const row = await db('paymentSignals').where({ paymentId }).first('fingerprint');
  return row?.fingerprint;
}

/** Records a signal the server accepted; a later different status overwrites it. */
export async function recordSignalled(db: Executor, signal: { paymentId: string; orderId: string; fingerprint: string }) {
  await db('paymentSignals')
    .insert(signal)
    .onConflict('paymentId')
    .merge({ orderId: signal.orderId, fingerprint: signal.fingerprint, signalledAt: db.fn.now() });
}

import { ApplicationFailure } from '@temporalio/activity';
import { PaymentFailure } from '../../workflows/payments/contracts';
import { isMercadoPagoApiError } from './mercadopago-client';

export { PaymentFailure };

/**
 * Provider errors: 4xx (other than 408/429) will not get better by retrying, so they become
 * non-retryable failures with a type; everything else is rethrown for Temporal to retry.
 */
function asActivityFailure(error: unknown): unknown {
  if (isMercadoPagoApiError(error) && !error.retryable) {
    return ApplicationFailure.nonRetryable(`MercadoPago refused the request: ${error.message}`, PaymentFailure.ProviderRejected, {
      status: error.status ?? null,
      error: error.mpError ?? null,
    });
  }
  return error;
}

/** Runs a provider call from an activity, its errors turned into what Temporal should do with them. */
export async function callProvider<T>(call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    throw asActivityFailure(error);
  }
}

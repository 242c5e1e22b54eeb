import { registerUser, type TestUser } from './fixtures';
import { httpClient, type HttpClient } from './http';
import { openCafe, type Cafe } from './orders';
import { startStack, type StackOptions, type TestStack } from './stack';

export interface OrderStackOptions extends StackOptions {
  /** Open a café (owner and menu) before the tests; on unless false. */
  cafe?: boolean;
  /** Register a customer before the tests; on unless false. */
  customer?: boolean;
}

export interface OrderStack<S = TestStack> {
  readonly stack: S;
  readonly api: HttpClient;
  readonly cafe: Cafe;
  readonly customer: TestUser;
}

/**
 * The suite's stack (startStack), a client of its API, and, unless turned off, a café and a
 * customer, started in mocha's `before` and stopped in its `after`. Read them through the returned
 * getters inside tests and hooks: they exist only once `before` has run.
 */
export function useOrderStack(options: OrderStackOptions): OrderStack {
  const { cafe, customer, ...stackOptions } = options;
  return useCafeStack(() => startStack(stackOptions), { cafe, customer });
}

/**
 * The same for any stack with an API (the chaos suite's dedicated stack): `start` runs in `before`
 * (given `timeoutMs` when it is slow), `stop` in `after`.
 */
export function useCafeStack<S extends { baseUrl: string; stop(): Promise<void> }>(
  start: () => Promise<S>,
  options: { cafe?: boolean; customer?: boolean; timeoutMs?: { start?: number; stop?: number } } = {},
): OrderStack<S> {
  const { cafe: withCafe = true, customer: withCustomer = true, timeoutMs = {} } = options;
  let stack: S | undefined;
  let api: HttpClient | undefined;
  let cafe: Cafe | undefined;
  let customer: TestUser | undefined;

  before(async function () {
    if (timeoutMs.start) this.timeout(timeoutMs.start);
    stack = await start();
    api = httpClient(stack.baseUrl);
    if (withCafe) cafe = await openCafe(api);
    if (withCustomer) customer = await registerUser(api);
  });
  after(async function () {
    if (timeoutMs.stop) this.timeout(timeoutMs.stop);
    await stack?.stop();
  });

  const ready = <T>(value: T | undefined, what: string): T => {
    if (value === undefined) {
      throw new Error(`useOrderStack: no ${what} here (read it inside a test or hook, and do not turn it off)`);
    }
    return value;
  };
  return {
    get stack() {
      return ready(stack, 'stack');
    },
    get api() {
      return ready(api, 'API client');
    },
    get cafe() {
      return ready(cafe, 'café');
    },
    get customer() {
      return ready(customer, 'customer');
    },
  };
}

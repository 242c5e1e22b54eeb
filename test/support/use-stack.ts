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

export interface OrderStack {
  readonly stack: TestStack;
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
  const { cafe: withCafe = true, customer: withCustomer = true, ...stackOptions } = options;
  let stack: TestStack | undefined;
  let api: HttpClient | undefined;
  let cafe: Cafe | undefined;
  let customer: TestUser | undefined;

  before(async () => {
    stack = await startStack(stackOptions);
    api = httpClient(stack.baseUrl);
    if (withCafe) cafe = await openCafe(api);
    if (withCustomer) customer = await registerUser(api);
  });
  after(() => stack?.stop());

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

/**
 * The demo café, created through the public API as a client app would. Safe to run on every
 * start: an existing demo owner and café are reused.
 */
export const DEMO_OWNER = { email: 'owner@demo.cafe-flow.local', password: 'demo-owner-password', name: 'Demo Owner' };
export const DEMO_CUSTOMER = {
  email: 'customer@demo.cafe-flow.local',
  password: 'demo-customer-password',
  name: 'Demo Customer',
};
const DEMO_CAFE = { name: 'Café Demo', currency: 'ARS', timeZone: 'America/Argentina/Buenos_Aires' };
const MENU = [
  { name: 'Espresso', category: 'Coffee', priceMinor: 1800 },
  { name: 'Cortado', category: 'Coffee', priceMinor: 2200 },
  { name: 'Café con leche', category: 'Coffee', priceMinor: 2600 },
  { name: 'Medialuna', category: 'Bakery', priceMinor: 900 },
  { name: 'Tostado de jamón y queso', category: 'Food', priceMinor: 5200 },
];

async function call(baseUrl: string, method: string, path: string, body?: unknown, token?: string) {
  const response = await fetch(`${baseUrl}${path}`, {
    method,
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: response.status, body: (await response.json().catch(() => undefined)) as any };
}

async function signIn(baseUrl: string, account: typeof DEMO_OWNER): Promise<string> {
  const login = await call(baseUrl, 'POST', '/v1/auth/login', { email: account.email, password: account.password });
  if (login.status === 200) return login.body.accessToken;
  const registered = await call(baseUrl, 'POST', '/v1/auth/register', account);
  if (registered.status !== 201) throw new Error(`could not create ${account.email}: ${JSON.stringify(registered.body)}`);
  return registered.body.accessToken;
}

export async function seedDemo(baseUrl: string) {
  const ownerToken = await signIn(baseUrl, DEMO_OWNER);
  const customerToken = await signIn(baseUrl, DEMO_CUSTOMER);
  const mine = await call(baseUrl, 'GET', '/v1/businesses', undefined, ownerToken);
  let cafe = mine.body.data.find((business: { name: string }) => business.name === DEMO_CAFE.name);
  if (!cafe) {
    cafe = (await call(baseUrl, 'POST', '/v1/businesses', DEMO_CAFE, ownerToken)).body;
    for (const product of MENU) await call(baseUrl, 'POST', `/v1/businesses/${cafe.id}/products`, product, ownerToken);
  }
  const menu = await call(baseUrl, 'GET', `/v1/businesses/${cafe.id}/products`, undefined, ownerToken);
  return {
    cafeId: cafe.id as string,
    ownerToken,
    customerToken,
    menu: menu.body.data as { id: string; name: string; priceMinor: number }[],
  };
}

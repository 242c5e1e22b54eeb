import { createAuthService } from '../../api/auth/auth-service';
import { createBusinessesService } from '../../api/businesses/businesses-service';
import { createProductsService } from '../../api/products/products-service';
import type { Db } from '../../db/knex';
import type { Config } from '../../lib/config';
import type { Logger } from '../../lib/logger';
import { createMetrics } from '../../lib/metrics';

/**
 * The demo café, created through the services, not the public API: a login would meet the login
 * throttle (a few wrong passwords from localhost, and the next `npm start` could not sign in), and
 * a registration would meet the existing account. Safe to run on every start: the demo accounts,
 * the café and each menu item are created only when missing.
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

export interface DemoSeed {
  cafeId: string;
  ownerToken: string;
  customerToken: string;
  menu: { id: string; name: string; priceMinor: number }[];
}

export async function seedDemo(deps: { db: Db; config: Config; logger: Logger }): Promise<DemoSeed> {
  const { db, config, logger } = deps;
  const auth = createAuthService({ db, settings: config.auth, logger, metrics: createMetrics({ defaultMetrics: false }) });
  const businesses = createBusinessesService({ db });
  const products = createProductsService({ db });

  const owner = await auth.provisionAccount(DEMO_OWNER);
  const customer = await auth.provisionAccount(DEMO_CUSTOMER);
  const mine = await businesses.listMine(owner.user.id);
  const cafe = mine.find((business) => business.name === DEMO_CAFE.name) ?? (await businesses.create(owner.user.id, DEMO_CAFE));
  // Item by item, so a seed interrupted halfway through the menu is completed by the next one.
  const existing = new Set((await products.list(cafe.id, {})).map((product) => product.name));
  for (const product of MENU.filter((item) => !existing.has(item.name))) {
    await products.create(owner.user.id, cafe.id, product);
  }
  const menu = await products.list(cafe.id, {});
  return {
    cafeId: cafe.id,
    ownerToken: owner.accessToken,
    customerToken: customer.accessToken,
    menu: menu.map(({ id, name, priceMinor }) => ({ id, name, priceMinor })),
  };
}

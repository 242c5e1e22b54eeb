import type { Context, DefaultState } from 'koa';
import type { Logger } from '../../lib/logger';

export interface AuthenticatedUser {
  userId: string;
  email: string;
}

export interface AppState extends DefaultState {
  requestId: string;
  log: Logger;
  user?: AuthenticatedUser;
  businessId?: string;
}

export type AppContext = Context & { state: AppState };

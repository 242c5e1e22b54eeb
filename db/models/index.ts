import { Model } from 'objection';

/** Base for every model: timestamps are maintained here, not by callers. */
export class BaseModel extends Model {
  createdAt?: Date;
  updatedAt?: Date;

  override $beforeUpdate(): void {
    this.updatedAt = new Date();
  }
}

export class UserModel extends BaseModel {
  static override tableName = 'users';
  id!: string;
  email!: string;
  name!: string;
  passwordHash!: string;
}

export class RefreshTokenModel extends Model {
  static override tableName = 'refresh_tokens';
  id!: string;
  userId!: string;
  familyId!: string;
  tokenHash!: string;
  expiresAt!: Date;
  usedAt!: Date | null;
  revokedAt!: Date | null;
  createdAt!: Date;
}

export class BusinessModel extends BaseModel {
  static override tableName = 'businesses';
  id!: string;
  name!: string;
  currency!: string;
  timeZone!: string;
  paymentTimeoutSeconds!: number | null;
  /** The language of its customers' emails and its staff board (es, pt-BR, en). */
  locale!: string;
}

export class MembershipModel extends BaseModel {
  static override tableName = 'memberships';
  static override idColumn = ['businessId', 'userId'];
  businessId!: string;
  userId!: string;
  role!: 'owner' | 'manager' | 'staff';
}

export class ProductModel extends BaseModel {
  static override tableName = 'products';
  id!: string;
  businessId!: string;
  name!: string;
  description!: string | null;
  category!: string | null;
  priceMinor!: number;
  available!: boolean;
  deletedAt!: Date | null;
}

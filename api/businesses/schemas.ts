import { z } from 'zod';

const isTimeZone = (value: string) => {
  try {
    new Intl.DateTimeFormat('en', { timeZone: value });
    return true;
  } catch {
    return false;
  }
};

// ISO 4217 codes Intl knows; an unknown code is refused rather than stored.
const knownCurrencies = new Set(Intl.supportedValuesOf('currency'));

export const BusinessIdParams = z.object({ businessId: z.uuid() });

export const BusinessInputSchema = z
  .object({
    name: z.string().trim().min(1).max(120),
    currency: z
      .string()
      .regex(/^[A-Z]{3}$/, 'An ISO 4217 code in capitals, e.g. ARS')
      .refine((code) => knownCurrencies.has(code), 'Unknown ISO 4217 currency'),
    timeZone: z.string().refine(isTimeZone, 'An IANA time zone, e.g. America/Argentina/Buenos_Aires'),
    paymentTimeoutSeconds: z
      .number()
      .int()
      .min(60)
      .max(24 * 3600)
      .nullable()
      .optional(),
  })
  .strict()
  .meta({ id: 'BusinessInput' });

export const BusinessPatchSchema = BusinessInputSchema.partial()
  .strict()
  .refine((value) => Object.keys(value).length > 0, 'Send at least one field to change')
  .meta({ id: 'BusinessPatch' });

export const BusinessSchema = z
  .object({
    id: z.uuid(),
    name: z.string(),
    currency: z.string(),
    timeZone: z.string(),
    paymentTimeoutSeconds: z.number().int().nullable(),
    role: z.enum(['owner', 'manager', 'staff']).nullable(),
    createdAt: z.string(),
    updatedAt: z.string(),
  })
  .meta({ id: 'Business' });

export const MemberInputSchema = z
  .object({ email: z.email().max(254), role: z.enum(['manager', 'staff']) })
  .strict()
  .meta({ id: 'MemberInput' });

export const MemberSchema = z
  .object({ userId: z.uuid(), email: z.string(), name: z.string(), role: z.enum(['owner', 'manager', 'staff']) })
  .meta({ id: 'Member' });

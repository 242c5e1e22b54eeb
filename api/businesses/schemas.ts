import { z } from 'zod';
import { SUPPORTED_CURRENCIES } from '../../lib/currencies';
import { MAIL_LOCALES } from '../../activities/mail/messages';

const isTimeZone = (value: string) => {
  try {
    new Intl.DateTimeFormat('en', { timeZone: value });
    return true;
  } catch {
    return false;
  }
};

export const BusinessIdParams = z.object({ businessId: z.uuid() });

export const BusinessInputSchema = z
  .object({
    name: z.string().trim().min(1).max(120),
    // The format is checked here (400); whether MercadoPago settles it is the service's 422 UNSUPPORTED_CURRENCY.
    currency: z
      .string()
      .regex(/^[A-Z]{3}$/, 'An ISO 4217 code in capitals, e.g. ARS')
      .meta({ description: `One of ${SUPPORTED_CURRENCIES.join(', ')}; any other code is 422 UNSUPPORTED_CURRENCY` }),
    timeZone: z.string().refine(isTimeZone, 'An IANA time zone, e.g. America/Argentina/Buenos_Aires'),
    paymentTimeoutSeconds: z
      .number()
      .int()
      .min(60)
      .max(24 * 3600)
      .nullable()
      .optional(),
    locale: z
      .enum(MAIL_LOCALES)
      .optional()
      .meta({ description: "Language of the customers' emails and of the staff board; es when not given" }),
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
    currencyExponent: z.number().int().nullable().meta({
      description:
        'Decimals of `currency`: amounts are integer minor units, e.g. 250000 ARS (2) is 2500.00, 5000 CLP (0) is 5000',
    }),
    timeZone: z.string(),
    paymentTimeoutSeconds: z.number().int().nullable(),
    locale: z.enum(MAIL_LOCALES).meta({ description: "Language of the customers' emails and of the staff board" }),
    role: z.enum(['owner', 'manager', 'staff']).nullable(),
    createdAt: z.string(),
    updatedAt: z.string(),
  })
  .meta({ id: 'Business' });

const InvitedRole = z.enum(['manager', 'staff']);

export const InvitationInputSchema = z
  .object({ email: z.email().max(254), role: InvitedRole })
  .strict()
  .meta({ id: 'InvitationInput' });

export const InvitationParams = BusinessIdParams.extend({ invitationId: z.uuid() });

export const InvitationSchema = z
  .object({
    id: z.uuid(),
    businessId: z.uuid(),
    email: z.string(),
    role: InvitedRole,
    status: z.enum(['pending', 'accepted', 'revoked', 'expired']),
    expiresAt: z.string(),
    createdAt: z.string(),
  })
  .meta({ id: 'Invitation' });

export const CreatedInvitationSchema = InvitationSchema.extend({
  token: z.string().meta({
    description: 'Shown only in this answer (only its hash is stored): pass it to the invitee, who accepts with it',
  }),
}).meta({ id: 'CreatedInvitation' });

export const MyInvitationSchema = InvitationSchema.extend({ businessName: z.string() }).meta({ id: 'MyInvitation' });

export const AcceptInvitationSchema = z
  .object({ token: z.string().min(1).max(200) })
  .strict()
  .meta({ id: 'AcceptInvitationInput' });

export const MemberSchema = z
  .object({ userId: z.uuid(), email: z.string(), name: z.string(), role: z.enum(['owner', 'manager', 'staff']) })
  .meta({ id: 'Member' });

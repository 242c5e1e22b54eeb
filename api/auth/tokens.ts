import { createHash, randomBytes } from 'node:crypto';
import { SignJWT, jwtVerify, errors as joseErrors } from 'jose';
import { AppError } from '../../lib/errors';

const ISSUER = 'cafe-flow';
const AUDIENCE = 'cafe-flow-api';

export interface AccessClaims {
  userId: string;
  email: string;
}

export class AccessTokens {
  private readonly key: Uint8Array;

  constructor(
    secret: string,
    private readonly ttlSeconds: number,
  ) {
    this.key = new TextEncoder().encode(secret);
  }

  async sign(claims: AccessClaims): Promise<{ token: string; expiresIn: number }> {
    const token = await new SignJWT({ email: claims.email })
      .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
      .setSubject(claims.userId)
      .setIssuer(ISSUER)
      .setAudience(AUDIENCE)
      .setIssuedAt()
      .setExpirationTime(`${this.ttlSeconds}s`)
      .sign(this.key);
    return { token, expiresIn: this.ttlSeconds };
  }

  async verify(token: string): Promise<AccessClaims> {
    try {
      // Pinning the algorithm refuses `none` and any asymmetric-key confusion.
      const { payload } = await jwtVerify(token, this.key, {
        algorithms: ['HS256'],
        issuer: ISSUER,
        audience: AUDIENCE,
        // A token without `exp` would never expire; we never sign one, so none is accepted.
        requiredClaims: ['exp', 'sub'],
      });
      if (typeof payload.sub !== 'string' || typeof payload.email !== 'string') {
        throw new AppError(401, 'INVALID_TOKEN', 'Access token is invalid');
      }
      return { userId: payload.sub, email: payload.email };
    } catch (error) {
      if (error instanceof joseErrors.JWTExpired) {
        throw new AppError(401, 'TOKEN_EXPIRED', 'Access token has expired');
      }
      if (error instanceof AppError) throw error;
      throw new AppError(401, 'INVALID_TOKEN', 'Access token is invalid');
    }
  }
}

/** Refresh tokens are opaque random strings; only their SHA-256 is stored. */
export function newRefreshToken(): { token: string; hash: string } {
  const token = randomBytes(32).toString('base64url');
  return { token, hash: hashRefreshToken(token) };
}

export function hashRefreshToken(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

import { Inject, Injectable } from '@nestjs/common';
import { JwtService } from '@nestjs/jwt';
import { APP_CONFIG, type AppConfig } from '@gg/config';
import {
  ACCESS_TOKEN_AUDIENCE,
  ACCESS_TOKEN_ISSUER,
  authUserFromClaims,
  CLOCK_SKEW_SECONDS,
  type AuthUser,
} from './auth-user';

/** The options every access token check uses: HS256 only, our issuer and audience, `iat` required and recent. */
export function accessTokenVerifyOptions(config: Pick<AppConfig, 'jwtSecret' | 'accessTokenTtlSeconds'>) {
  return {
    secret: config.jwtSecret,
    algorithms: ['HS256' as const],
    issuer: ACCESS_TOKEN_ISSUER,
    audience: ACCESS_TOKEN_AUDIENCE,
    // jsonwebtoken refuses a token without `iat` when maxAge is set, and one issued longer ago than this
    maxAge: `${config.accessTokenTtlSeconds + CLOCK_SKEW_SECONDS}s`,
    clockTolerance: 0,
  };
}

/** Checks an access token outside the passport guard (logout with only the bearer token, the API docs). */
@Injectable()
export class AccessTokens {
  private readonly jwt = new JwtService();

  constructor(@Inject(APP_CONFIG) private readonly config: AppConfig) {}

  /** The user of a valid token, or null (bad signature, claims, expired). */
  verify(token: string | undefined): AuthUser | null {
    if (!token) return null;
    try {
      const claims = this.jwt.verify<object>(token, accessTokenVerifyOptions(this.config));
      return authUserFromClaims(claims, this.config.accessTokenTtlSeconds);
    } catch {
      return null;
    }
  }

  /** The bearer token of `Authorization`, if any. */
  static bearer(header: string | undefined): string | undefined {
    const m = /^Bearer\s+(\S+)\s*$/i.exec(header ?? '');
    return m?.[1];
  }
}

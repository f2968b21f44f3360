import { Inject, Injectable, UnauthorizedException } from '@nestjs/common';
import { PassportStrategy } from '@nestjs/passport';
import { APP_CONFIG, type AppConfig } from '@gg/config';
import { ExtractJwt, Strategy } from 'passport-jwt';
import { accessTokenVerifyOptions } from './access-token';
import { authUserFromClaims, type AuthUser } from './auth-user';

/**
 * Access tokens from `Authorization: Bearer` only (never from a URL): HS256 only (no `none`, no algorithm
 * confusion), our issuer and audience, `exp`, `iat` and `sid` required, not expired, no older than the access
 * token lifetime. Whether the session is still live is SessionGuard's question.
 */
@Injectable()
export class JwtStrategy extends PassportStrategy(Strategy, 'jwt') {
  private readonly maxLifetime: number;

  constructor(@Inject(APP_CONFIG) config: AppConfig) {
    const { secret, algorithms, issuer, audience, maxAge } = accessTokenVerifyOptions(config);
    super({
      jwtFromRequest: ExtractJwt.fromAuthHeaderAsBearerToken(),
      secretOrKey: secret,
      algorithms,
      issuer,
      audience,
      ignoreExpiration: false,
      jsonWebTokenOptions: { maxAge },
    });
    this.maxLifetime = config.accessTokenTtlSeconds;
  }

  validate(claims: unknown): AuthUser {
    const user = authUserFromClaims(claims, this.maxLifetime);
    if (!user) throw new UnauthorizedException('missing or invalid access token');
    return user;
  }
}

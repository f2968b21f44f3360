import { Inject, Injectable, UnauthorizedException } from '@nestjs/common';
import { PassportStrategy } from '@nestjs/passport';
import { APP_CONFIG, type AppConfig } from '@gg/config';
import { ExtractJwt, Strategy } from 'passport-jwt';
import { ACCESS_TOKEN_AUDIENCE, ACCESS_TOKEN_ISSUER, authUserFromClaims, type AuthUser } from './auth-user';

/**
 * Access tokens from `Authorization: Bearer`: HS256 only (no `none`, no algorithm confusion), our issuer and
 * audience, not expired. (`?access_token=` on the log stream is moved into the header by `streamTokenFromQuery`.)
 */
@Injectable()
export class JwtStrategy extends PassportStrategy(Strategy, 'jwt') {
  constructor(@Inject(APP_CONFIG) config: AppConfig) {
    super({
      jwtFromRequest: ExtractJwt.fromAuthHeaderAsBearerToken(),
      secretOrKey: config.jwtSecret,
      algorithms: ['HS256'],
      issuer: ACCESS_TOKEN_ISSUER,
      audience: ACCESS_TOKEN_AUDIENCE,
      ignoreExpiration: false,
    });
  }

  validate(claims: unknown): AuthUser {
    const user = authUserFromClaims(claims);
    if (!user) throw new UnauthorizedException('missing or invalid access token');
    return user;
  }
}

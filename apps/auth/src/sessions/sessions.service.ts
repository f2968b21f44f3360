import { Inject, Injectable, Logger } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { JwtService } from '@nestjs/jwt';
import { APP_CONFIG, type AppConfig } from '@gg/config';
import { JWT_AUDIENCE, JWT_ISSUER, type SessionTokens } from '@gg/contracts';
import { DB_MANAGER, type DbManager, type UserRow } from '@gg/db';
import { DomainError, KeyedMutex } from '@gg/nest-common';
import { PasswordService } from '../common/password.service';
import { LoginThrottleService } from './login-throttle.service';
import { RefreshTokenStore, refreshTokenHash } from './refresh-token.store';

/** `iss`/`aud` of the access tokens: one definition in `@gg/contracts` (the admin checks the same). */
export { JWT_AUDIENCE, JWT_ISSUER };

/** Claims of the admin access token. */
export interface AccessClaims {
  sub: string;
  username: string;
  role: UserRow['role'];
  /** the user's tokenVersion when the token was issued */
  tv: number;
  /** the session (refresh-token family) the token belongs to; ending the session refuses the token */
  sid: string;
}

const BAD_CREDENTIALS = 'invalid username or password';
const BAD_REFRESH = 'invalid or expired refresh token; please log in again';

/** Login, refresh (rotating, with reuse detection) and logout. */
@Injectable()
export class SessionsService {
  private readonly logger = new Logger(SessionsService.name);
  /** refreshes of one token run one at a time, so a token is never rotated twice */
  private readonly mutex = new KeyedMutex();

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(DB_MANAGER) private readonly db: DbManager,
    private readonly jwt: JwtService,
    private readonly passwords: PasswordService,
    private readonly refreshTokens: RefreshTokenStore,
    private readonly throttle: LoginThrottleService,
  ) {}

  /**
   * Unknown user, inactive user and wrong password all answer the same UNAUTHORIZED. While the username+IP or
   * the IP has failed too often, TOO_MANY_REQUESTS comes first, before any password is checked.
   */
  async login(username: string, password: string, ip?: string): Promise<SessionTokens> {
    await this.throttle.assertAllowed(username, ip);
    const user = await this.db.users.findByUsername(username);
    const ok = await this.passwords.verify(password, user?.passwordHash ?? null);
    if (!user || !ok || !user.isActive) {
      await this.throttle.recordFailure(username, ip);
      this.logger.warn({ ip }, 'failed login');
      throw DomainError.unauthorized(BAD_CREDENTIALS);
    }
    await this.throttle.recordSuccess(username, ip);
    this.logger.log({ userId: user.id, ip }, 'login');
    return this.issue(user);
  }

  refresh(refreshToken: string, ip?: string): Promise<SessionTokens> {
    return this.mutex.run(refreshTokenHash(refreshToken), async () => {
      const record = await this.refreshTokens.find(refreshToken);
      if (!record) throw DomainError.unauthorized(BAD_REFRESH);
      if (await this.refreshTokens.isFamilyRevoked(record.family)) throw DomainError.unauthorized(BAD_REFRESH);
      if (record.used) {
        await this.refreshTokens.revokeFamily(record.family);
        this.logger.warn({ userId: record.userId, ip }, 'refresh token reused: session family revoked');
        throw DomainError.unauthorized(BAD_REFRESH);
      }
      await this.refreshTokens.markUsed(refreshToken, record);
      const user = await this.db.users.findById(record.userId);
      if (!user || !user.isActive || user.tokenVersion !== record.tokenVersion) {
        throw DomainError.unauthorized(BAD_REFRESH);
      }
      return this.issue(user, record.family);
    });
  }

  /**
   * Ends the session: the refresh token's family (a copy rotated elsewhere dies too) and the session its access
   * tokens name, given by `sessionId` (from a verified caller proof) when the refresh token is missing.
   */
  async logout(refreshToken?: string, sessionId?: string): Promise<null> {
    if (sessionId) await this.refreshTokens.revokeFamily(sessionId);
    if (!refreshToken) return null;
    const record = await this.refreshTokens.find(refreshToken);
    if (record) await this.refreshTokens.revokeFamily(record.family);
    await this.refreshTokens.delete(refreshToken);
    return null;
  }

  private async issue(user: UserRow, family: string = randomUUID()): Promise<SessionTokens> {
    const claims: AccessClaims = {
      sub: user.id,
      username: user.username,
      role: user.role,
      tv: user.tokenVersion,
      sid: family,
    };
    const accessToken = await this.jwt.signAsync(claims, {
      algorithm: 'HS256',
      issuer: JWT_ISSUER,
      audience: JWT_AUDIENCE,
      expiresIn: this.config.accessTokenTtlSeconds,
    });
    const refresh = await this.refreshTokens.issue(user.id, user.tokenVersion, family);
    return {
      accessToken,
      expiresIn: this.config.accessTokenTtlSeconds,
      refreshToken: refresh.token,
      refreshExpiresIn: refresh.expiresIn,
    };
  }
}

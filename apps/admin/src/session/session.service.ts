import { Inject, Injectable, Logger } from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '@gg/config';
import {
  AuthPattern,
  ErrorCode,
  type LoginRequest,
  type LoginResult,
  type LogoutRequest,
  type RefreshRequest,
  type SessionTokens,
} from '@gg/contracts';
import { DomainError, RpcClient } from '@gg/nest-common';
import type { Request, Response } from 'express';
import { AccessTokens } from '../security/access-token';
import { CallerRpc } from '../security/caller-rpc';
import { SessionLiveness } from '../security/session-liveness.service';
import { clearRefreshCookie, cookieIsSecure, readRefreshCookie, setRefreshCookie } from './refresh-cookie';
import type { LoginDto } from './session.dto';

/** Answers of auth to a refresh that mean "this session is over": the cookie is cleared, the answer is 401. */
const SESSION_OVER: readonly ErrorCode[] = [
  ErrorCode.Unauthorized,
  ErrorCode.BadRequest,
  ErrorCode.NotFound,
  ErrorCode.Forbidden,
];

/** Login, refresh and logout: auth issues the tokens, this turns them into the API answer and the cookie. */
@Injectable()
export class SessionService {
  private readonly logger = new Logger(SessionService.name);

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly rpc: RpcClient,
    private readonly callerRpc: CallerRpc,
    private readonly tokens: AccessTokens,
    private readonly liveness: SessionLiveness,
  ) {}

  async login(body: LoginDto, req: Request, res: Response): Promise<LoginResult> {
    const request: LoginRequest = { username: body.username, password: body.password, ip: req.ip };
    return this.issue(await this.rpc.send<SessionTokens>(AuthPattern.Login, request), req, res);
  }

  async refresh(req: Request, res: Response): Promise<LoginResult> {
    const refreshToken = readRefreshCookie(req);
    if (!refreshToken) {
      clearRefreshCookie(res, this.secure(req));
      throw DomainError.unauthorized('no session: log in again');
    }
    const request: RefreshRequest = { refreshToken, ip: req.ip };
    try {
      return this.issue(await this.rpc.send<SessionTokens>(AuthPattern.Refresh, request), req, res);
    } catch (e) {
      if (e instanceof DomainError && SESSION_OVER.includes(e.code)) {
        clearRefreshCookie(res, this.secure(req));
        throw DomainError.unauthorized('session expired or revoked: log in again');
      }
      throw e;
    }
  }

  /**
   * Ends the session in this browser and at auth: the refresh cookie's session, and the session of the bearer
   * access token when one is sent (so a logout without the cookie still ends it). 503 when auth cannot be told.
   */
  async logout(req: Request, res: Response): Promise<void> {
    const refreshToken = readRefreshCookie(req);
    const user = this.tokens.verify(AccessTokens.bearer(req.headers.authorization));
    clearRefreshCookie(res, this.secure(req));
    if (!refreshToken && !user) return;
    const request: Omit<LogoutRequest, 'proof'> = refreshToken ? { refreshToken } : {};
    if (user) this.liveness.forget(user.sessionId);
    try {
      if (user) await this.callerRpc.send<unknown>(user, AuthPattern.Logout, request);
      else await this.rpc.send<unknown>(AuthPattern.Logout, request);
    } catch (e) {
      this.logger.warn({ code: (e as DomainError).code }, 'auth could not end the session at logout');
      if (e instanceof DomainError && e.code === ErrorCode.Unavailable) throw e;
    }
  }

  private issue(tokens: SessionTokens, req: Request, res: Response): LoginResult {
    setRefreshCookie(res, this.secure(req), tokens.refreshToken, tokens.refreshExpiresIn);
    res.setHeader('Cache-Control', 'no-store');
    return { access_token: tokens.accessToken, token_type: 'bearer', expires_in: tokens.expiresIn };
  }

  private secure(req: Request): boolean {
    return cookieIsSecure(req, this.config.publicBaseUrl);
  }
}

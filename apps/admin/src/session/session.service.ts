import { Injectable, Logger } from '@nestjs/common';
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
import { clearRefreshCookie, readRefreshCookie, setRefreshCookie } from './refresh-cookie';
import type { LoginDto } from './session.dto';

/** Answers of auth to a refresh that mean "this session is over": the cookie is cleared, the answer is 401. */
const SESSION_OVER: readonly ErrorCode[] = [ErrorCode.Unauthorized, ErrorCode.BadRequest, ErrorCode.NotFound, ErrorCode.Forbidden];

/** Login, refresh and logout: auth issues the tokens, this turns them into the API answer and the cookie. */
@Injectable()
export class SessionService {
  private readonly logger = new Logger(SessionService.name);

  constructor(private readonly rpc: RpcClient) {}

  async login(body: LoginDto, req: Request, res: Response): Promise<LoginResult> {
    const request: LoginRequest = { username: body.username, password: body.password, ip: req.ip };
    return this.issue(await this.rpc.send<SessionTokens>(AuthPattern.Login, request), req, res);
  }

  async refresh(req: Request, res: Response): Promise<LoginResult> {
    const refreshToken = readRefreshCookie(req);
    if (!refreshToken) {
      clearRefreshCookie(req, res);
      throw DomainError.unauthorized('no session: log in again');
    }
    const request: RefreshRequest = { refreshToken, ip: req.ip };
    try {
      return this.issue(await this.rpc.send<SessionTokens>(AuthPattern.Refresh, request), req, res);
    } catch (e) {
      if (e instanceof DomainError && SESSION_OVER.includes(e.code)) {
        clearRefreshCookie(req, res);
        throw DomainError.unauthorized('session expired or revoked: log in again');
      }
      throw e;
    }
  }

  /** Always ends the session in this browser; auth revokes the refresh token when it can be told. */
  async logout(req: Request, res: Response): Promise<void> {
    const refreshToken = readRefreshCookie(req);
    clearRefreshCookie(req, res);
    if (!refreshToken) return;
    const request: LogoutRequest = { refreshToken };
    await this.rpc.send<unknown>(AuthPattern.Logout, request).catch((e: unknown) => {
      this.logger.warn({ code: (e as DomainError).code }, 'auth could not revoke the refresh token at logout');
    });
  }

  private issue(tokens: SessionTokens, req: Request, res: Response): LoginResult {
    setRefreshCookie(req, res, tokens.refreshToken, tokens.refreshExpiresIn);
    res.setHeader('Cache-Control', 'no-store');
    return { access_token: tokens.accessToken, token_type: 'bearer', expires_in: tokens.expiresIn };
  }
}

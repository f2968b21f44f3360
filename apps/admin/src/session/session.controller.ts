import { Controller, Get, HttpCode, Patch, Post, Req, Res } from '@nestjs/common';
import {
  AuthPattern,
  changePasswordSchema,
  loginSchema,
  type ChangePasswordInput,
  type ChangePasswordRequest,
  type LoginInput,
  type LoginResult,
  type Me,
} from '@gg/contracts';
import { ZodBody } from '@gg/nest-common';
import { ApiZodBody } from '../http/zod-openapi';
import type { Request, Response } from 'express';
import type { AuthUser } from '../security/auth-user';
import { CallerRpc } from '../security/caller-rpc';
import { AuthCaller, CheckedByAuth, Public } from '../security/decorators';
import { SessionLiveness } from '../security/session-liveness.service';
import { SessionService } from './session.service';

/** `/api/auth/*`: the admin's own session. */
@Controller('auth')
export class SessionController {
  constructor(
    private readonly session: SessionService,
    private readonly rpc: CallerRpc,
    private readonly sessions: SessionLiveness,
  ) {}

  @Public()
  @Post('login')
  @HttpCode(200)
  @ApiZodBody(loginSchema)
  login(
    @ZodBody(loginSchema) body: LoginInput,
    @Req() req: Request,
    @Res({ passthrough: true }) res: Response,
  ): Promise<LoginResult> {
    return this.session.login(body, req, res);
  }

  @Public()
  @Post('refresh')
  @HttpCode(200)
  refresh(@Req() req: Request, @Res({ passthrough: true }) res: Response): Promise<LoginResult> {
    return this.session.refresh(req, res);
  }

  @Public()
  @Post('logout')
  @HttpCode(204)
  logout(@Req() req: Request, @Res({ passthrough: true }) res: Response): Promise<void> {
    return this.session.logout(req, res);
  }

  @Get('me')
  @CheckedByAuth()
  me(@AuthCaller() caller: AuthUser): Promise<Me> {
    return this.rpc.send<Me>(caller, AuthPattern.Me);
  }

  @Patch('me/password')
  @HttpCode(204)
  @CheckedByAuth()
  @ApiZodBody(changePasswordSchema)
  async changePassword(
    @AuthCaller() caller: AuthUser,
    @ZodBody(changePasswordSchema) body: ChangePasswordInput,
  ): Promise<void> {
    await this.rpc
      .send<unknown>(caller, AuthPattern.ChangePassword, { ...body } satisfies Omit<ChangePasswordRequest, 'proof'>)
      .finally(() => this.sessions.forgetUser(caller.userId));
  }
}

import { Body, Controller, Get, HttpCode, Patch, Post, Req, Res } from '@nestjs/common';
import { AuthPattern, type ChangePasswordRequest, type LoginResult, type Me } from '@gg/contracts';
import type { Request, Response } from 'express';
import type { AuthUser } from '../security/auth-user';
import { CallerRpc } from '../security/caller-rpc';
import { AuthCaller, CheckedByAuth, Public } from '../security/decorators';
import { SessionLiveness } from '../security/session-liveness.service';
import { ChangePasswordDto, LoginDto } from './session.dto';
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
  login(@Body() body: LoginDto, @Req() req: Request, @Res({ passthrough: true }) res: Response): Promise<LoginResult> {
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
  async changePassword(@AuthCaller() caller: AuthUser, @Body() body: ChangePasswordDto): Promise<void> {
    await this.rpc
      .send<unknown>(caller, AuthPattern.ChangePassword, { ...body } satisfies Omit<ChangePasswordRequest, 'proof'>)
      .finally(() => this.sessions.forgetUser(caller.userId));
  }
}

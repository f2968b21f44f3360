import { Body, Controller, Get, HttpCode, Patch, Post, Req, Res } from '@nestjs/common';
import { AuthPattern, type Caller, type ChangePasswordRequest, type CallerRequest, type LoginResult, type Me } from '@gg/contracts';
import { RpcClient } from '@gg/nest-common';
import type { Request, Response } from 'express';
import { AuthCaller, CheckedByAuth, Public } from '../security/decorators';
import { ChangePasswordDto, LoginDto } from './session.dto';
import { SessionService } from './session.service';

/** `/api/auth/*`: the admin's own session. */
@Controller('auth')
export class SessionController {
  constructor(
    private readonly session: SessionService,
    private readonly rpc: RpcClient,
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
  me(@AuthCaller() caller: Caller): Promise<Me> {
    return this.rpc.send<Me>(AuthPattern.Me, { caller } satisfies CallerRequest);
  }

  @Patch('me/password')
  @HttpCode(204)
  @CheckedByAuth()
  async changePassword(@AuthCaller() caller: Caller, @Body() body: ChangePasswordDto): Promise<void> {
    await this.rpc.send<unknown>(AuthPattern.ChangePassword, { caller, ...body } satisfies ChangePasswordRequest);
  }
}

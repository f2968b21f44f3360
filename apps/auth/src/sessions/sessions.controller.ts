import { Controller, UseGuards } from '@nestjs/common';
import { Payload } from '@nestjs/microservices';
import { AuthPattern, loginRequestSchema, type SessionTokens } from '@gg/contracts';
import { NsMessagePattern, ZodPayload } from '@gg/nest-common';
import { LogoutProofGuard } from './logout-proof.guard';
import { LogoutDto, RefreshDto, type LoginDto } from './sessions.dto';
import { SessionsService } from './sessions.service';

@Controller()
export class SessionsController {
  constructor(private readonly sessions: SessionsService) {}

  @NsMessagePattern(AuthPattern.Login)
  login(@ZodPayload(loginRequestSchema) req: LoginDto): Promise<SessionTokens> {
    return this.sessions.login(req.username, req.password, req.ip);
  }

  @NsMessagePattern(AuthPattern.Refresh)
  refresh(@Payload() req: RefreshDto): Promise<SessionTokens> {
    return this.sessions.refresh(req.refreshToken, req.ip);
  }

  @NsMessagePattern(AuthPattern.Logout)
  @UseGuards(LogoutProofGuard)
  logout(@Payload() req: LogoutDto): Promise<null> {
    return this.sessions.logout(req.refreshToken, req.provenSessionId);
  }
}

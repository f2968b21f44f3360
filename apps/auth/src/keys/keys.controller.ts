import { Controller, UseGuards } from '@nestjs/common';
import { Payload } from '@nestjs/microservices';
import {
  type AuthKey,
  type AuthKeyWithSecret,
  AuthPattern,
  createKeyRequestSchema,
  rotateKeyRequestSchema,
  updateKeyRequestSchema,
} from '@gg/contracts';
import { NsMessagePattern, ZodPayload } from '@gg/nest-common';
import { IdRequestDto } from '../common/caller.dto';
import { CallerGuard } from '../common/caller.guard';
import { ListKeysDto, type CreateKeyDto, type RotateKeyDto, type UpdateKeyDto } from './keys.dto';
import { KeysService } from './keys.service';

/** Key management on behalf of a logged-in user (the admin forwards the caller). */
@Controller()
@UseGuards(CallerGuard)
export class KeysController {
  constructor(private readonly keys: KeysService) {}

  @NsMessagePattern(AuthPattern.KeysList)
  list(@Payload() req: ListKeysDto): Promise<AuthKey[]> {
    return this.keys.list(req.caller, req.userId);
  }

  @NsMessagePattern(AuthPattern.KeysCreate)
  create(@ZodPayload(createKeyRequestSchema) req: CreateKeyDto): Promise<AuthKeyWithSecret> {
    return this.keys.create(req.caller, {
      name: req.name,
      expiresAt: req.expiresAt,
      rateLimitPerMinute: req.rateLimitPerMinute,
      allowedModels: req.allowedModels,
    });
  }

  @NsMessagePattern(AuthPattern.KeysUpdate)
  update(@ZodPayload(updateKeyRequestSchema) req: UpdateKeyDto): Promise<AuthKey> {
    return this.keys.update(req.caller, req.id, {
      name: req.name,
      isActive: req.isActive,
      expiresAt: req.expiresAt,
      rateLimitPerMinute: req.rateLimitPerMinute,
      allowedModels: req.allowedModels,
    });
  }

  @NsMessagePattern(AuthPattern.KeysRotate)
  rotate(@ZodPayload(rotateKeyRequestSchema) req: RotateKeyDto): Promise<AuthKeyWithSecret> {
    return this.keys.rotate(req.caller, req.id, req.graceSeconds);
  }

  @NsMessagePattern(AuthPattern.KeysDelete)
  delete(@Payload() req: IdRequestDto): Promise<null> {
    return this.keys.delete(req.caller, req.id);
  }
}

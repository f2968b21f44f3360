import { IsOptional, IsString, Matches, MaxLength, MinLength } from 'class-validator';
import type { z } from 'zod';
import type {
  createKeyRequestSchema,
  KeyVerifyRequest,
  ListKeysRequest,
  rotateKeyRequestSchema,
  updateKeyRequestSchema,
} from '@gg/contracts';
import { CallerRequestDto } from '../common/caller.dto';

export class ListKeysDto extends CallerRequestDto implements ListKeysRequest {
  @IsOptional()
  @IsString()
  @MinLength(1)
  @MaxLength(64)
  userId?: string;
}

/** `auth.keys.create`/`update`/`rotate`, validated by the shared schemas of `@gg/contracts`. */
export type CreateKeyDto = z.output<typeof createKeyRequestSchema>;
export type UpdateKeyDto = z.output<typeof updateKeyRequestSchema>;
export type RotateKeyDto = z.output<typeof rotateKeyRequestSchema>;

export class KeyVerifyDto implements KeyVerifyRequest {
  @IsString()
  @Matches(/^[0-9a-f]{64}$/, { message: 'hash must be 64 lowercase hex characters' })
  hash: string;
}

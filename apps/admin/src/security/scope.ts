import { ForbiddenException } from '@nestjs/common';
import type { Caller } from '@gg/contracts';

/**
 * Whose objects a request may see: admins name any user (or none: everyone); a user only ever themselves,
 * and naming someone else is a 403.
 */
export function userScope(caller: Caller, requested: string | undefined): string | undefined {
  if (caller.role === 'admin') return requested;
  if (requested !== undefined && requested !== caller.userId)
    throw new ForbiddenException('you may only see your own objects');
  return caller.userId;
}

import type { z } from 'zod';
import type { changePasswordRequestSchema, createUserRequestSchema, updateUserRequestSchema } from '@gg/contracts';

/** The user RPC payloads, validated by the shared schemas of `@gg/contracts` (the admin checks the same ones). */
export type CreateUserDto = z.output<typeof createUserRequestSchema>;
export type UpdateUserDto = z.output<typeof updateUserRequestSchema>;
export type ChangePasswordDto = z.output<typeof changePasswordRequestSchema>;

import { z } from 'zod';
import { LOGIN_USERNAME_MAX, PASSWORD_MAX, PASSWORD_MIN, roleField, USERNAME_PATTERN } from './common';

export const USERNAME_MESSAGE = 'username must be 3-64 characters of letters, digits, "_", ".", "@" or "-"';

export const usernameField = z.string({ error: USERNAME_MESSAGE }).regex(USERNAME_PATTERN, { error: USERNAME_MESSAGE });
/** a new password: 8-1024 characters (auth also checks bcrypt's 72-byte limit) */
export const newPasswordField = (field = 'password'): z.ZodString => {
  const error = `${field} must be ${PASSWORD_MIN}-${PASSWORD_MAX} characters`;
  return z
    .string({ error })
    .min(PASSWORD_MIN, { error: `${field} must be at least ${PASSWORD_MIN} characters` })
    .max(PASSWORD_MAX, { error });
};
const requiredString = (field: string, max: number): z.ZodString =>
  z
    .string({ error: `${field} is required` })
    .min(1, { error: `${field} is required` })
    .max(max, { error: `${field} must be at most ${max} characters` });

/** `POST /api/users` (auth: `auth.users.create`). */
export const createUserSchema = z.strictObject({
  username: usernameField,
  password: newPasswordField(),
  role: roleField,
});
export type CreateUserInput = z.infer<typeof createUserSchema>;

/** `PATCH /api/users/:id` (auth: `auth.users.update`, with the id). */
export const updateUserSchema = z.strictObject({
  role: roleField.optional(),
  password: newPasswordField().optional(),
  isActive: z.boolean({ error: 'isActive must be true or false' }).optional(),
});
export type UpdateUserInput = z.infer<typeof updateUserSchema>;

/** `POST /api/auth/login` (auth: `auth.login`, with the client's address). */
export const loginSchema = z.strictObject({
  username: requiredString('username', LOGIN_USERNAME_MAX),
  password: requiredString('password', PASSWORD_MAX),
});
export type LoginInput = z.infer<typeof loginSchema>;

/** `POST /api/auth/password` (auth: `auth.me.password`). */
export const changePasswordSchema = z.strictObject({
  currentPassword: requiredString('currentPassword', PASSWORD_MAX),
  newPassword: newPasswordField('newPassword'),
});
export type ChangePasswordInput = z.infer<typeof changePasswordSchema>;

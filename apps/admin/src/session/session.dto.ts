import type { LoginInput } from '@gg/contracts';

/** The login body: `loginSchema` of `@gg/contracts` (shared with auth's `auth.login`). */
export type LoginDto = LoginInput;

import { Inject, Injectable } from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '@gg/config';
import { DomainError } from '@gg/nest-common';
import * as bcrypt from 'bcryptjs';

export const PASSWORD_MIN_LENGTH = 8;
/** bcrypt reads only the first 72 bytes; a longer password would be silently truncated, so it is refused. */
export const PASSWORD_MAX_BYTES = 72;

/** What is wrong with a password, or null when it is acceptable. */
export function passwordProblem(password: string): string | null {
  if (password.length < PASSWORD_MIN_LENGTH) return `password must be at least ${PASSWORD_MIN_LENGTH} characters`;
  if (Buffer.byteLength(password, 'utf8') > PASSWORD_MAX_BYTES) {
    return `password must be at most ${PASSWORD_MAX_BYTES} bytes (bcrypt ignores anything longer)`;
  }
  return null;
}

/** bcrypt hashing and checking of passwords, with the policy above. */
@Injectable()
export class PasswordService {
  private dummyHash: Promise<string> | undefined;

  constructor(@Inject(APP_CONFIG) private readonly config: AppConfig) {}

  /** Hash a new password; BAD_REQUEST when it breaks the policy. */
  async hash(password: string): Promise<string> {
    const problem = passwordProblem(password);
    if (problem) throw DomainError.badRequest(problem);
    return bcrypt.hash(password, this.config.bcryptCost);
  }

  /**
   * True when `password` matches `hash`. With no hash (unknown user) a comparison still runs against a dummy hash
   * of the same cost, so an unknown username takes as long as a wrong password.
   */
  async verify(password: string, hash: string | null): Promise<boolean> {
    const tooLong = Buffer.byteLength(password, 'utf8') > PASSWORD_MAX_BYTES;
    const target = hash && !tooLong ? hash : await this.dummy();
    const ok = await bcrypt.compare(password, target);
    return ok && hash !== null && !tooLong;
  }

  private dummy(): Promise<string> {
    this.dummyHash ??= bcrypt.hash('not-a-password-' + Math.random(), this.config.bcryptCost);
    return this.dummyHash;
  }
}

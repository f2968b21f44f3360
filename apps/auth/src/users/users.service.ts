import { Inject, Injectable, Logger } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import type { Caller, Me, Role, User } from '@gg/contracts';
import { type AuthKeyRow, DB_MANAGER, type DbManager, type UserRow } from '@gg/db';
import { DomainError, KeyedMutex } from '@gg/nest-common';
import { PasswordService } from '../common/password.service';
import { AuthEventsService } from '../events/auth-events.service';
import { toMe, toUser } from './user.mapper';

export interface NewUser {
  username: string;
  password: string;
  role: Role;
}

export interface UserPatch {
  role?: Role;
  password?: string;
  isActive?: boolean;
}

/** Every secret hash of these keys, the previous one of a rotation with grace included. */
function hashesOf(keys: AuthKeyRow[]): string[] {
  return keys.flatMap((k) => (k.previousHash ? [k.hash, k.previousHash] : [k.hash]));
}

const LAST_ADMIN = 'the last active admin cannot be deleted, demoted or deactivated; make another user admin first';

/** Users: the accounts that log in to the admin. Auth is their only writer. */
@Injectable()
export class UsersService {
  private readonly logger = new Logger(UsersService.name);
  /** user changes that could remove the last admin run one at a time */
  private readonly mutex = new KeyedMutex();

  constructor(
    @Inject(DB_MANAGER) private readonly db: DbManager,
    private readonly passwords: PasswordService,
    private readonly events: AuthEventsService,
  ) {}

  async list(): Promise<User[]> {
    const rows = await this.db.users.list();
    return rows.sort((a, b) => a.createdAt.localeCompare(b.createdAt)).map(toUser);
  }

  async create(input: NewUser): Promise<User> {
    if (await this.db.users.findByUsername(input.username)) throw DomainError.conflict('username already taken');
    const passwordHash = await this.passwords.hash(input.password);
    try {
      const row = await this.db.users.create({
        id: randomUUID(),
        username: input.username,
        passwordHash,
        role: input.role,
        isActive: true,
        tokenVersion: 0,
        createdAt: new Date().toISOString(),
      });
      this.logger.log({ userId: row.id, role: row.role }, 'user created');
      return toUser(row);
    } catch (e) {
      if ((e as Error)?.name === 'UniqueViolationError') throw DomainError.conflict('username already taken');
      throw e;
    }
  }

  /** Role, password and active changes end the user's sessions (tokenVersion); active changes reach the gateways. */
  update(id: string, patch: UserPatch): Promise<User> {
    return this.mutex.run('users', async () => {
      const user = await this.mustFind(id);
      const demotes = patch.role !== undefined && patch.role !== 'admin';
      const deactivates = patch.isActive === false;
      if (user.role === 'admin' && user.isActive && (demotes || deactivates)) await this.assertNotLastAdmin(user.id);
      const changes: Partial<Omit<UserRow, 'id' | 'createdAt'>> = {};
      if (patch.password !== undefined) changes.passwordHash = await this.passwords.hash(patch.password);
      if (patch.role !== undefined && patch.role !== user.role) changes.role = patch.role;
      if (patch.isActive !== undefined && patch.isActive !== user.isActive) changes.isActive = patch.isActive;
      if (Object.keys(changes).length === 0) return toUser(user);
      changes.tokenVersion = user.tokenVersion + 1;
      const updated = await this.db.users.update(id, changes);
      if (!updated) throw DomainError.notFound('user not found');
      if (changes.isActive !== undefined) await this.notifyKeysChanged(id);
      this.logger.log(
        { userId: id, changed: Object.keys(changes).filter((k) => k !== 'tokenVersion') },
        'user updated',
      );
      return toUser(updated);
    });
  }

  /** Deletes the user and their keys; request logs stay as history. */
  delete(id: string): Promise<null> {
    return this.mutex.run('users', async () => {
      const user = await this.mustFind(id);
      if (user.role === 'admin' && user.isActive) await this.assertNotLastAdmin(user.id);
      const hashes = hashesOf(await this.db.authKeys.listByUser(id));
      await this.db.authKeys.deleteByUser(id);
      await this.db.users.delete(id);
      this.events.keyChanged(hashes);
      this.logger.log({ userId: id, keys: hashes.length }, 'user deleted');
      return null;
    });
  }

  async me(caller: Caller): Promise<Me> {
    return toMe(await this.mustFindCaller(caller));
  }

  /** Checks the current password; ends every session of the user, this one's refresh token included. */
  async changePassword(caller: Caller, currentPassword: string, newPassword: string): Promise<null> {
    const user = await this.mustFindCaller(caller);
    if (!(await this.passwords.verify(currentPassword, user.passwordHash))) {
      throw DomainError.badRequest('current password is wrong');
    }
    const passwordHash = await this.passwords.hash(newPassword);
    await this.db.users.update(user.id, { passwordHash, tokenVersion: user.tokenVersion + 1 });
    this.logger.log({ userId: user.id }, 'password changed');
    return null;
  }

  private async assertNotLastAdmin(exceptId: string): Promise<void> {
    const others = (await this.db.users.list()).filter((u) => u.role === 'admin' && u.isActive && u.id !== exceptId);
    if (others.length === 0) throw DomainError.conflict(LAST_ADMIN);
  }

  private async notifyKeysChanged(userId: string): Promise<void> {
    this.events.keyChanged(hashesOf(await this.db.authKeys.listByUser(userId)));
  }

  private async mustFind(id: string): Promise<UserRow> {
    const user = await this.db.users.findById(id);
    if (!user) throw DomainError.notFound('user not found');
    return user;
  }

  private async mustFindCaller(caller: Caller): Promise<UserRow> {
    const user = await this.db.users.findById(caller.userId);
    if (!user || !user.isActive) throw DomainError.unauthorized('session is no longer valid; please log in again');
    return user;
  }
}

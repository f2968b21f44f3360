import type { Me, User } from '@gg/contracts';
import type { UserRow } from '@gg/db';

export function toUser(row: UserRow): User {
  return { id: row.id, username: row.username, role: row.role, isActive: row.isActive, createdAt: row.createdAt };
}

export function toMe(row: UserRow): Me {
  return { id: row.id, username: row.username, role: row.role };
}

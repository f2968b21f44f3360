import { randomUUID } from 'node:crypto';
import { Inject, Injectable, Logger } from '@nestjs/common';
import type { AuditEntry, AuditEvent, AuditQuery, Caller, Page } from '@gg/contracts';
import { DB_MANAGER, type DbManager } from '@gg/db';

/** The audit log of admin actions: auth stores what the admin reports, and answers admins' queries. */
@Injectable()
export class AuditService {
  private readonly logger = new Logger(AuditService.name);

  constructor(@Inject(DB_MANAGER) private readonly db: DbManager) {}

  /**
   * Store an entry for `actor` (proven by the caller proof). The actor's username is read from the database when
   * the user still exists (the admin's token may carry an older one), else the one the admin sent is kept.
   */
  async record(actor: Caller, event: AuditEvent, now = new Date()): Promise<AuditEntry> {
    const user = await this.db.users.findById(actor.userId);
    const entry: AuditEntry = {
      id: randomUUID(),
      at: now.toISOString(),
      actorId: actor.userId,
      ...event,
      actorName: user?.username ?? event.actorName,
    };
    await this.db.audit.insert(entry);
    this.logger.log({ auditId: entry.id, actorId: entry.actorId, action: entry.action }, 'admin action audited');
    return entry;
  }

  query(query: AuditQuery): Promise<Page<AuditEntry>> {
    return this.db.audit.query(query);
  }
}

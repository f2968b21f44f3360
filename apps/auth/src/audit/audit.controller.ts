import { Controller, UseGuards } from '@nestjs/common';
import {
  AuthPattern,
  auditQueryRequestSchema,
  auditRecordRequestSchema,
  type AuditEntry,
  type Page,
} from '@gg/contracts';
import { NsMessagePattern, ZodPayload } from '@gg/nest-common';
import type { z } from 'zod';
import { AdminOnly, CallerGuard } from '../common/caller.guard';
import { AuditRecordGuard } from './audit-record.guard';
import { AuditService } from './audit.service';

type AuditRecordDto = z.output<typeof auditRecordRequestSchema>;
type AuditQueryDto = z.output<typeof auditQueryRequestSchema>;

@Controller()
export class AuditController {
  constructor(private readonly audit: AuditService) {}

  /** Answers the new entry's id and time (the admin does not wait on anything else). */
  @NsMessagePattern(AuthPattern.AuditRecord)
  @UseGuards(AuditRecordGuard)
  async record(@ZodPayload(auditRecordRequestSchema) req: AuditRecordDto): Promise<{ id: string; at: string }> {
    const entry = await this.audit.record(req.caller, req.event);
    return { id: entry.id, at: entry.at };
  }

  @NsMessagePattern(AuthPattern.AuditQuery)
  @UseGuards(CallerGuard)
  @AdminOnly()
  query(@ZodPayload(auditQueryRequestSchema) req: AuditQueryDto): Promise<Page<AuditEntry>> {
    return this.audit.query(req.query);
  }
}

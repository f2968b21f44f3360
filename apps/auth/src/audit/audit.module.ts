import { Module } from '@nestjs/common';
import { CallerGuard } from '../common/caller.guard';
import { AuditRecordGuard } from './audit-record.guard';
import { AuditController } from './audit.controller';
import { AuditService } from './audit.service';

@Module({
  controllers: [AuditController],
  providers: [AuditService, CallerGuard, AuditRecordGuard],
})
export class AuditModule {}

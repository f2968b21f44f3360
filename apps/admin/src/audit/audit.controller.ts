import { Controller, Get, Logger, Res } from '@nestjs/common';
import {
  AuthPattern,
  auditExportQuerySchema,
  auditQuerySchema,
  LOGS_PAGE_MAX,
  type AuditEntry,
  type AuditExportQueryInput,
  type AuditQueryInput,
  type AuditQueryRequest,
  type Page,
} from '@gg/contracts';
import { ZodQuery } from '@gg/nest-common';
import type { Response } from 'express';
import { ApiZodQuery } from '../http/zod-openapi';
import type { AuthUser } from '../security/auth-user';
import { CallerRpc } from '../security/caller-rpc';
import { AuthCaller, CheckedByAuth, Roles } from '../security/decorators';

/** `/api/audit`: the audit log of admin actions, admins only (auth checks the role again). */
@Controller('audit')
@Roles('admin')
@CheckedByAuth()
export class AuditController {
  private readonly logger = new Logger(AuditController.name);

  constructor(private readonly rpc: CallerRpc) {}

  @Get()
  @ApiZodQuery(auditQuerySchema)
  query(@AuthCaller() caller: AuthUser, @ZodQuery(auditQuerySchema) query: AuditQueryInput): Promise<Page<AuditEntry>> {
    return this.page(caller, query);
  }

  /**
   * Every matching entry, newest first, one JSON object a line (`application/x-ndjson`), fetched from auth a page
   * at a time and written as it comes, so memory stays bounded whatever the size of the log.
   */
  @Get('export')
  @ApiZodQuery(auditExportQuerySchema)
  async export(
    @AuthCaller() caller: AuthUser,
    @ZodQuery(auditExportQuerySchema) filters: AuditExportQueryInput,
    @Res() res: Response,
  ): Promise<void> {
    // the first page before any header: an error there is still an ordinary error answer
    let page = await this.page(caller, { ...filters, limit: LOGS_PAGE_MAX });
    res.status(200);
    res.setHeader('Content-Type', 'application/x-ndjson; charset=utf-8');
    res.setHeader(
      'Content-Disposition',
      `attachment; filename="audit-${new Date().toISOString().slice(0, 10)}.ndjson"`,
    );
    res.setHeader('Cache-Control', 'no-store');
    try {
      for (;;) {
        const chunk = page.items.map((e) => JSON.stringify(e) + '\n').join('');
        if (chunk && !res.write(chunk))
          await new Promise((resolve) => {
            res.once('drain', resolve);
            res.once('close', resolve);
          });
        if (!page.nextCursor || res.destroyed) break;
        page = await this.page(caller, { ...filters, limit: LOGS_PAGE_MAX, cursor: page.nextCursor });
      }
      res.end();
    } catch (err) {
      // headers are out: the only way left to say the export is incomplete is to cut it short
      this.logger.error({ err: (err as Error).message }, 'audit export failed midway');
      res.destroy(err as Error);
    }
  }

  private page(caller: AuthUser, query: AuditQueryInput): Promise<Page<AuditEntry>> {
    return this.rpc.send<Page<AuditEntry>>(caller, AuthPattern.AuditQuery, { query } satisfies Omit<
      AuditQueryRequest,
      'proof'
    >);
  }
}

import { Controller, Get, Patch, Req } from '@nestjs/common';
import {
  AuditAction,
  SettingsPattern,
  settingsPatchSchema,
  type AuditValue,
  type SettingsPatch,
  type SettingsUpdateRequest,
  type SettingsUpdateResult,
  type SettingsValues,
  type SettingsView,
} from '@gg/contracts';
import { ZodBody } from '@gg/nest-common';
import type { Request } from 'express';
import { AuditRecorder } from '../audit/audit-recorder.service';
import { ApiZodBody } from '../http/zod-openapi';
import type { AuthUser } from '../security/auth-user';
import { CallerRpc } from '../security/caller-rpc';
import { AuthCaller, Roles } from '../security/decorators';

/** Most entries of a list an audit entry holds (the audit log's own limit). */
const AUDIT_LIST_MAX = 100;

/**
 * `/api/settings`: the runtime settings and the model catalogue, admins only. Key-pool owns them: it validates a
 * change again with what is stored (pinned settings: 409; a backoff cap below its base: 400), stores it and pushes
 * it to every replica. Every change is audited with the new value of each setting it changed.
 */
@Controller('settings')
@Roles('admin')
export class SettingsController {
  constructor(
    private readonly rpc: CallerRpc,
    private readonly audit: AuditRecorder,
  ) {}

  @Get()
  get(@AuthCaller() caller: AuthUser): Promise<SettingsView> {
    return this.rpc.send<SettingsView>(caller, SettingsPattern.Get);
  }

  @Patch()
  @ApiZodBody(settingsPatchSchema)
  async update(
    @AuthCaller() caller: AuthUser,
    // a 400 naming each bad field here already; key-pool checks it again with what is stored
    @ZodBody(settingsPatchSchema) patch: SettingsPatch,
    @Req() req: Request,
  ): Promise<SettingsView> {
    const result = await this.rpc.send<SettingsUpdateResult>(caller, SettingsPattern.Update, {
      patch,
    } satisfies SettingsUpdateRequest);
    if (Object.keys(result.changed).length > 0) {
      await this.audit.record(caller, req, {
        action: AuditAction.SettingsUpdate,
        targetType: 'settings',
        targetId: null,
        targetName: null,
        changes: auditChanges(result.changed),
      });
    }
    return result.view;
  }
}

/** Each changed setting's new value as the audit log holds values: aliases as `alias=model` lines. */
export function auditChanges(changed: Partial<SettingsValues>): Record<string, AuditValue> {
  const out: Record<string, AuditValue> = {};
  for (const [name, value] of Object.entries(changed)) {
    if (Array.isArray(value)) out[name] = value.slice(0, AUDIT_LIST_MAX);
    else if (value !== null && typeof value === 'object') {
      out[name] = Object.entries(value as Record<string, string>)
        .slice(0, AUDIT_LIST_MAX)
        .map(([alias, model]) => `${alias}=${model}`);
    } else out[name] = value as AuditValue;
  }
  return out;
}

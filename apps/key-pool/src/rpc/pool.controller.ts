import { Controller, Logger, UseGuards } from '@nestjs/common';
import { Payload } from '@nestjs/microservices';
import {
  addPoolKeysRequestSchema,
  PoolEvent,
  PoolPattern,
  type AddPoolKeysResult,
  type KeyCheckResult,
  type PoolKey,
  type PoolSnapshot,
} from '@gg/contracts';
import { NsEventPattern, NsMessagePattern, ZodPayload } from '@gg/nest-common';
import { KeyCheckService } from '../keys/key-check.service';
import { PoolKeysService } from '../keys/pool-keys.service';
import { InFlightService } from '../state/in-flight.service';
import { PoolStateService } from '../state/pool-state.service';
import { ResourceRecordsService } from '../resources/resource-records.service';
import { AdminProofGuard } from './admin-proof.guard';
import { InFlightReportDto, parseOutcomeBatch, PoolKeyIdDto, type AddPoolKeysDto } from './pool.dto';

/** key-pool's RPCs (admin, gateways) and the events it consumes from gateways. */
@Controller()
export class PoolController {
  private readonly logger = new Logger(PoolController.name);

  constructor(
    private readonly pool: PoolStateService,
    private readonly keys: PoolKeysService,
    private readonly checks: KeyCheckService,
    private readonly inFlight: InFlightService,
    private readonly resources: ResourceRecordsService,
  ) {}

  @NsMessagePattern(PoolPattern.Snapshot)
  snapshot(): PoolSnapshot {
    return this.pool.snapshot();
  }

  @NsMessagePattern(PoolPattern.List)
  @UseGuards(AdminProofGuard)
  list(): Promise<PoolKey[]> {
    return this.resources.withCounts(this.keys.list());
  }

  @NsMessagePattern(PoolPattern.Add)
  @UseGuards(AdminProofGuard)
  add(@ZodPayload(addPoolKeysRequestSchema) dto: AddPoolKeysDto): Promise<AddPoolKeysResult> {
    return this.keys.add(dto.keys);
  }

  @NsMessagePattern(PoolPattern.Delete)
  @UseGuards(AdminProofGuard)
  async delete(@Payload() dto: PoolKeyIdDto): Promise<{ deleted: true }> {
    await this.keys.delete(dto.id);
    return { deleted: true };
  }

  @NsMessagePattern(PoolPattern.Reset)
  @UseGuards(AdminProofGuard)
  reset(@Payload() dto: PoolKeyIdDto): PoolKey {
    return this.keys.reset(dto.id);
  }

  @NsMessagePattern(PoolPattern.ResetAll)
  @UseGuards(AdminProofGuard)
  resetAll(): PoolKey[] {
    return this.keys.resetAll();
  }

  @NsMessagePattern(PoolPattern.Check)
  @UseGuards(AdminProofGuard)
  check(@Payload() dto: PoolKeyIdDto): Promise<KeyCheckResult> {
    return this.checks.check(dto.id);
  }

  /**
   * Typed `unknown` so that the global ValidationPipe lets it through untouched (it validates class types only):
   * parseOutcomeBatch checks the same rules by hand, once per event, at a fraction of the cost.
   */
  @NsEventPattern(PoolEvent.Outcome)
  outcome(@Payload() payload: unknown): void {
    const batch = parseOutcomeBatch(payload);
    if (!batch) {
      this.logger.warn('malformed outcome batch ignored');
      return;
    }
    this.pool.applyOutcomes(batch.outcomes, Date.now(), batch.gatewayId, batch.seq);
  }

  @NsEventPattern(PoolEvent.InFlight)
  inflight(@Payload() report: InFlightReportDto): void {
    this.inFlight.record(report);
  }
}

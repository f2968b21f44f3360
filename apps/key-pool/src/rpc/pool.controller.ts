import { Controller, Logger, UseGuards } from '@nestjs/common';
import { Payload } from '@nestjs/microservices';
import {
  addPoolKeysRequestSchema,
  addProxySchema,
  bindProxyRequestSchema,
  PoolEvent,
  PoolPattern,
  type AddPoolKeysResult,
  type KeyCheckResult,
  type PoolKey,
  type PoolSnapshot,
  type UpstreamProxy,
} from '@gg/contracts';
import { NsEventPattern, NsMessagePattern, ZodPayload } from '@gg/nest-common';
import { KeyCheckService } from '../keys/key-check.service';
import { PoolKeysService } from '../keys/pool-keys.service';
import { ProxiesService } from '../proxies/proxies.service';
import { InFlightService } from '../state/in-flight.service';
import { PoolStateService } from '../state/pool-state.service';
import { ResourceRecordsService } from '../resources/resource-records.service';
import { AdminProofGuard } from './admin-proof.guard';
import {
  InFlightReportDto,
  parseOutcomeBatch,
  parseProxyFailure,
  PoolKeyIdDto,
  type AddPoolKeysDto,
  type AddProxyDto,
  type BindProxyDto,
} from './pool.dto';

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
    private readonly proxies: ProxiesService,
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

  @NsMessagePattern(PoolPattern.Bind)
  @UseGuards(AdminProofGuard)
  async bind(@ZodPayload(bindProxyRequestSchema) dto: BindProxyDto): Promise<PoolKey> {
    await this.proxies.bind(dto.id, dto.proxyId);
    return this.keys.get(dto.id);
  }

  @NsMessagePattern(PoolPattern.ProxiesList)
  @UseGuards(AdminProofGuard)
  proxiesList(): UpstreamProxy[] {
    return this.proxies.list();
  }

  @NsMessagePattern(PoolPattern.ProxiesAdd)
  @UseGuards(AdminProofGuard)
  proxiesAdd(@ZodPayload(addProxySchema) dto: AddProxyDto): Promise<UpstreamProxy> {
    return this.proxies.add(dto.url);
  }

  @NsMessagePattern(PoolPattern.ProxiesDelete)
  @UseGuards(AdminProofGuard)
  proxiesDelete(@Payload() dto: PoolKeyIdDto): Promise<UpstreamProxy> {
    return this.proxies.delete(dto.id);
  }

  @NsEventPattern(PoolEvent.ProxyFailure)
  proxyFailure(@Payload() payload: unknown): void {
    const report = parseProxyFailure(payload);
    if (report) this.proxies.failed(report);
    else this.logger.warn('malformed proxy failure report ignored');
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

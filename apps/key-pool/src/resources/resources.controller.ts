import { Controller, UseGuards } from '@nestjs/common';
import { Payload } from '@nestjs/microservices';
import { ResourcePattern, type ResourceCounts, type ResourceRecord } from '@gg/contracts';
import { NsMessagePattern } from '@gg/nest-common';
import { IsString, Matches } from 'class-validator';
import { AdminProofGuard } from '../rpc/admin-proof.guard';
import { PoolKeysService } from '../keys/pool-keys.service';
import { ResourceRecordsService } from './resource-records.service';

export class ResourcesByUserDto {
  @IsString()
  @Matches(/^[A-Za-z0-9_.:-]{1,64}$/)
  userId: string;
}

/** The admin's view of resource ownership (RPCs, an admin's caller proof required). */
@Controller()
export class ResourcesController {
  constructor(
    private readonly records: ResourceRecordsService,
    private readonly keys: PoolKeysService,
  ) {}

  @NsMessagePattern(ResourcePattern.ByUser)
  @UseGuards(AdminProofGuard)
  byUser(@Payload() dto: ResourcesByUserDto): Promise<ResourceRecord[]> {
    return this.records.byUser(dto.userId);
  }

  @NsMessagePattern(ResourcePattern.CountsByKey)
  @UseGuards(AdminProofGuard)
  counts(): Promise<ResourceCounts> {
    return this.records.counts(this.keys.list().map((k) => k.id));
  }
}

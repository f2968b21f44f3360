import { Module } from '@nestjs/common';
import { ServiceLogsController } from './service-logs.controller';
import { ServiceLogsService } from './service-logs.service';

@Module({
  controllers: [ServiceLogsController],
  providers: [ServiceLogsService],
})
export class ServiceLogsModule {}

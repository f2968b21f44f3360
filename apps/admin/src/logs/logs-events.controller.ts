import { Controller } from '@nestjs/common';
import { Payload } from '@nestjs/microservices';
import { AuthEvent, type RequestLog } from '@gg/contracts';
import { NsEventPattern } from '@gg/nest-common';
import { LogStreamService } from './log-stream.service';

/** Events over the Redis transport: every admin replica receives every announcement. */
@Controller()
export class LogsEventsController {
  constructor(private readonly logStream: LogStreamService) {}

  @NsEventPattern(AuthEvent.LogsAppended)
  logsAppended(@Payload() logs: RequestLog[]): void {
    this.logStream.publish(logs);
  }
}

import { IsIn } from 'class-validator';
import { STREAMS, type StreamName } from './stream-ticket.store';

export class StreamTicketDto {
  @IsIn(STREAMS, { message: `stream must be one of ${STREAMS.join(', ')}` })
  stream: StreamName;
}

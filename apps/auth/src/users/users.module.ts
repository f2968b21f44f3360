import { Module } from '@nestjs/common';
import { CallerGuard } from '../common/caller.guard';
import { PasswordService } from '../common/password.service';
import { EventsModule } from '../events/events.module';
import { FirstAdminService } from './first-admin.service';
import { UsersController } from './users.controller';
import { UsersService } from './users.service';

@Module({
  imports: [EventsModule],
  controllers: [UsersController],
  providers: [UsersService, PasswordService, FirstAdminService, CallerGuard],
  exports: [PasswordService],
})
export class UsersModule {}

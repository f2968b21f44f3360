import { Inject, Injectable, Logger, type OnApplicationBootstrap } from '@nestjs/common';
import { randomBytes } from 'node:crypto';
import { APP_CONFIG, type AppConfig } from '@gg/config';
import { DB_MANAGER, type DbManager } from '@gg/db';
import { DomainError } from '@gg/nest-common';
import { passwordProblem } from '../common/password.service';
import { UsersService } from './users.service';

/** On the very first start (no users at all) creates the admin from ADMIN_USERNAME / ADMIN_PASSWORD. */
@Injectable()
export class FirstAdminService implements OnApplicationBootstrap {
  private readonly logger = new Logger(FirstAdminService.name);

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(DB_MANAGER) private readonly db: DbManager,
    private readonly users: UsersService,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    if ((await this.db.users.count()) > 0) return;
    const username = this.config.adminUsername;
    const given = this.config.adminPassword;
    if (given !== null) {
      const problem = passwordProblem(given);
      if (problem) throw DomainError.badRequest(`ADMIN_PASSWORD: ${problem}`);
    }
    const password = given ?? randomBytes(18).toString('base64url');
    await this.users.create({ username, password, role: 'admin' });
    if (given === null) {
      // The one place a secret is printed, by design: the generated password, once, at creation.
      process.stdout.write(
        `\n*** First admin created: username=${username} password=${password} (shown once; change it after logging in) ***\n\n`,
      );
    } else {
      this.logger.log({ username }, 'first admin created with the password from ADMIN_PASSWORD');
    }
  }
}

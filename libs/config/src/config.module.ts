import { Global, Module } from '@nestjs/common';
import { getConfig } from './config';

/** Injection token of the validated AppConfig. */
export const APP_CONFIG = Symbol('APP_CONFIG');

@Global()
@Module({
  providers: [{ provide: APP_CONFIG, useFactory: getConfig }],
  exports: [APP_CONFIG],
})
export class ConfigModule {}
